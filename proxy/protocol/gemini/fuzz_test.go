package gemini

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/sse"
)

func FuzzDecodeRequest(f *testing.F) {
	files, _ := filepath.Glob("testdata/request_*.json")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(protocol.OpGenerate))
	}
	f.Add([]byte(`{"generate_content_request":{"contents":[{"parts":[{"function_call":{"name":"f"}},{"function_response":{"name":"f","response":{"x_y":1}}}]}]}}`), uint8(protocol.OpCountTokens))
	f.Add([]byte(`{"requests":[{"content":{"parts":[{"text":"a"}]}}]}`), uint8(protocol.OpEmbed))
	f.Fuzz(func(t *testing.T, body []byte, op uint8) {
		o := protocol.Op(op % 3)
		req, err := API.DecodeRequest(o, body)
		if err != nil {
			return
		}
		req.Model = "m"
		call, err := API.EncodeRequest(req)
		if err != nil {
			return
		}
		if !json.Valid(call.Body) {
			t.Fatalf("EncodeRequest wrote invalid JSON %q for %q", call.Body, body)
		}
	})
}

func FuzzStreamDecoder(f *testing.F) {
	files, _ := filepath.Glob("testdata/stream_*.sse")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("data: {\"error\":{\"code\":500}}\n\n"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		r := sse.NewReaderSize(bytesReader(stream), 1<<16)
		d := API.NewStreamDecoder(generate)
		enc := API.NewStreamEncoder(generate)
		var evs []protocol.Event
		for {
			ev, err := r.Next()
			if err != nil {
				break
			}
			evs, err = d.Decode(evs[:0], ev)
			if err != nil {
				continue
			}
			for _, e := range evs {
				_ = enc.Encode(nil, e)
			}
		}
	})
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
