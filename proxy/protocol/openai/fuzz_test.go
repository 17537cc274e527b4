package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/sse"
)

func seed(f *testing.F, pattern string) {
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds for %s: %v", pattern, err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzDecodeRequest: decoding never panics, and whatever decodes encodes
// to valid JSON or an error.
func FuzzDecodeRequest(f *testing.F) {
	seed(f, "request_*.json")
	f.Add([]byte(`{"messages":[{"role":"tool","tool_call_id":"x","content":[{"type":"text","text":"y"}]},{"role":"user","content":null}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, op := range []protocol.Op{protocol.OpGenerate, protocol.OpEmbed} {
			req, err := Chat.DecodeRequest(op, body)
			if err != nil {
				continue
			}
			call, err := Chat.EncodeRequest(req)
			if err != nil {
				continue
			}
			if !json.Valid(call.Body) {
				t.Fatalf("invalid JSON from %q: %s", body, call.Body)
			}
		}
	})
}

// FuzzStreamDecoder: decoding any stream never panics, and what it emits
// keeps the event order every encoder relies on.
func FuzzStreamDecoder(f *testing.F) {
	seed(f, "stream_*.sse")
	f.Fuzz(func(t *testing.T, stream []byte) {
		d := newStreamDecoder()
		r := sse.NewReader(bytes.NewReader(stream))
		var events []protocol.Event
		for {
			ev, err := r.Next()
			if errors.Is(err, io.EOF) || err != nil {
				break
			}
			if events, err = d.Decode(events, ev); err != nil {
				break
			}
		}
		finished := false
		for i, ev := range events {
			if i == 0 && ev.Type != protocol.EventStart {
				t.Fatalf("first event %+v", ev)
			}
			if finished && ev.Type != protocol.EventUsage {
				t.Fatalf("event after finish: %+v", ev)
			}
			finished = finished || ev.Type == protocol.EventFinish
			if ev.Index < 0 {
				t.Fatalf("negative index: %+v", ev)
			}
		}
		// Whatever was decoded encodes for a caller.
		e := newStreamEncoder(&protocol.Request{IncludeStreamUsage: true})
		var out []byte
		for _, ev := range events {
			out = e.Encode(out, ev)
		}
		out = e.End(out)
		rr := sse.NewReader(bytes.NewReader(out))
		for {
			ev, err := rr.Next()
			if err != nil {
				break
			}
			if string(ev.Data) != "[DONE]" && !json.Valid(ev.Data) {
				t.Fatalf("invalid chunk %s", ev.Data)
			}
		}
	})
}
