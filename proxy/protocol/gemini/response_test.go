package gemini

import (
	"encoding/json"
	"reflect"
	"testing"

	"google.golang.org/genai"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/usage"
	"github.com/sluicehq/sluice/tokens"
)

var generate = &protocol.Request{Model: "gemini-2.0-flash"}

func TestDecodeResponseFixtures(t *testing.T) {
	tests := []struct {
		file string
		want protocol.Response
	}{
		{"answer_text.json", protocol.Response{
			ID: "mAitaLmkHPPlz7IPvtfUqQ4", Model: "gemini-2.0-flash", Finish: protocol.FinishStop,
			Parts: []protocol.Part{{Type: protocol.PartText, Text: "AI learns patterns from data to make predictions or decisions without being explicitly programmed for each task."}},
			Usage: usage.Usage{Tokens: tokens.Tokens{InputTokens: 8, OutputTokens: 19}, Found: true},
		}},
		{"answer_tools.json", protocol.Response{
			ID: "zQitaI3KBteyz7IPkq6ZwAE", Model: "gemini-2.5-flash", Finish: protocol.FinishToolCalls,
			Parts: []protocol.Part{
				{Type: protocol.PartToolCall, ID: "call_0", Name: "get_weather", Arguments: `{"location":"Paris","unit":"celsius"}`, Signature: "Q2lVQnlFQThmZmFsc2U="},
				{Type: protocol.PartToolCall, ID: "call_1", Name: "get_weather", Arguments: `{"location":"London","unit":"celsius"}`},
			},
			Usage: usage.Usage{Tokens: tokens.Tokens{InputTokens: 85, OutputTokens: 95}, ReasoningTokens: 59, Found: true},
		}},
		{"answer_image.json", protocol.Response{
			ID: "hAmtaP6RJ_Pdz7IP7J-rOQ", Model: "gemini-2.0-flash", Finish: protocol.FinishStop,
			Parts: []protocol.Part{{Type: protocol.PartText, Text: "The image shows a red fox sitting in a snowy field, looking toward the camera."}},
			Usage: usage.Usage{Tokens: tokens.Tokens{InputTokens: 264, OutputTokens: 17}, Found: true},
		}},
		{"answer_structured.json", protocol.Response{
			ID: "3gmtaJHjMs2hz7IPrMLnkQE", Model: "gemini-2.0-flash", Finish: protocol.FinishStop,
			Parts: []protocol.Part{{Type: protocol.PartText, Text: `[{"recipeName": "Chocolate Chip Cookies", "ingredients": ["flour", "butter", "sugar", "chocolate chips"]}]`}},
			Usage: usage.Usage{Tokens: tokens.Tokens{InputTokens: 12, OutputTokens: 28}, Found: true},
		}},
		{"answer_reasoning.json", protocol.Response{
			ID: "9AmtaKzUFfLaz7IPj8Sb0Qo", Model: "gemini-2.5-pro", Finish: protocol.FinishStop,
			Parts: []protocol.Part{
				{Type: protocol.PartThinking, Text: "**Counting the primes**\n\nI list the primes below 20: 2, 3, 5, 7, 11, 13, 17, 19. That is eight."},
				{Type: protocol.PartText, Text: "There are 8 prime numbers below 20.", Signature: "Q2lRQjBlMlBoMm1zaWduZWQ="},
			},
			Usage: usage.Usage{Tokens: tokens.Tokens{InputTokens: 2059, OutputTokens: 223, CachedInputTokens: 2048}, ReasoningTokens: 212, Found: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			resp, err := API.DecodeResponse(generate, readFixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*resp, tt.want) {
				t.Errorf("got  %+v\nwant %+v", *resp, tt.want)
			}
		})
	}
}

func TestDecodeResponseCases(t *testing.T) {
	tests := []struct {
		name string
		req  *protocol.Request
		body string
		want protocol.Response
	}{
		{"prompt blocked", generate, `{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":7,"totalTokenCount":7}}`,
			protocol.Response{Model: "gemini-2.0-flash", Finish: protocol.FinishContentFilter, Usage: usage.Usage{Tokens: tokens.Tokens{InputTokens: 7}, Found: true}}},
		{"tool-use prompt tokens and a signature-only part", generate,
			`{"candidates":[{"content":{"role":"model","parts":[{"text":"Hi"},{"text":"","thoughtSignature":"c2ln"}]},"finishReason":"MAX_TOKENS"}],"usageMetadata":{"promptTokenCount":7,"toolUsePromptTokenCount":3,"candidatesTokenCount":2}}`,
			protocol.Response{Model: "gemini-2.0-flash", Finish: protocol.FinishLength, Parts: []protocol.Part{{Type: protocol.PartText, Text: "Hi", Signature: "c2ln"}}, Usage: usage.Usage{Tokens: tokens.Tokens{InputTokens: 10, OutputTokens: 2}, Found: true}}},
		{"count tokens", &protocol.Request{Op: protocol.OpCountTokens, Model: "m"}, `{"totalTokens": 31, "promptTokensDetails":[]}`,
			protocol.Response{Model: "m", InputTokens: 31}},
		{"embeddings", &protocol.Request{Op: protocol.OpEmbed, Model: "e"}, `{"embeddings":[{"values":[0.1,-0.2]},{"values":[0.3]}]}`,
			protocol.Response{Model: "e", Embeddings: [][]float64{{0.1, -0.2}, {0.3}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := API.DecodeResponse(tt.req, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*resp, tt.want) {
				t.Errorf("got  %+v\nwant %+v", *resp, tt.want)
			}
		})
	}
}

func TestFinish(t *testing.T) {
	tests := []struct {
		reason string
		calls  bool
		want   protocol.Finish
	}{
		{"STOP", false, protocol.FinishStop},
		{"STOP", true, protocol.FinishToolCalls},
		{"MAX_TOKENS", false, protocol.FinishLength},
		{"SAFETY", false, protocol.FinishContentFilter},
		{"RECITATION", false, protocol.FinishContentFilter},
		{"BLOCKLIST", false, protocol.FinishContentFilter},
		{"PROHIBITED_CONTENT", false, protocol.FinishContentFilter},
		{"SPII", false, protocol.FinishContentFilter},
		{"MALFORMED_FUNCTION_CALL", true, protocol.FinishError},
		{"OTHER", false, protocol.FinishError},
	}
	for _, tt := range tests {
		if got := finish(tt.reason, tt.calls); got != tt.want {
			t.Errorf("finish(%s, %v) = %s, want %s", tt.reason, tt.calls, got, tt.want)
		}
	}
}

// sdkResponse reads b as the genai SDK does.
func sdkResponse(t *testing.T, b []byte) *genai.GenerateContentResponse {
	t.Helper()
	var r genai.GenerateContentResponse
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("genai cannot read %s: %v", b, err)
	}
	return &r
}

func TestEncodeResponseSDK(t *testing.T) {
	resp := &protocol.Response{
		ID:    "resp_1",
		Model: "claude-sonnet-4-5",
		Parts: []protocol.Part{
			{Type: protocol.PartThinking, Text: "Let me check.", Signature: "c2ln"},
			{Type: protocol.PartText, Text: "Checking the weather."},
			{Type: protocol.PartToolCall, ID: "toolu_01", Name: "get_weather", Arguments: `{"location":"Paris"}`},
			{Type: protocol.PartToolCall, ID: "toolu_02", Name: "get_time"},
			{Type: protocol.PartRedactedThinking, Data: "opaque"},
		},
		Finish: protocol.FinishToolCalls,
		Usage:  usage.Usage{Tokens: tokens.Tokens{InputTokens: 120, OutputTokens: 50, CachedInputTokens: 100}, ReasoningTokens: 20, Found: true},
	}
	b, err := API.EncodeResponse(generate, resp)
	if err != nil {
		t.Fatal(err)
	}
	r := sdkResponse(t, b)
	if got := r.Text(); got != "Checking the weather." {
		t.Errorf("Text() = %q", got)
	}
	calls := r.FunctionCalls()
	if len(calls) != 2 || calls[0].ID != "toolu_01" || calls[0].Name != "get_weather" || calls[0].Args["location"] != "Paris" ||
		calls[1].ID != "toolu_02" || calls[1].Args == nil {
		t.Errorf("FunctionCalls() = %+v", calls)
	}
	parts := r.Candidates[0].Content.Parts
	if len(parts) != 4 || !parts[0].Thought || string(parts[0].ThoughtSignature) != "sig" {
		t.Errorf("thought part = %+v", parts[0])
	}
	if r.Candidates[0].FinishReason != genai.FinishReasonStop || r.ResponseID != "resp_1" || r.ModelVersion != "claude-sonnet-4-5" {
		t.Errorf("candidate = %+v, id %q, model %q", r.Candidates[0], r.ResponseID, r.ModelVersion)
	}
	u := r.UsageMetadata
	if u.PromptTokenCount != 120 || u.CandidatesTokenCount != 30 || u.ThoughtsTokenCount != 20 || u.CachedContentTokenCount != 100 || u.TotalTokenCount != 170 {
		t.Errorf("UsageMetadata = %+v", u)
	}
}

func TestEncodeResponseOtherOps(t *testing.T) {
	b, err := API.EncodeResponse(&protocol.Request{Op: protocol.OpCountTokens}, &protocol.Response{InputTokens: 42})
	if err != nil {
		t.Fatal(err)
	}
	var count genai.CountTokensResponse
	if err := json.Unmarshal(b, &count); err != nil || count.TotalTokens != 42 {
		t.Errorf("count = %s (%v)", b, err)
	}
	b, err = API.EncodeResponse(&protocol.Request{Op: protocol.OpEmbed}, &protocol.Response{Embeddings: [][]float64{{0.5, 1}}})
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, "embeddings", string(b), `{"embeddings":[{"values":[0.5,1]}]}`)
}

