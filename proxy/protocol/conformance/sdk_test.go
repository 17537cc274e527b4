package conformance

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"
	"google.golang.org/genai"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/sse"
)

// readResponses reads an OpenAI Responses answer with the official SDK's
// types: the Response object, or the one a stream's response.completed
// (or .incomplete) event carries.
func readResponses(t *testing.T, _ *protocol.Request, body []byte, streamed bool) *protocol.Response {
	t.Helper()
	var r responses.Response
	if streamed {
		found := false
		for _, ev := range sseEvents(t, body) {
			var head struct {
				Type     string          `json:"type"`
				Response json.RawMessage `json:"response"`
			}
			if json.Unmarshal(ev.Data, &head) == nil && (head.Type == "response.completed" || head.Type == "response.incomplete") {
				body, found = head.Response, true
			}
		}
		if !found {
			t.Fatalf("the stream has no response.completed event:\n%s", body)
		}
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("the SDK cannot read the Response: %v\n%s", err, body)
	}
	out := &protocol.Response{ID: r.ID, Finish: protocol.FinishStop}
	if text := r.OutputText(); text != "" {
		out.Parts = append(out.Parts, protocol.Part{Type: protocol.PartText, Text: text})
	}
	for _, item := range r.Output {
		if item.Type == "function_call" {
			out.Parts = append(out.Parts, protocol.Part{Type: protocol.PartToolCall, ID: item.CallID, Name: item.Name, Arguments: item.Arguments.OfString})
			out.Finish = protocol.FinishToolCalls
		}
	}
	if r.Status == "incomplete" {
		switch r.IncompleteDetails.Reason {
		case "max_output_tokens":
			out.Finish = protocol.FinishLength
		case "content_filter":
			out.Finish = protocol.FinishContentFilter
		}
	}
	out.Usage.InputTokens, out.Usage.OutputTokens = r.Usage.InputTokens, r.Usage.OutputTokens
	return out
}

// sdkRead reads what a caller got with its official SDK's types and checks
// it against what the caller's own reader saw: the SDKs are the judge of
// whether the wire format is right.
var sdkRead = map[string]func(t *testing.T, body []byte, streamed bool, want *protocol.Response){
	"OpenAI Chat Completions": func(t *testing.T, body []byte, streamed bool, want *protocol.Response) {
		var c openai.ChatCompletion
		if streamed {
			var acc openai.ChatCompletionAccumulator
			for _, ev := range sseEvents(t, body) {
				if string(ev.Data) == "[DONE]" {
					continue
				}
				var chunk openai.ChatCompletionChunk
				if err := json.Unmarshal(ev.Data, &chunk); err != nil {
					t.Fatalf("the SDK cannot read a chunk: %v\n%s", err, ev.Data)
				}
				if !acc.AddChunk(chunk) {
					t.Fatalf("the SDK's accumulator refuses a chunk: %s", ev.Data)
				}
			}
			c = acc.ChatCompletion
		} else if err := json.Unmarshal(body, &c); err != nil {
			t.Fatalf("the SDK cannot read the answer: %v\n%s", err, body)
		}
		if len(c.Choices) != 1 {
			t.Fatalf("%d choices, want 1", len(c.Choices))
		}
		m := c.Choices[0].Message
		if m.Content != answerText(want) {
			t.Errorf("SDK content %q, want %q", m.Content, answerText(want))
		}
		var calls []string
		for _, tc := range m.ToolCalls {
			calls = append(calls, tc.ID+" "+tc.Function.Name+" "+compactJSON(tc.Function.Arguments))
		}
		if w := answerCalls(want); len(w) != len(calls) || len(w) > 0 && w[0] != calls[0] {
			t.Errorf("SDK tool calls %v, want %v", calls, w)
		}
		if c.Usage.PromptTokens != want.Usage.InputTokens || c.Usage.CompletionTokens != want.Usage.OutputTokens {
			t.Errorf("SDK usage %d/%d, want %d/%d", c.Usage.PromptTokens, c.Usage.CompletionTokens, want.Usage.InputTokens, want.Usage.OutputTokens)
		}
	},
	"Anthropic Messages": func(t *testing.T, body []byte, streamed bool, want *protocol.Response) {
		var m anthropic.Message
		if streamed {
			for _, ev := range sseEvents(t, body) {
				var e anthropic.MessageStreamEventUnion
				if err := json.Unmarshal(ev.Data, &e); err != nil {
					t.Fatalf("the SDK cannot read an event: %v\n%s", err, ev.Data)
				}
				if err := m.Accumulate(e); err != nil {
					t.Fatalf("the SDK's accumulator refuses an event: %v\n%s", err, ev.Data)
				}
			}
		} else if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("the SDK cannot read the answer: %v\n%s", err, body)
		}
		var text string
		var calls []string
		for _, b := range m.Content {
			switch b.Type {
			case "text":
				text += b.Text
			case "tool_use":
				calls = append(calls, b.ID+" "+b.Name+" "+compactJSON(string(b.Input)))
			}
		}
		if text != answerText(want) {
			t.Errorf("SDK text %q, want %q", text, answerText(want))
		}
		if w := answerCalls(want); len(w) != len(calls) || len(w) > 0 && w[0] != calls[0] {
			t.Errorf("SDK tool calls %v, want %v", calls, w)
		}
		in := m.Usage.InputTokens + m.Usage.CacheReadInputTokens + m.Usage.CacheCreationInputTokens
		if in != want.Usage.InputTokens || m.Usage.OutputTokens != want.Usage.OutputTokens {
			t.Errorf("SDK usage %d/%d, want %d/%d", in, m.Usage.OutputTokens, want.Usage.InputTokens, want.Usage.OutputTokens)
		}
	},
	"Gemini generateContent": func(t *testing.T, body []byte, streamed bool, want *protocol.Response) {
		chunks := [][]byte{body}
		if streamed {
			chunks = nil
			for _, ev := range sseEvents(t, body) {
				chunks = append(chunks, ev.Data)
			}
		}
		var text string
		var calls int
		var last *genai.GenerateContentResponseUsageMetadata
		for _, c := range chunks {
			var r genai.GenerateContentResponse
			if err := json.Unmarshal(c, &r); err != nil {
				t.Fatalf("the SDK cannot read the answer: %v\n%s", err, c)
			}
			for _, cand := range r.Candidates {
				if cand.Content == nil {
					continue
				}
				for _, p := range cand.Content.Parts {
					if p.Text != "" && !p.Thought {
						text += p.Text
					}
				}
			}
			calls += len(r.FunctionCalls())
			if r.UsageMetadata != nil {
				last = r.UsageMetadata
			}
		}
		if text != answerText(want) {
			t.Errorf("SDK text %q, want %q", text, answerText(want))
		}
		if calls != len(answerCalls(want)) {
			t.Errorf("SDK sees %d function calls, want %d", calls, len(answerCalls(want)))
		}
		if want.Usage.Found {
			if last == nil {
				t.Fatal("the SDK sees no usage metadata")
			}
			if in := int64(last.PromptTokenCount) + int64(last.ToolUsePromptTokenCount); in != want.Usage.InputTokens {
				t.Errorf("SDK prompt tokens %d, want %d", in, want.Usage.InputTokens)
			}
		}
	},
}

func sseEvents(t *testing.T, body []byte) []sse.Event {
	t.Helper()
	rd := sse.NewReader(bytes.NewReader(body))
	var out []sse.Event
	for {
		ev, err := rd.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("read the stream: %v", err)
		}
		if ev.Data != nil {
			out = append(out, copyEvent(ev))
		}
	}
}
