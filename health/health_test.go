package health

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestLocalURL(t *testing.T) {
	tests := []struct{ addr, want, wantErr string }{
		{":8080", "http://127.0.0.1:8080/readyz", ""},
		{"0.0.0.0:9000", "http://127.0.0.1:9000/readyz", ""},
		{"[::]:8080", "http://[::1]:8080/readyz", ""},
		{"10.1.2.3:8080", "http://10.1.2.3:8080/readyz", ""},
		{"localhost:80", "http://localhost:80/readyz", ""},
		{"8080", "", "missing port"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			got, err := LocalURL(tt.addr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("LocalURL(%q) = %q, %v; want %q", tt.addr, got, err, tt.want)
			}
		})
	}
}

// TestReadiness: a database that does not answer is reported, not a
// reason to be unready; a shutdown under way is.
func TestReadiness(t *testing.T) {
	var dbErr error
	r := &Readiness{Ping: func(ctx context.Context) error { return dbErr }, PingTimeout: 50 * time.Millisecond}
	get := func() (int, string) {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, ReadyPath, nil))
		return rec.Code, rec.Body.String()
	}
	steps := []struct {
		name     string
		dbErr    error
		drain    bool
		wantCode int
		wantBody []string
	}{
		{"database answers", nil, false, 200, []string{"ready\n", "database: ok"}},
		{"database away", errors.New("connection refused"), false, 200, []string{"ready\n", "database: unreachable for"}},
		{"database back", nil, false, 200, []string{"ready\n", "database: ok"}},
		{"draining", nil, true, 503, []string{"draining", "database: ok"}},
		{"draining, database away", errors.New("connection refused"), false, 503, []string{"draining", "database: unreachable"}},
	}
	for _, s := range steps {
		dbErr = s.dbErr
		if s.drain {
			r.Drain()
		}
		code, body := get()
		if code != s.wantCode {
			t.Fatalf("%s: %d %q, want %d", s.name, code, body, s.wantCode)
		}
		for _, w := range s.wantBody {
			if !strings.Contains(body, w) {
				t.Fatalf("%s: body %q lacks %q", s.name, body, w)
			}
		}
	}
}

// TestReadinessBoundsASlowPing: a database that hangs costs the probe the
// ping timeout, not the probe's own.
func TestReadinessBoundsASlowPing(t *testing.T) {
	r := &Readiness{Ping: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, PingTimeout: 100 * time.Millisecond}
	start := time.Now()
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, ReadyPath, nil))
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("the probe took %v", took)
	}
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "unreachable") {
		t.Fatalf("%d %q", rec.Code, rec.Body.String())
	}
}

func TestCheck(t *testing.T) {
	var current atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != ReadyPath {
			http.NotFound(w, r)
			return
		}
		status := int(current.Load())
		if status == 0 {
			time.Sleep(time.Second)
		}
		w.WriteHeader(max(status, 200))
		io.WriteString(w, map[int]string{200: "ready\ndatabase: ok\n", 503: "draining\n", 0: "late\n"}[status])
	}))
	defer srv.Close()

	tests := []struct {
		name     string
		status   int
		url      string
		wantLine string
		wantErr  string
	}{
		{"ready", 200, srv.URL + ReadyPath, "ready", ""},
		{"draining", 503, srv.URL + ReadyPath, "draining", "answered 503"},
		{"wrong path", 200, srv.URL + "/nope", "404 page not found", "answered 404"},
		{"too slow", 0, srv.URL + ReadyPath, "", "deadline exceeded"},
		{"nothing listening", 200, "http://127.0.0.1:1" + ReadyPath, "", "readiness check"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			current.Store(int32(tt.status))
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			line, err := Check(ctx, tt.url)
			if line != tt.wantLine {
				t.Errorf("line %q, want %q", line, tt.wantLine)
			}
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