func TestEncodeResponseRefusesBadArguments(t *testing.T) {
	_, err := API.EncodeResponse(generate, &protocol.Response{Parts: []protocol.Part{{Type: protocol.PartToolCall, ID: "c", Name: "f", Arguments: "{oops"}}})
	if err == nil {
		t.Fatal("no error for arguments that are not JSON")
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		status int
		want   string
	}{
		{400, "INVALID_ARGUMENT"}, {401, "UNAUTHENTICATED"}, {403, "PERMISSION_DENIED"}, {404, "NOT_FOUND"},
		{429, "RESOURCE_EXHAUSTED"}, {402, "RESOURCE_EXHAUSTED"}, {502, "UNAVAILABLE"}, {503, "UNAVAILABLE"},
		{504, "DEADLINE_EXCEEDED"}, {500, "INTERNAL"},
	}
	for _, tt := range tests {
		b := Errors.ErrorBody(tt.status, "code", "went wrong")
		var e wireError
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatal(err)
		}
		if e.Error != (wireErrorBody{Code: tt.status, Message: "went wrong", Status: tt.want}) {
			t.Errorf("ErrorBody(%d) = %s", tt.status, b)
		}
		if got := API.ErrorMessage(b); got != "went wrong" {
			t.Errorf("ErrorMessage = %q", got)
		}
	}
	if got, want := string(Errors.StreamError(503, "x", "busy")), `data: {"error":{"code":503,"message":"busy","status":"UNAVAILABLE"}}`+"\n\n"; got != want {
		t.Errorf("StreamError = %q, want %q", got, want)
	}
	if got := API.ErrorMessage([]byte("<html>")); got != "" {
		t.Errorf("ErrorMessage of HTML = %q", got)
	}
}

func TestEncodeModels(t *testing.T) {
	jsonEqual(t, "models", string(API.EncodeModels([]string{"gemini-2.5-flash"})),
		`{"models":[{"name":"models/gemini-2.5-flash","baseModelId":"gemini-2.5-flash","version":"","displayName":"gemini-2.5-flash","supportedGenerationMethods":["generateContent","countTokens"]}]}`)
	jsonEqual(t, "no models", string(API.EncodeModels(nil)), `{"models":[]}`)
}
