package anthropic

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/proxy/protocol"
)

// compact rewrites JSON text held in the internal form (schemas, tool
// arguments) without insignificant whitespace, which encoding drops.
func compact(t *testing.T, s []byte) []byte {
	t.Helper()
	if len(s) == 0 {
		return s
	}
	var b bytes.Buffer
	if err := json.Compact(&b, s); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return b.Bytes()
}

func compactParts(t *testing.T, parts []protocol.Part) {
	for i := range parts {
		parts[i].Arguments = string(compact(t, []byte(parts[i].Arguments)))
		compactParts(t, parts[i].Content)
	}
}

func compactRequest(t *testing.T, r *protocol.Request) {
	for i := range r.Tools {
		r.Tools[i].Parameters = compact(t, r.Tools[i].Parameters)
	}
	for _, m := range r.Messages {
		compactParts(t, m.Parts)
	}
}

// TestRequestRoundTrip encodes each decoded request fixture for
// Anthropic and decodes the body again: the same request comes back.
// request_structured.json is not here: its output_config becomes a forced
// tool on the way out (checked in TestEncodeRequestBodies).
func TestRequestRoundTrip(t *testing.T) {
	for _, file := range []string{"request_text.json", "request_tools.json", "request_image.json", "request_reasoning.json"} {
		t.Run(file, func(t *testing.T) {
			want := decodeFixture(t, file)
			call, err := Messages.EncodeRequest(want)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Messages.DecodeRequest(protocol.OpGenerate, call.Body)
			if err != nil {
				t.Fatal(err)
			}
			compactRequest(t, want)
			compactRequest(t, got)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

// TestResponseRoundTrip encodes each decoded answer fixture for an
// Anthropic caller and decodes it again.
func TestResponseRoundTrip(t *testing.T) {
	for _, f := range []struct {
		file string
		req  *protocol.Request
	}{{"answer_text.json", nil}, {"answer_tools.json", nil}, {"answer_image.json", nil}, {"answer_structured.json", structuredReq}, {"answer_reasoning.json", nil}} {
		t.Run(f.file, func(t *testing.T) {
			req := f.req
			if req == nil {
				req = &protocol.Request{}
			}
			want, err := Messages.DecodeResponse(req, fixture(t, f.file))
			if err != nil {
				t.Fatal(err)
			}
			b, err := Messages.EncodeResponse(req, want)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Messages.DecodeResponse(req, b)
			if err != nil {
				t.Fatal(err)
			}
			compactParts(t, want.Parts)
			compactParts(t, got.Parts)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

// TestStreamRoundTrip encodes each decoded stream fixture for an
// Anthropic caller and decodes it again: the same events come back.
func TestStreamRoundTrip(t *testing.T) {
	for _, f := range []struct {
		file string
		req  *protocol.Request
	}{{"stream_text.sse", nil}, {"stream_tools.sse", nil}, {"stream_image.sse", nil}, {"stream_structured.sse", structuredReq}, {"stream_reasoning.sse", nil}} {
		t.Run(f.file, func(t *testing.T) {
			req := f.req
			if req == nil {
				req = &protocol.Request{}
			}
			want := decodeStream(t, req, fixture(t, f.file))
			got := decodeStream(t, req, encodeStream(req, want))
			if !reflect.DeepEqual(got, want) {
				g, _ := json.MarshalIndent(got, "", " ")
				w, _ := json.MarshalIndent(want, "", " ")
				t.Errorf("round trip\n%s\nwant\n%s", g, w)
			}
		})
	}
}
