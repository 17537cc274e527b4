package main

import (
	"bytes"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/tracing/otlptest"
)

// collector is an OTLP/HTTP trace receiver: it decodes each POST
// /v1/traces and keeps its spans by name, with their trace ids.
type collector struct {
	srv   *httptest.Server
	mu    sync.Mutex
	spans map[string][]string // span name -> hex trace ids
	auth  []string
}

func newCollector(t *testing.T) *collector {
	c := &collector{spans: map[string][]string{}}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "not an OTLP/HTTP protobuf trace export", http.StatusNotFound)
			return
		}
		req, err := otlptest.Decode(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		c.auth = append(c.auth, r.Header.Get("Authorization"))
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					c.spans[sp.Name] = append(c.spans[sp.Name], hex.EncodeToString(sp.TraceId))
				}
			}
		}
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
		_, _ = w.Write(out)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// TestTracingOverOTLP: a gateway started with --otel-endpoint exports the
// span of a proxied request to an OTLP/HTTP collector, with the headers of
// OTEL_EXPORTER_OTLP_HEADERS, by the time it has stopped; the span is in
// the client's trace, and GraphQL returns that trace id on the usage
// record.
func TestTracingOverOTLP(t *testing.T) {
	const clientTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	testenv.EachDialect(t, func(t *testing.T, d string) {
		col := newCollector(t)
		getenv := env("DATABASE_URL", testenv.URL(testenv.Target(t, d)), "SLUICE_ADMIN_PASSWORD", "pw-otel",
			"SLUICE_MASTER_KEY", "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=", "SLUICE_JWT_SECRET", "e2e-jwt-secret-e2e-jwt-secret-00",
			"OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20collector-token")
		base, stop := startBinary(t, getenv, "--otel-endpoint", col.srv.URL)
		upstream, _ := fakeOpenAI(t)
		token, key, _ := setupService(t, base, "pw-otel", upstream.URL, "")
		req, _ := http.NewRequest(http.MethodPost, base+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Traceparent", "00-"+clientTrace+"-00f067aa0ba902b7-01")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		var got any
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			edges := dig(gql(t, base, token, `{ usageRecords(first: 1) { edges { node { traceID } } } }`, nil), "usageRecords", "edges").([]any)
			if len(edges) == 1 {
				got = dig(edges[0].(map[string]any), "node", "traceID")
				break
			}
		}
		if got != clientTrace {
			t.Errorf("GraphQL traceID %v, want %s", got, clientTrace)
		}
		if code, logs := stop(); code != 0 {
			t.Fatalf("exit %d:\n%s", code, logs)
		}
		col.mu.Lock()
		defer col.mu.Unlock()
		ids := col.spans["chat gpt-4o-mini"]
		if len(ids) != 1 || ids[0] != clientTrace {
			t.Fatalf("collector got server spans in traces %v, want one in %s; all spans: %v", ids, clientTrace, col.spans)
		}
		for _, name := range []string{"sluice.key_check", "sluice.budget", "sluice.upstream_attempt"} {
			if len(col.spans[name]) != 1 {
				t.Errorf("collector got %d %s spans, want 1", len(col.spans[name]), name)
			}
		}
		for _, a := range col.auth {
			if a != "Bearer collector-token" {
				t.Errorf("an export came with Authorization %q, want OTEL_EXPORTER_OTLP_HEADERS's", a)
			}
		}
		var all bytes.Buffer
		for name := range col.spans {
			all.WriteString(name)
		}
		if strings.Contains(all.String(), key) {
			t.Error("a span name holds the key")
		}
	})
}
