package anthropic

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

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sseEvents splits a stream into events, copying each (the reader reuses
// its buffers).
func sseEvents(t testing.TB, stream []byte) []sse.Event {
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

// decodeStream runs a stream through a fresh decoder for req.
func decodeStream(t testing.TB, req *protocol.Request, stream []byte) []protocol.Event {
	t.Helper()
	d := Messages.NewStreamDecoder(req)
	var out []protocol.Event
	for _, ev := range sseEvents(t, stream) {
		var err error
		out, err = d.Decode(out, ev)
		if err != nil {
			t.Fatalf("decoding %s: %v", ev.Data, err)
		}
	}
	return out
}

// encodeStream writes events through a fresh encoder for req, then End.
func encodeStream(req *protocol.Request, events []protocol.Event) []byte {
	e := Messages.NewStreamEncoder(req)
	var out []byte
	for _, ev := range events {
		out = e.Encode(out, ev)
	}
	return e.End(out)
}

func decodeFixture(t *testing.T, name string) *protocol.Request {
	t.Helper()
	req, err := Messages.DecodeRequest(protocol.OpGenerate, fixture(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return req
}

func ptrTo[T any](v T) *T { return &v }
