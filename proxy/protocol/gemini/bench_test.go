package gemini

import (
	"testing"

	"github.com/sluicehq/sluice/proxy/sse"
)

// BenchmarkStreamTextDelta measures the translated-stream cost of one
// typical chunk: decode a Gemini text chunk and encode its events as
// Gemini chunks again.
func BenchmarkStreamTextDelta(b *testing.B) {
	chunk := sse.Event{Data: []byte(`{"candidates": [{"content": {"parts": [{"text": " sky is blue because air molecules scatter"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 8,"totalTokenCount": 8},"modelVersion": "gemini-2.0-flash","responseId": "Xg2taOKwFtSuz7IPmfmV2AM"}`)}
	d := API.NewStreamDecoder(generate)
	enc := API.NewStreamEncoder(generate)
	evs, _ := d.Decode(nil, chunk) // opens the answer and the text part
	out := enc.Encode(nil, evs[0])
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var err error
		evs, err = d.Decode(evs[:0], chunk)
		if err != nil {
			b.Fatal(err)
		}
		out = out[:0]
		for _, ev := range evs {
			out = enc.Encode(out, ev)
		}
	}
	if len(out) == 0 {
		b.Fatal("nothing encoded")
	}
}
