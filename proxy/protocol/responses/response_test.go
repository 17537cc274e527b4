package responses

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3/responses"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/usage"
	"github.com/sluicehq/sluice/tokens"
)

// answer is one feature's answer in the internal form and what the SDK
// must read from it.
type answer struct {
	feature string
	resp    protocol.Response
	text    string
	calls   []protocol.Part // ID, Name, Arguments of the function calls
	summary string          // reasoning summary text
	status  responses.ResponseStatus
	reason  string // incomplete_details.reason
}

var fullUsage = usage.Usage{Tokens: tokens.Tokens{InputTokens: 1200, OutputTokens: 340, CachedInputTokens: 1000}, ReasoningTokens: 200, Found: true}

func answers() []answer {
	return []answer{
		{feature: "text", resp: protocol.Response{ID: "chatcmpl-1", Model: "gpt-4.1", Created: 1700000000,
			Parts: []protocol.Part{text("Hello"), text(" there.")}, Finish: protocol.FinishStop, Usage: fullUsage},
			text: "Hello there.", status: responses.ResponseStatusCompleted},
		{feature: "tools", resp: protocol.Response{ID: "msg_01", Model: "claude",
			Parts: []protocol.Part{
				text("Checking both."),
				{Type: protocol.PartToolCall, ID: "toolu_1", Name: "get_weather", Arguments: `{"city":"Paris"}`},
				{Type: protocol.PartToolCall, ID: "toolu_2", Name: "get_weather", Arguments: ""},
			}, Finish: protocol.FinishToolCalls, Usage: fullUsage},
			text: "Checking both.", status: responses.ResponseStatusCompleted,
			calls: []protocol.Part{{ID: "toolu_1", Name: "get_weather", Arguments: `{"city":"Paris"}`}, {ID: "toolu_2", Name: "get_weather", Arguments: "{}"}}},
		{feature: "image", resp: protocol.Response{Parts: []protocol.Part{text("A cat on a mat.")}, Finish: protocol.FinishLength, Usage: fullUsage},
			text: "A cat on a mat.", status: responses.ResponseStatusIncomplete, reason: "max_output_tokens"},
		{feature: "structured", resp: protocol.Response{ID: "resp_abc", Parts: []protocol.Part{text(`{"city":"Paris"}`)}, Finish: protocol.FinishStop, Usage: fullUsage},
			text: `{"city":"Paris"}`, status: responses.ResponseStatusCompleted},
		{feature: "reasoning", resp: protocol.Response{ID: "resp_r", Parts: []protocol.Part{
			{Type: protocol.PartThinking, Text: "Count the r letters.", Signature: "sig-1"},
			text("Three."),
		}, Finish: protocol.FinishStop, Usage: fullUsage},
			text: "Three.", summary: "Count the r letters.", status: responses.ResponseStatusCompleted},
	}
}

// checkSDKResponse checks what the SDK reads from a Response object.
func checkSDKResponse(t *testing.T, r *responses.Response, a answer, req *protocol.Request) {
	t.Helper()
	if !strings.HasPrefix(r.ID, "resp_") || r.Object != "response" || r.CreatedAt == 0 {
		t.Errorf("id %q object %q created_at %v", r.ID, r.Object, r.CreatedAt)
	}
	if got := r.OutputText(); got != a.text {
		t.Errorf("OutputText() = %q, want %q", got, a.text)
	}
	if r.Status != a.status || r.IncompleteDetails.Reason != a.reason {
		t.Errorf("status %q reason %q, want %q %q", r.Status, r.IncompleteDetails.Reason, a.status, a.reason)
	}
	var calls []protocol.Part
	var summary string
	for _, item := range r.Output {
		switch item.Type {
		case "function_call":
			fc := item.AsFunctionCall()
			if !strings.HasPrefix(fc.ID, "fc_") || fc.Status != "completed" {
				t.Errorf("function call item %+v", fc)
			}
			calls = append(calls, protocol.Part{ID: fc.CallID, Name: fc.Name, Arguments: fc.Arguments})
		case "reasoning":
			rs := item.AsReasoning()
			for _, s := range rs.Summary {
				summary += s.Text
			}
			if rs.EncryptedContent != "sig-1" {
				t.Errorf("encrypted_content = %q", rs.EncryptedContent)
			}
		}
	}
	if len(calls) != len(a.calls) {
		t.Fatalf("calls = %+v, want %+v", calls, a.calls)
	}
	for i := range calls {
		if !reflect.DeepEqual(calls[i], a.calls[i]) {
			t.Errorf("call %d = %+v, want %+v", i, calls[i], a.calls[i])
		}
	}
	if summary != a.summary {
		t.Errorf("reasoning summary = %q, want %q", summary, a.summary)
	}
	u := r.Usage
	if u.InputTokens != 1200 || u.InputTokensDetails.CachedTokens != 1000 || u.OutputTokens != 340 ||
		u.OutputTokensDetails.ReasoningTokens != 200 || u.TotalTokens != 1540 {
		t.Errorf("usage = %+v", u)
	}
	if req.Model != "" && r.Model != a.resp.Model && a.resp.Model != "" {
		t.Errorf("model = %q, want %q", r.Model, a.resp.Model)
	}
}

