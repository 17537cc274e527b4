// Package otlptest reads OTLP/HTTP trace exports for tests that play the
// collector. It links the collector's generated package (and grpc with
// it), so only tests import it.
package otlptest

import (
	"compress/gzip"
	"fmt"
	"io"
	"net/http"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// Decode reads r's body, gunzipped when Content-Encoding says gzip, as an
// ExportTraceServiceRequest.
func Decode(r *http.Request) (*collectortrace.ExportTraceServiceRequest, error) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, fmt.Errorf("otlptest: gunzip: %w", err)
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		return nil, fmt.Errorf("otlptest: read: %w", err)
	}
	req := &collectortrace.ExportTraceServiceRequest{}
	if err := proto.Unmarshal(raw, req); err != nil {
		return nil, fmt.Errorf("otlptest: decode: %w", err)
	}
	return req, nil
}
