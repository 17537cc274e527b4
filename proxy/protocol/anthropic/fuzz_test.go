package anthropic

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
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzDecodeRequest checks that DecodeRequest never panics, and that
// whatever it accepts EncodeRequest refuses or writes as valid JSON.
func FuzzDecodeRequest(f *testing.F) {
	seed(f, "request_*.json")
	f.Add([]byte(`{"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"x","content":[{"type":"document","source":{"type":"text","data":"a"}}]}]}],"thinking":{"type":"enabled","budget_tokens":2000},"max_tokens":1500}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, op := range []protocol.Op{protocol.OpGenerate, protocol.OpCountTokens} {
			req, err := Messages.DecodeRequest(op, body)
			if err != nil {
				continue
			}
			call, err := Messages.EncodeRequest(req)
			if err != nil {
				continue
			}
			if !json.Valid(call.Body) {
				t.Fatalf("encoded invalid JSON %s from %s", call.Body, body)
			}
		}
	})
}

// FuzzStreamDecoder checks that the stream decoder never panics on any
// stream, and that the encoder takes whatever it produces.
func FuzzStreamDecoder(f *testing.F) {
	seed(f, "stream_*.sse")
	f.Fuzz(func(t *testing.T, stream []byte) {
		for _, req := range []*protocol.Request{{}, structuredReq} {
			d := Messages.NewStreamDecoder(req)
			e := Messages.NewStreamEncoder(req)
			r := sse.NewReader(bytes.NewReader(stream))
			var out []byte
			for {
				ev, err := r.Next()
				if errors.Is(err, io.EOF) || err != nil {
					break
				}
				events, err := d.Decode(nil, ev)
				if err != nil {
					break
				}
				for _, ie := range events {
					out = e.Encode(out, ie)
				}
			}
			_ = e.End(out)
		}
	})
}
