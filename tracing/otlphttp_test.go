package tracing

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/sluicehq/sluice/tracing/otlptest"
)

func TestParseHeaders(t *testing.T) {
	cases := []struct {
		in   string
		want map[string]string
	}{
		{"", map[string]string{}},
		{"authorization=Bearer x", map[string]string{"authorization": "Bearer x"}},
		{" a = 1 , b=2", map[string]string{"a": "1", "b": "2"}},
		{"api-key=a%3Db%2Cc%20d", map[string]string{"api-key": "a=b,c d"}},
		{"k=base64+/==", map[string]string{"k": "base64+/=="}},
		{"k=", map[string]string{"k": ""}},
		{"k=1,k=2", map[string]string{"k": "2"}},
		{"a=1,, b=2 ,", map[string]string{"a": "1", "b": "2"}},
		{"", map[string]string{}},
	}
	for _, c := range cases {
		if got, err := parseHeaders(c.in); err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseHeaders(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	// A malformed pair is refused, named by its place, its value not shown.
	for _, c := range []struct{ in, says string }{
		{"novalue,x=1", "pair 1"},
		{"ok=2,bad key=s3cret", "pair 2"},
		{"=s3cret,ok=2", "pair 1"},
		{"ok=2,k=%zzs3cret", "k (pair 2)"},
	} {
		_, err := parseHeaders(c.in)
		if err == nil || !strings.Contains(err.Error(), c.says) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("parseHeaders(%q) error = %v, want one naming %s without the value", c.in, err, c.says)
		}
	}
}

func TestReadExportConfig(t *testing.T) {
	cases := []struct {
		name     string
		endpoint string
		env      map[string]string
		want     exportConfig
		wantErr  string
	}{
		{"flag wins", "http://flag:4318/", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t/x", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://b"},
			exportConfig{url: "http://flag:4318/v1/traces", shown: "http://flag:4318/v1/traces", headers: map[string]string{}, timeout: 10 * time.Second}, ""},
		{"traces endpoint as is", "", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t/x", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://b"},
			exportConfig{url: "http://t/x", shown: "http://t/x", headers: map[string]string{}, timeout: 10 * time.Second}, ""},
		{"base endpoint", "", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://b/otlp"},
			exportConfig{url: "https://b/otlp/v1/traces", shown: "https://b/otlp/v1/traces", headers: map[string]string{}, timeout: 10 * time.Second}, ""},
		{"traces settings win", "http://c", map[string]string{
			"OTEL_EXPORTER_OTLP_HEADERS": "a=1", "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "b=2",
			"OTEL_EXPORTER_OTLP_COMPRESSION": "none", "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "GZIP",
			"OTEL_EXPORTER_OTLP_TIMEOUT": "5000", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "250"},
			exportConfig{url: "http://c/v1/traces", shown: "http://c/v1/traces", headers: map[string]string{"b": "2"}, gzip: true, timeout: 250 * time.Millisecond}, ""},
		{"general settings", "http://c", map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "a=1", "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip", "OTEL_EXPORTER_OTLP_TIMEOUT": "1500"},
			exportConfig{url: "http://c/v1/traces", shown: "http://c/v1/traces", headers: map[string]string{"a": "1"}, gzip: true, timeout: 1500 * time.Millisecond}, ""},
		{"credentials in the URL", "", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://u:p@c/v1/traces?token=t"},
			exportConfig{url: "https://u:p@c/v1/traces?token=t", shown: "https://c/v1/traces", headers: map[string]string{}, timeout: 10 * time.Second}, ""},
		{"not a URL", "collector:4318", nil, exportConfig{}, "not an http(s) URL"},
		{"unknown compression", "http://c", map[string]string{"OTEL_EXPORTER_OTLP_COMPRESSION": "zstd"}, exportConfig{}, "neither gzip nor none"},
		{"bad timeout", "http://c", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "10s"}, exportConfig{}, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"},
		{"zero timeout", "http://c", map[string]string{"OTEL_EXPORTER_OTLP_TIMEOUT": "0"}, exportConfig{}, "positive"},
		{"missing CA file", "http://c", map[string]string{"OTEL_EXPORTER_OTLP_CERTIFICATE": "/nonexistent/ca.pem"}, exportConfig{}, "OTEL_EXPORTER_OTLP_CERTIFICATE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := readExportConfig(Config{Endpoint: c.endpoint}, func(k string) string { return c.env[k] })
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one naming %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("config %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 6, 7, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"2":                             2 * time.Second,
		"-3":                            0,
		"soon":                          0,
		"Sun, 06 Dec 2026 07:00:03 GMT": 3 * time.Second,
		"Sun, 06 Dec 2026 06:59:00 GMT": 0,
	} {
		if got := retryAfter(in, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

// receiver is an OTLP/HTTP collector that answers the statuses of its
// script in turn (then 200) and keeps what each request carried.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	script []int
	after  string // Retry-After sent with a refusal
	got    []received
}

type received struct {
	at          time.Time
	contentType string
	auth        string
	req         *collectortrace.ExportTraceServiceRequest
}

func newReceiver(t *testing.T, tlsServer bool, after string, script ...int) *receiver {
	r := &receiver{script: script, after: after}
	h := http.HandlerFunc(func(w http.ResponseWriter, hr *http.Request) {
		req, err := otlptest.Decode(hr)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.got = append(r.got, received{time.Now(), hr.Header.Get("Content-Type"), hr.Header.Get("Authorization"), req})
		status := http.StatusOK
		if len(r.script) > 0 {
			status, r.script = r.script[0], r.script[1:]
		}
		r.mu.Unlock()
		if status != http.StatusOK && r.after != "" {
			w.Header().Set("Retry-After", r.after)
		}
		w.WriteHeader(status)
	})
	if tlsServer {
		r.srv = httptest.NewTLSServer(h)
	} else {
		r.srv = httptest.NewServer(h)
	}
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func someSpans() []*tracepb.ResourceSpans {
	return []*tracepb.ResourceSpans{
		{ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{{Name: "chat gpt-4o", TraceId: make([]byte, 16), SpanId: make([]byte, 8)}}}}},
		{ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{{Name: "sluice.budget"}, {Name: "sluice.key_check"}}}}},
	}
}

