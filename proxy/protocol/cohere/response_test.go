package cohere

import (
	"encoding/json"
	"testing"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/usage"
	"github.com/sluicehq/sluice/tokens"
)

var chatReq = &protocol.Request{Op: protocol.OpGenerate, Model: "command-a-03-2025"}

// answerCase is what a provider answer or stream fixture holds.
type answerCase struct {
	feature string
	parts   []protocol.Part // Text checked by prefix
	finish  protocol.Finish
	usage   usage.Usage
}

// check compares a decoded answer with the case.
func (c answerCase) check(t *testing.T, resp *protocol.Response) {
	t.Helper()
	checkParts(t, resp.Parts, c.parts)
	equal(t, "finish", resp.Finish, c.finish)
	equal(t, "usage", resp.Usage, c.usage)
	if resp.ID == "" || resp.Model != chatReq.Model {
		t.Errorf("id %q model %q", resp.ID, resp.Model)
	}
}

// answerCases are the provider answer fixtures.
var answerCases = []answerCase{
	{"text", []protocol.Part{{Type: protocol.PartText, Text: "LLMs stand for Large Language Models"}}, protocol.FinishStop,
		usage.Usage{Tokens: tokens.Tokens{InputTokens: 71, OutputTokens: 418}, Found: true}},
	{"tools", []protocol.Part{
		{Type: protocol.PartThinking, Text: "I will first find the sales summary"},
		{Type: protocol.PartToolCall, ID: "query_daily_sales_report_hgxxmkby3wta", Name: "query_daily_sales_report", Arguments: `{"day": "2023-09-29"}`},
		{Type: protocol.PartToolCall, ID: "query_product_catalog_rpg0z5h8yyz2", Name: "query_product_catalog", Arguments: `{"category": "Electronics"}`},
	}, protocol.FinishToolCalls, usage.Usage{Tokens: tokens.Tokens{InputTokens: 1032, OutputTokens: 124}, Found: true}},
	{"image", []protocol.Part{{Type: protocol.PartText, Text: "The image you've provided is quite abstract"}}, protocol.FinishStop,
		usage.Usage{Tokens: tokens.Tokens{InputTokens: 71, OutputTokens: 418}, Found: true}},
	{"structured", []protocol.Part{{Type: protocol.PartText, Text: `{"title": "The Great Gatsby"`}}, protocol.FinishStop,
		usage.Usage{Tokens: tokens.Tokens{InputTokens: 812, OutputTokens: 26}, Found: true}},
	{"reasoning", []protocol.Part{
		{Type: protocol.PartThinking, Text: "Alice has 2 sisters"},
		{Type: protocol.PartText, Text: "Alice's brother has 3 sisters"},
	}, protocol.FinishStop, usage.Usage{Tokens: tokens.Tokens{InputTokens: 1520, OutputTokens: 58, CachedInputTokens: 1024}, Found: true}},
}

func checkParts(t *testing.T, got, want []protocol.Part) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d parts, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Type != w.Type || g.ID != w.ID || g.Name != w.Name || g.Arguments != w.Arguments || len(g.Text) < len(w.Text) || g.Text[:len(w.Text)] != w.Text {
			t.Errorf("part %d: got %+v, want %+v", i, g, w)
		}
	}
}

func TestDecodeResponseFixtures(t *testing.T) {
	for _, tt := range answerCases {
		t.Run(tt.feature, func(t *testing.T) {
			resp, err := Chat.DecodeResponse(chatReq, readFixture(t, "answer_"+tt.feature+".json"))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, resp)
		})
	}
}

func TestDecodeResponseToolPlan(t *testing.T) {
	body := `{"id":"x","finish_reason":"TOOL_CALL","message":{"role":"assistant","tool_plan":"I will check.","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},"usage":{"billed_units":{"input_tokens":3,"output_tokens":4}}}`
	resp, err := Chat.DecodeResponse(chatReq, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "parts", resp.Parts, []protocol.Part{{Type: protocol.PartText, Text: "I will check."}, {Type: protocol.PartToolCall, ID: "c1", Name: "f", Arguments: "{}"}})
	// Without tokens, the billed units are the usage.
	equal(t, "usage", resp.Usage, usage.Usage{Tokens: tokens.Tokens{InputTokens: 3, OutputTokens: 4}, Found: true})
}

