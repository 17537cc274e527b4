package cohere

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/sse"
)

// Shapes written from Cohere's v2 API reference, to check what the
// adapter writes independently of its own wire types.

type refChatResponse struct {
	ID           string `json:"id"`
	FinishReason string `json:"finish_reason"`
	Message      struct {
		Role    string `json:"role"`
		Content []struct {
			Type     string `json:"type"`
			Text     string `json:"text"`
			Thinking string `json:"thinking"`
		} `json:"content"`
		ToolPlan  string        `json:"tool_plan"`
		ToolCalls []refToolCall `json:"tool_calls"`
	} `json:"message"`
	Usage *refUsage `json:"usage"`
}

type refToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type refUsage struct {
	BilledUnits struct {
		InputTokens  float64 `json:"input_tokens"`
		OutputTokens float64 `json:"output_tokens"`
	} `json:"billed_units"`
	Tokens struct {
		InputTokens  float64 `json:"input_tokens"`
		OutputTokens float64 `json:"output_tokens"`
	} `json:"tokens"`
	CachedTokens float64 `json:"cached_tokens"`
}

type refStreamEvent struct {
	Type  string `json:"type"`
	ID    string `json:"id"`
	Index *int   `json:"index"`
	Delta struct {
		Message struct {
			Role    string `json:"role"`
			Content struct {
				Type     string  `json:"type"`
				Text     *string `json:"text"`
				Thinking *string `json:"thinking"`
			} `json:"content"`
			ToolPlan  string `json:"tool_plan"`
			ToolCalls struct {
				ID       string `json:"id"`
				Type     string `json:"type"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"message"`
		FinishReason string    `json:"finish_reason"`
		Usage        *refUsage `json:"usage"`
		Error        string    `json:"error"`
	} `json:"delta"`
}

type refChatRequest struct {
	Model    string `json:"model"`
	Stream   bool   `json:"stream"`
	Messages []struct {
		Role       string        `json:"role"`
		Content    any           `json:"content"`
		ToolPlan   string        `json:"tool_plan"`
		ToolCalls  []refToolCall `json:"tool_calls"`
		ToolCallID string        `json:"tool_call_id"`
	} `json:"messages"`
	Tools []struct {
		Type     string `json:"type"`
		Function struct {
			Name        string         `json:"name"`
			Description string         `json:"description"`
			Parameters  map[string]any `json:"parameters"`
		} `json:"function"`
	} `json:"tools"`
	StrictTools    bool     `json:"strict_tools"`
	ToolChoice     string   `json:"tool_choice"`
	MaxTokens      *int     `json:"max_tokens"`
	Temperature    *float64 `json:"temperature"`
	P              *float64 `json:"p"`
	K              *int     `json:"k"`
	Seed           *int     `json:"seed"`
	StopSequences  []string `json:"stop_sequences"`
	ResponseFormat *struct {
		Type       string         `json:"type"`
		JSONSchema map[string]any `json:"json_schema"`
	} `json:"response_format"`
	Thinking *struct {
		Type        string `json:"type"`
		TokenBudget int    `json:"token_budget"`
	} `json:"thinking"`
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readEvents splits an SSE stream into events, copied out of the reader.
func readEvents(t testing.TB, stream []byte) []sse.Event {
	t.Helper()
	r := sse.NewReader(bytes.NewReader(stream))
	var out []sse.Event
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Data == nil {
			continue
		}
		out = append(out, sse.Event{Name: ev.Name, Data: bytes.Clone(ev.Data)})
	}
}

// decodeStream runs a provider stream through the stream decoder.
func decodeStream(t testing.TB, req *protocol.Request, stream []byte) ([]protocol.Event, error) {
	t.Helper()
	d := Chat.NewStreamDecoder(req)
	var out []protocol.Event
	var err error
	for _, ev := range readEvents(t, stream) {
		if out, err = d.Decode(out, ev); err != nil {
			return out, err
		}
	}
	return out, nil
}

// encodeStream runs internal events through the stream encoder.
func encodeStream(req *protocol.Request, events []protocol.Event) []byte {
	e := Chat.NewStreamEncoder(req)
	var out []byte
	for _, ev := range events {
		out = e.Encode(out, ev)
	}
	return e.End(out)
}

// accumulate folds a well-formed event sequence into the answer it
// streams, checking the contract's order: start first, parts opened,
// added to and closed in order, the finish last.
func accumulate(t testing.TB, events []protocol.Event) *protocol.Response {
	t.Helper()
	resp := &protocol.Response{}
	open := -1
	for i, ev := range events {
		switch ev.Type {
		case protocol.EventStart:
			if i != 0 {
				t.Fatalf("event %d: start is not first", i)
			}
			resp.ID, resp.Model = ev.ID, ev.Model
		case protocol.EventPartStart:
			if open != -1 || ev.Index != len(resp.Parts) {
				t.Fatalf("event %d: part %d opened while part %d is open, %d parts so far", i, ev.Index, open, len(resp.Parts))
			}
			open = ev.Index
			resp.Parts = append(resp.Parts, ev.Part)
		case protocol.EventDelta:
			if ev.Index != open {
				t.Fatalf("event %d: delta for part %d while part %d is open", i, ev.Index, open)
			}
			p := &resp.Parts[open]
			p.Text += ev.Part.Text
			p.Arguments += ev.Part.Arguments
		case protocol.EventPartEnd:
			if ev.Index != open {
				t.Fatalf("event %d: end of part %d while part %d is open", i, ev.Index, open)
			}
			open = -1
		case protocol.EventFinish:
			if open != -1 || i != len(events)-1 {
				t.Fatalf("event %d: finish with part %d open or before the last event", i, open)
			}
			resp.Finish, resp.StopSequence = ev.Finish, ev.StopSequence
			if ev.Usage != nil {
				resp.Usage = *ev.Usage
			}
		}
	}
	return resp
}