func spanNames(req *collectortrace.ExportTraceServiceRequest) []string {
	var names []string
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, sp := range ss.Spans {
				names = append(names, sp.Name)
			}
		}
	}
	return names
}

func upload(t *testing.T, r *receiver, timeout time.Duration, gz bool) error {
	t.Helper()
	c := newOTLPHTTP(exportConfig{url: r.srv.URL + "/v1/traces", headers: map[string]string{"authorization": "Bearer s3cret-token"}, gzip: gz, timeout: timeout})
	defer c.Stop(context.Background())
	return c.UploadTraces(context.Background(), someSpans())
}

// TestUploadRetriesThenSucceeds: a 503 and a 502 are retried with backoff,
// and the request that lands is a decodable export request with every
// span, the headers and the protobuf content type.
func TestUploadRetriesThenSucceeds(t *testing.T) {
	for _, gz := range []bool{false, true} {
		r := newReceiver(t, false, "", http.StatusServiceUnavailable, http.StatusBadGateway)
		if err := upload(t, r, 5*time.Second, gz); err != nil {
			t.Fatalf("gzip %v: %v", gz, err)
		}
		got := r.requests()
		if len(got) != 3 {
			t.Fatalf("gzip %v: %d requests, want 3", gz, len(got))
		}
		if d := got[2].at.Sub(got[1].at); d < 2*firstBackoff {
			t.Errorf("second retry after %v, want the doubled backoff %v", d, 2*firstBackoff)
		}
		last := got[2]
		if want := []string{"chat gpt-4o", "sluice.budget", "sluice.key_check"}; !reflect.DeepEqual(spanNames(last.req), want) {
			t.Errorf("gzip %v: spans %v, want %v", gz, spanNames(last.req), want)
		}
		if last.contentType != "application/x-protobuf" || last.auth != "Bearer s3cret-token" {
			t.Errorf("gzip %v: Content-Type %q, Authorization %q", gz, last.contentType, last.auth)
		}
	}
}

