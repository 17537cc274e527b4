package cohere

import (
	"testing"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/sse"
)

// BenchmarkStreamDelta measures decoding one streamed text delta from
// Cohere and writing it as a Cohere caller's event, the translated
// stream's cost per event.
func BenchmarkStreamDelta(b *testing.B) {
	ev := sse.Event{Name: "content-delta", Data: []byte(`{"type":"content-delta","index":0,"delta":{"message":{"content":{"text":" Language"}}}}`)}
	d := Chat.NewStreamDecoder(chatReq)
	e := Chat.NewStreamEncoder(chatReq)
	events, _ := d.Decode(nil, sse.Event{Name: "content-start", Data: []byte(`{"type":"content-start","index":0,"delta":{"message":{"content":{"type":"text","text":""}}}}`)})
	var out []byte
	for _, x := range events {
		out = e.Encode(out, x)
	}
	b.ReportAllocs()
	for b.Loop() {
		events, err := d.Decode(events[:0], ev)
		if err != nil || len(events) != 1 || events[0].Type != protocol.EventDelta {
			b.Fatalf("%v %v", events, err)
		}
		out = e.Encode(out[:0], events[0])
	}
}