func TestDecodeEmbed(t *testing.T) {
	req := &protocol.Request{Op: protocol.OpEmbed, Model: "embed-v4.0", Inputs: []string{"hello", "goodbye"}}
	resp, err := Chat.DecodeResponse(req, readFixture(t, "answer_embed.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Embeddings) != 2 || len(resp.Embeddings[0]) != 8 || resp.Embeddings[0][0] != 0.016296387 {
		t.Errorf("embeddings: %v", resp.Embeddings)
	}
	equal(t, "usage", resp.Usage, usage.Usage{Tokens: tokens.Tokens{InputTokens: 2}, Found: true})

	// And back to a Cohere caller.
	b, err := Chat.EncodeResponse(req, resp)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Embeddings struct {
			Float [][]float64 `json:"float"`
		} `json:"embeddings"`
		Texts []string `json:"texts"`
		Meta  refUsage `json:"meta"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	equal(t, "vectors", out.Embeddings.Float, resp.Embeddings)
	equal(t, "texts", out.Texts, req.Inputs)
	equal(t, "billed", out.Meta.BilledUnits.InputTokens, 2.0)
}

func TestFinishReasons(t *testing.T) {
	for reason, want := range map[string]protocol.Finish{
		"COMPLETE": protocol.FinishStop, "STOP_SEQUENCE": protocol.FinishStop, "MAX_TOKENS": protocol.FinishLength,
		"TOOL_CALL": protocol.FinishToolCalls, "ERROR": protocol.FinishError, "TIMEOUT": protocol.FinishLength,
	} {
		equal(t, reason, readFinish(reason), want)
	}
	for _, tt := range []struct {
		f    protocol.Finish
		stop string
		want string
	}{
		{protocol.FinishStop, "", "COMPLETE"}, {protocol.FinishStop, "###", "STOP_SEQUENCE"},
		{protocol.FinishLength, "", "MAX_TOKENS"}, {protocol.FinishToolCalls, "", "TOOL_CALL"},
		{protocol.FinishContentFilter, "", "ERROR"}, {protocol.FinishError, "", "ERROR"},
		{protocol.FinishRefusal, "", "COMPLETE"}, {protocol.FinishPause, "", "COMPLETE"},
	} {
		equal(t, string(tt.f), writeFinish(tt.f, tt.stop), tt.want)
	}
}

// TestEncodeResponse checks an answer as a Cohere caller reads it: text
// before the tool calls is the tool plan, usage in both counts.
func TestEncodeResponse(t *testing.T) {
	resp := &protocol.Response{
		ID: "msg_1",
		Parts: []protocol.Part{
			{Type: protocol.PartThinking, Text: "think", Signature: "sig"},
			{Type: protocol.PartText, Text: "Checking."},
			{Type: protocol.PartToolCall, ID: "toolu_1", Name: "get_weather", Arguments: `{"city":"Paris"}`},
			{Type: protocol.PartToolCall, ID: "toolu_2", Name: "get_time"},
		},
		Finish: protocol.FinishToolCalls,
		Usage:  usage.Usage{Tokens: tokens.Tokens{InputTokens: 100, OutputTokens: 20, CachedInputTokens: 60, CacheWriteTokens: 10}, Found: true},
	}
	b, err := Chat.EncodeResponse(chatReq, resp)
	if err != nil {
		t.Fatal(err)
	}
	var out refChatResponse
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	equal(t, "id", out.ID, "msg_1")
	equal(t, "finish", out.FinishReason, "TOOL_CALL")
	equal(t, "role", out.Message.Role, "assistant")
	equal(t, "tool_plan", out.Message.ToolPlan, "Checking.")
	if len(out.Message.Content) != 1 || out.Message.Content[0].Type != "thinking" || out.Message.Content[0].Thinking != "think" {
		t.Errorf("content: %+v", out.Message.Content)
	}
	if len(out.Message.ToolCalls) != 2 || out.Message.ToolCalls[0].ID != "toolu_1" || out.Message.ToolCalls[0].Type != "function" ||
		out.Message.ToolCalls[0].Function.Arguments != `{"city":"Paris"}` || out.Message.ToolCalls[1].Function.Arguments != "{}" {
		t.Errorf("tool calls: %+v", out.Message.ToolCalls)
	}
	if u := out.Usage; u == nil || u.Tokens.InputTokens != 100 || u.Tokens.OutputTokens != 20 || u.BilledUnits.InputTokens != 100 || u.CachedTokens != 60 {
		t.Errorf("usage: %s", b)
	}

	// Without reported usage there is no usage object.
	b, _ = Chat.EncodeResponse(chatReq, &protocol.Response{ID: "x", Parts: []protocol.Part{{Type: protocol.PartText, Text: "hi"}}, Finish: protocol.FinishStop})
	out = refChatResponse{}
	_ = json.Unmarshal(b, &out)
	if out.Usage != nil || out.Message.Content[0].Text != "hi" || out.FinishReason != "COMPLETE" {
		t.Errorf("answer without usage: %s", b)
	}
}
