package tracing

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestEnabled(t *testing.T) {
	cases := []struct {
		name     string
		endpoint string
		env      map[string]string
		want     bool
	}{
		{"nothing set", "", nil, false},
		{"flag", "http://127.0.0.1:4318", nil, true},
		{"standard endpoint", "", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, true},
		{"traces endpoint", "", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, true},
		{"sdk disabled", "http://127.0.0.1:4318", map[string]string{"OTEL_SDK_DISABLED": "true"}, false},
		{"exporter none", "", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, false},
		{"headers alone", "", map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer x"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Enabled(Config{Endpoint: c.endpoint}, func(k string) string { return c.env[k] })
			if got != c.want {
				t.Errorf("Enabled = %v, want %v", got, c.want)
			}
		})
	}
}

// TestStartOff: with no endpoint nothing starts and the tracer is nil,
// which the proxy takes as tracing off.
func TestStartOff(t *testing.T) {
	p, err := Start(context.Background(), Config{SampleRatio: 1}, func(string) string { return "" })
	if err != nil || p != nil {
		t.Fatalf("Start = %v, %v; want nil, nil", p, err)
	}
	if p.Tracer() != nil {
		t.Error("a nil provider has a tracer")
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Error(err)
	}
}

func TestStartRefusesABadRatio(t *testing.T) {
	_, err := Start(context.Background(), Config{Endpoint: "http://127.0.0.1:4318", SampleRatio: 1.5}, func(string) string { return "" })
	if err == nil {
		t.Fatal("a sample ratio of 1.5 was accepted")
	}
}

func TestTracesURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://c:4318":   "http://c:4318/v1/traces",
		"http://c:4318/":  "http://c:4318/v1/traces",
		"https://c/otlp":  "https://c/otlp/v1/traces",
		"https://c/otlp/": "https://c/otlp/v1/traces",
	} {
		if got := TracesURL(in); got != want {
			t.Errorf("TracesURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestExportFailureLogged: a collector that refuses the spans, or cannot
// be reached, is reported through Config.Log as a warning, not on the
// standard library's logger, and without the credentials the endpoint's
// URL may carry.
func TestExportFailureLogged(t *testing.T) {
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer refusing.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	for _, c := range []struct {
		name, endpoint, want string
	}{
		{"refused", refusing.URL, "401"},
		// An endpoint whose URL carries credentials, unreachable: the
		// warning names it without them (net/http's error already hides
		// the password; the token in the query is what would show).
		{"unreachable", strings.Replace(gone.URL, "http://", "http://user:s3cret@", 1) + "/otlp?token=t0ken", "connection refused"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var logs bytes.Buffer
			var mu sync.Mutex
			log := slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, nil))
			p, err := Start(context.Background(), Config{Endpoint: c.endpoint, SampleRatio: 1, Log: log}, func(string) string { return "" })
			if err != nil || p == nil {
				t.Fatalf("Start = %v, %v", p, err)
			}
			_, span := p.Tracer().Start(context.Background(), "refused")
			span.End()
			_ = p.Shutdown(context.Background())
			mu.Lock()
			defer mu.Unlock()
			got := logs.String()
			if !strings.Contains(got, `"msg":"tracing: export failed"`) || !strings.Contains(got, c.want) {
				t.Fatalf("logs = %q, want the failed export as a warning, with %q", got, c.want)
			}
			if strings.Contains(got, "s3cret") || strings.Contains(got, "t0ken") {
				t.Fatalf("logs = %q, which carry the endpoint's credentials", got)
			}
		})
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