// TestUploadHonoursRetryAfter: a 429's Retry-After is waited before the
// next try.
func TestUploadHonoursRetryAfter(t *testing.T) {
	r := newReceiver(t, false, "1", http.StatusTooManyRequests)
	if err := upload(t, r, 5*time.Second, false); err != nil {
		t.Fatal(err)
	}
	got := r.requests()
	if len(got) != 2 {
		t.Fatalf("%d requests, want 2", len(got))
	}
	if d := got[1].at.Sub(got[0].at); d < time.Second {
		t.Errorf("retried after %v, want the asked 1s", d)
	}
}

// TestUploadGivesUp: a wait past the deadline, too many refusals and a
// status that is not retried end the upload with an error naming the
// status and never the headers.
func TestUploadGivesUp(t *testing.T) {
	cases := []struct {
		name     string
		after    string
		script   []int
		timeout  time.Duration
		requests int
		status   string
	}{
		{"retry-after past the deadline", "30", []int{503}, 2 * time.Second, 1, "503"},
		{"not retried", "", []int{401}, 5 * time.Second, 1, "401 Unauthorized"},
		{"bad request", "", []int{400}, 5 * time.Second, 1, "400"},
		{"too many refusals", "", []int{504, 504, 504, 504, 504, 504}, 10 * time.Second, maxAttempts, "504"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newReceiver(t, false, c.after, c.script...)
			start := time.Now()
			err := upload(t, r, c.timeout, false)
			if err == nil || !strings.Contains(err.Error(), c.status) {
				t.Fatalf("error %v, want one naming %s", err, c.status)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the error shows a header: %v", err)
			}
			if n := len(r.requests()); n != c.requests {
				t.Errorf("%d requests, want %d", n, c.requests)
			}
			if d := time.Since(start); d > c.timeout {
				t.Errorf("gave up after %v, past the %v timeout", d, c.timeout)
			}
		})
	}
}

func TestUploadAfterStopFails(t *testing.T) {
	r := newReceiver(t, false, "")
	c := newOTLPHTTP(exportConfig{url: r.srv.URL, timeout: time.Second})
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.UploadTraces(context.Background(), someSpans()); err == nil {
		t.Error("a stopped client uploaded")
	}
	if n := len(r.requests()); n != 0 {
		t.Errorf("%d requests after Stop", n)
	}
}

// TestUploadTrustsTheGivenCA: a collector with a private certificate is
// reached once OTEL_EXPORTER_OTLP_CERTIFICATE names it, and refused before.
func TestUploadTrustsTheGivenCA(t *testing.T) {
	r := newReceiver(t, true, "")
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, env := range []map[string]string{{}, {"OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE": ca}} {
		cfg, err := readExportConfig(Config{Endpoint: r.srv.URL}, func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		err = newOTLPHTTP(cfg).UploadTraces(context.Background(), someSpans())
		if trusted := env["OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE"] != ""; trusted != (err == nil) {
			t.Errorf("CA given %v: upload error %v", trusted, err)
		}
	}
	if n := len(r.requests()); n != 1 {
		t.Errorf("%d requests reached the collector, want 1", n)
	}
}

// TestNoGRPCLinked: the gateway's binary links neither grpc nor the OTLP
// collector package (which holds the gRPC service), tracing on or off.
func TestNoGRPCLinked(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "github.com/sluicehq/sluice")
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=readonly")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := strings.Fields(string(out))
	if len(pkgs) < 50 || !slices.Contains(pkgs, "github.com/sluicehq/sluice/tracing") {
		t.Fatalf("go list gave %d packages without tracing", len(pkgs))
	}
	for _, p := range pkgs {
		if strings.HasPrefix(p, "google.golang.org/grpc") || strings.HasPrefix(p, "go.opentelemetry.io/proto/otlp/collector") {
			t.Errorf("the binary links %s", p)
		}
	}
}
