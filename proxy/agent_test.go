package proxy

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestAgentConversation is a coding agent's conversation in the shape
// Claude Code sends (Anthropic Messages, streamed, tools, thinking,
// prompt-cache marks, a beta header) through the gateway to an
// OpenAI-compatible provider: each turn is exactly one upstream request,
// the tool call's id survives both ways, and what the provider cannot
// take is named in X-Sluice-Omitted.
func TestAgentConversation(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			if strings.Contains(string(body), `"tool_call_id"`) { // the second turn
				sseEvents(w, terminated([]string{
					`data: {"id":"c2","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"The file declares package a."},"finish_reason":null}]}`,
					`data: {"id":"c2","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
					`data: {"id":"c2","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":300,"completion_tokens":8,"total_tokens":308,"prompt_tokens_details":{"cached_tokens":256}}}`,
					`data: [DONE]`,
				})...)
				return
			}
			sseEvents(w, terminated([]string{
				`data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"I should read the file."},"finish_reason":null}]}`,
				`data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_read_1","type":"function","function":{"name":"Read","arguments":""}}]},"finish_reason":null}]}`,
				`data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"file_path\":"}}]},"finish_reason":null}]}`,
				`data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"/src/a.go\"}"}}]},"finish_reason":null}]}`,
				`data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`,
				`data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":280,"completion_tokens":40,"total_tokens":320,"completion_tokens_details":{"reasoning_tokens":12}}}`,
				`data: [DONE]`,
			})...)
		})
		f.price("openai", "agent-model", 3_000_000, 15_000_000, 300_000, modelprice.KindText)
		_, key := f.addService(serviceSpec{name: "agent", provider: "openai", baseURL: up.srv.URL + "/v1", secret: "sk-provider-agent", models: []string{"agent-model"}})
		client := anthropic.NewClient(aoption.WithBaseURL(f.srv.URL), aoption.WithAPIKey(key), aoption.WithMaxRetries(0),
			aoption.WithHeader("anthropic-beta", "interleaved-thinking-2025-05-14"))
		ctx := t.Context()

		system := []anthropic.TextBlockParam{{Text: "You are a coding agent.", CacheControl: anthropic.NewCacheControlEphemeralParam()}}
		read := anthropic.ToolParam{Name: "Read", Description: anthropic.String("Read a file"),
			InputSchema:  anthropic.ToolInputSchemaParam{Properties: map[string]any{"file_path": map[string]any{"type": "string"}}, Required: []string{"file_path"}},
			CacheControl: anthropic.NewCacheControlEphemeralParam()}
		prompt := anthropic.TextBlockParam{Text: "What package is /src/a.go in?", CacheControl: anthropic.NewCacheControlEphemeralParam()}
		history := []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.ContentBlockParamUnion{OfText: &prompt})}
		turn := func() (anthropic.Message, *http.Response) {
			t.Helper()
			var resp *http.Response
			stream := client.Messages.NewStreaming(ctx, anthropic.MessageNewParams{Model: "agent-model", MaxTokens: 8000, System: system,
				Tools: []anthropic.ToolUnionParam{{OfTool: &read}}, Thinking: anthropic.ThinkingConfigParamOfEnabled(4000), Messages: history},
				aoption.WithResponseInto(&resp))
			var msg anthropic.Message
			for stream.Next() {
				if err := msg.Accumulate(stream.Current()); err != nil {
					t.Fatal(err)
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			return msg, resp
		}

		first, resp := turn()
		if up.count() != 1 {
			t.Fatalf("the first turn made %d upstream requests, want 1", up.count())
		}
		if omitted := resp.Header.Get("X-Sluice-Omitted"); !strings.Contains(omitted, "cache_control") || !strings.Contains(omitted, "anthropic-beta") {
			t.Errorf("X-Sluice-Omitted %q, want cache_control and anthropic-beta named", omitted)
		}
		var use *anthropic.ContentBlockUnion
		var thought string
		for i, b := range first.Content {
			switch b.Type {
			case "tool_use":
				use = &first.Content[i]
			case "thinking":
				thought += b.Thinking
			}
		}
		if use == nil || use.ID != "call_read_1" || use.Name != "Read" || string(use.Input) != `{"file_path":"/src/a.go"}` {
			t.Fatalf("the agent got tool use %+v, want call_read_1 Read {\"file_path\":\"/src/a.go\"}", use)
		}
		if thought != "I should read the file." || first.StopReason != "tool_use" || first.Usage.OutputTokens != 40 {
			t.Errorf("thinking %q, stop %q, output %d", thought, first.StopReason, first.Usage.OutputTokens)
		}
		sent := up.last(t).Body
		if !strings.Contains(string(sent), `"reasoning_effort"`) || strings.Contains(string(sent), "cache_control") {
			t.Errorf("first upstream request: %s", sent)
		}

		history = append(history, first.ToParam(), anthropic.NewUserMessage(anthropic.NewToolResultBlock("call_read_1", "package a", false)))
		second, resp := turn()
		if up.count() != 2 {
			t.Fatalf("two turns made %d upstream requests, want 2", up.count())
		}
		if messageText(&second) != "The file declares package a." || second.StopReason != "end_turn" {
			t.Errorf("second answer %q (%s)", messageText(&second), second.StopReason)
		}
		if omitted := resp.Header.Get("X-Sluice-Omitted"); !strings.Contains(omitted, "thinking") {
			t.Errorf("X-Sluice-Omitted %q, want the earlier turn's thinking named", omitted)
		}
		var body struct {
			Messages []struct {
				Role       string `json:"role"`
				ToolCallID string `json:"tool_call_id"`
				ToolCalls  []struct {
					ID       string `json:"id"`
					Function struct{ Name, Arguments string }
				} `json:"tool_calls"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(up.last(t).Body, &body); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range body.Messages {
			for _, c := range m.ToolCalls {
				ids = append(ids, m.Role+" "+c.ID+" "+c.Function.Name+" "+c.Function.Arguments)
			}
			if m.ToolCallID != "" {
				ids = append(ids, m.Role+" "+m.ToolCallID)
			}
		}
		if strings.Join(ids, "|") != `assistant call_read_1 Read {"file_path":"/src/a.go"}|tool call_read_1` {
			t.Errorf("the provider saw tool calls and results %q", ids)
		}
		recs := f.records()
		if n := len(recs); n != 2 || recs[0].Cost == 0 || recs[1].CachedInputTokens != 256 {
			t.Errorf("%d records; costs and cache reads: %+v", n, recs)
		}
	})
}
