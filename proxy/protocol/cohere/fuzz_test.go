package cohere

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/sse"
)

func seedFixtures(f *testing.F, pattern string) {
	names, _ := filepath.Glob(filepath.Join("testdata", pattern))
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzDecodeRequest checks that decoding never panics and that whatever
// is accepted either encodes to valid JSON or is refused.
func FuzzDecodeRequest(f *testing.F) {
	seedFixtures(f, "request_*.json")
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, op := range []protocol.Op{protocol.OpGenerate, protocol.OpEmbed} {
			req, err := Chat.DecodeRequest(op, body)
			if err != nil {
				continue
			}
			call, err := Chat.EncodeRequest(req)
			if err == nil && !json.Valid(call.Body) {
				t.Fatalf("encoded an invalid body: %s", call.Body)
			}
		}
	})
}

// FuzzStreamDecoder checks that no stream makes the decoder panic or
// break the event order, and that its events encode.
func FuzzStreamDecoder(f *testing.F) {
	seedFixtures(f, "stream_*.sse")
	f.Fuzz(func(t *testing.T, stream []byte) {
		r := sse.NewReader(strings.NewReader(string(stream)))
		d := Chat.NewStreamDecoder(chatReq)
		e := Chat.NewStreamEncoder(chatReq)
		var events []protocol.Event
		for {
			ev, err := r.Next()
			if err != nil {
				break
			}
			n := len(events)
			if events, err = d.Decode(events, ev); err != nil {
				break
			}
			if len(events)-n > 8 {
				t.Fatalf("one event decoded to %d", len(events)-n)
			}
		}
		var out []byte
		for _, ev := range events {
			out = e.Encode(out, ev)
		}
		e.End(out)
	})
}
