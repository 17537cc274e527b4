package anthropic

import (
	"testing"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/sse"
)

// BenchmarkStreamDelta measures a translated stream's cost per event: one
// upstream text delta decoded and written again for the caller.
func BenchmarkStreamDelta(b *testing.B) {
	req := &protocol.Request{}
	d := Messages.NewStreamDecoder(req)
	e := Messages.NewStreamEncoder(req)
	var events []protocol.Event
	for _, ev := range sseEvents(b, fixture(b, "stream_text.sse"))[:2] {
		events, _ = d.Decode(events[:0], ev)
		_ = e.Encode(nil, events[0])
	}
	ev := sse.Event{Name: "content_block_delta", Data: []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello, this is a typical streamed chunk of text."}}`)}
	var out []byte
	b.ReportAllocs()
	for b.Loop() {
		var err error
		events, err = d.Decode(events[:0], ev)
		if err != nil || len(events) != 1 {
			b.Fatal(err, events)
		}
		out = e.Encode(out[:0], events[0])
	}
}