func TestEncodeResponse(t *testing.T) {
	for _, a := range answers() {
		t.Run(a.feature, func(t *testing.T) {
			req := decodeFixture(t, a.feature)
			body, err := API.EncodeResponse(req, &a.resp)
			if err != nil {
				t.Fatal(err)
			}
			var r responses.Response
			if err := json.Unmarshal(body, &r); err != nil {
				t.Fatalf("SDK cannot read %s: %v", body, err)
			}
			checkSDKResponse(t, &r, a, req)
			if a.resp.Model == "" && r.Model != req.Model {
				t.Errorf("model = %q, want the request's %q", r.Model, req.Model)
			}
			// The response echoes the request's settings.
			switch a.feature {
			case "text":
				if r.Instructions.OfString != "You are terse." || r.MaxOutputTokens != 256 || r.Temperature != 0.2 || r.User != "user-42" {
					t.Errorf("echo: instructions %q max %d temperature %v user %q", r.Instructions.OfString, r.MaxOutputTokens, r.Temperature, r.User)
				}
				if r.CreatedAt != 1700000000 || r.ID != "resp_chatcmpl-1" {
					t.Errorf("created_at %v id %q", r.CreatedAt, r.ID)
				}
			case "tools":
				if len(r.Tools) != 1 || r.Tools[0].Name != "get_weather" || r.ToolChoice.OfToolChoiceMode != "auto" {
					t.Errorf("tools %+v tool_choice %+v", r.Tools, r.ToolChoice)
				}
			case "structured":
				if r.Text.Format.Type != "json_schema" || r.Text.Format.Name != "city" || r.ID != "resp_abc" {
					t.Errorf("text.format %+v id %q", r.Text.Format, r.ID)
				}
			case "reasoning":
				if r.Reasoning.Effort != "high" {
					t.Errorf("reasoning.effort = %q", r.Reasoning.Effort)
				}
			}
		})
	}
}

func TestEncodeResponseFinish(t *testing.T) {
	tests := []struct {
		finish protocol.Finish
		status responses.ResponseStatus
		reason string
	}{
		{protocol.FinishStop, "completed", ""},
		{protocol.FinishToolCalls, "completed", ""},
		{protocol.FinishRefusal, "completed", ""},
		{protocol.FinishLength, "incomplete", "max_output_tokens"},
		{protocol.FinishContentFilter, "incomplete", "content_filter"},
		{protocol.FinishError, "failed", ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.finish), func(t *testing.T) {
			body, err := API.EncodeResponse(&protocol.Request{Model: "m"}, &protocol.Response{Parts: []protocol.Part{text("x")}, Finish: tt.finish})
			if err != nil {
				t.Fatal(err)
			}
			var r responses.Response
			if err := json.Unmarshal(body, &r); err != nil {
				t.Fatal(err)
			}
			if r.Status != tt.status || r.IncompleteDetails.Reason != tt.reason {
				t.Errorf("status %q reason %q", r.Status, r.IncompleteDetails.Reason)
			}
			if tt.status == "failed" && r.Error.Message == "" {
				t.Error("a failed response has no error")
			}
			if strings.Contains(string(body), `"usage":{`) {
				t.Errorf("usage written although the provider reported none: %s", body)
			}
		})
	}
}

// TestRedactedThinkingRoundTrip checks that redacted thinking written in
// an answer comes back as redacted thinking when the caller sends the
// reasoning item back.
func TestRedactedThinkingRoundTrip(t *testing.T) {
	body, err := API.EncodeResponse(&protocol.Request{Model: "m"}, &protocol.Response{Parts: []protocol.Part{
		{Type: protocol.PartRedactedThinking, Data: "opaque"}, {Type: protocol.PartThinking, Text: "t", Signature: "s"}, text("x"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Output []json.RawMessage `json:"output"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	next, _ := json.Marshal(map[string]any{"model": "m", "input": r.Output})
	req, err := API.DecodeRequest(protocol.OpGenerate, next)
	if err != nil {
		t.Fatal(err)
	}
	want := []protocol.Part{{Type: protocol.PartRedactedThinking, Data: "opaque"}, {Type: protocol.PartThinking, Text: "t", Signature: "s"}, text("x")}
	if len(req.Messages) != 1 || len(req.Messages[0].Parts) != 3 {
		t.Fatalf("messages = %+v", req.Messages)
	}
	for i, p := range req.Messages[0].Parts {
		if p.Type != want[i].Type || p.Data != want[i].Data || p.Text != want[i].Text || p.Signature != want[i].Signature {
			t.Errorf("part %d = %+v, want %+v", i, p, want[i])
		}
	}
}

func TestEncodeModels(t *testing.T) {
	var list struct {
		Object string `json:"object"`
		Data   []struct {
			ID      string `json:"id"`
			Object  string `json:"object"`
			Created *int64 `json:"created"`
			OwnedBy string `json:"owned_by"`
		} `json:"data"`
	}
	if err := json.Unmarshal(API.EncodeModels([]string{"gpt-4.1", "claude"}), &list); err != nil {
		t.Fatal(err)
	}
	if list.Object != "list" || len(list.Data) != 2 || list.Data[1].ID != "claude" || list.Data[0].Object != "model" ||
		list.Data[0].OwnedBy != "sluice" || list.Data[0].Created == nil {
		t.Errorf("list = %+v", list)
	}
	if got := string(API.EncodeModels(nil)); got != `{"object":"list","data":[]}` {
		t.Errorf("empty list = %s", got)
	}
}
