package openai

import (
	"testing"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/sse"
)

// BenchmarkTranslateDelta measures the translated-stream cost of one
// typical event: a provider's content delta decoded and written as a
// caller's chunk.
func BenchmarkTranslateDelta(b *testing.B) {
	chunk := sse.Event{Data: []byte(`{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":" a few words of an answer"},"logprobs":null,"finish_reason":null}]}`)}
	req := &protocol.Request{Stream: true}
	d := newStreamDecoder()
	e := newStreamEncoder(req)
	events, err := d.Decode(nil, chunk)
	if err != nil {
		b.Fatal(err)
	}
	var out []byte
	for _, ev := range events {
		out = e.Encode(out, ev)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		events, err = d.Decode(events[:0], chunk)
		if err != nil {
			b.Fatal(err)
		}
		out = out[:0]
		for _, ev := range events {
			out = e.Encode(out, ev)
		}
	}
}
