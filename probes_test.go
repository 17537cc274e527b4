package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/testenv"
)

// probe GETs base+path and returns the status and body.
func probe(t *testing.T, base, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// healthcheckCode runs `sluice healthcheck` with the environment a
// container's HEALTHCHECK has: SLUICE_ADDR, as serve reads it.
func healthcheckCode(addr string, args ...string) (int, string) {
	var out, errs bytes.Buffer
	code := run(context.Background(), append([]string{"healthcheck"}, args...), env("SLUICE_ADDR", addr), &out, &errs)
	return code, out.String() + errs.String()
}

// TestHealthcheckCommand runs `sluice healthcheck` against a gateway
// started as the binary is: ready exits 0, nothing listening exits 1, as
// does a wrong --url.
func TestHealthcheckCommand(t *testing.T) {
	target := testenv.Target(t, "sqlite")
	getenv := env("DATABASE_URL", testenv.URL(target), "SLUICE_MASTER_KEY", testMasterKey, "SLUICE_JWT_SECRET", testJWT)
	base, stop := startBinary(t, getenv)
	addr := strings.TrimPrefix(base, "http://")
	_, port, _ := strings.Cut(addr, ":")

	tests := []struct {
		name     string
		addr     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"the listen address", addr, nil, 0, "ready"},
		{"all interfaces, as :PORT", ":" + port, nil, 0, "ready"},
		{"an explicit URL", "", []string{"--url", base + "/readyz"}, 0, "ready"},
		{"a URL that answers 404", addr, []string{"--url", base + "/chat/completions"}, 1, "answered 404"},
		{"a bad timeout", addr, []string{"--timeout", "soon"}, 1, "invalid value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := healthcheckCode(tt.addr, tt.args...)
			if code != tt.wantCode || !strings.Contains(out, tt.wantOut) {
				t.Fatalf("healthcheck = %d %q, want %d containing %q", code, out, tt.wantCode, tt.wantOut)
			}
		})
	}

	if code, logs := stop(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, logs)
	}
	start := time.Now()
	if code, out := healthcheckCode(addr, "--timeout", "2s"); code != 1 || !strings.Contains(out, "connection refused") {
		t.Fatalf("with the gateway stopped: healthcheck = %d %q, want 1 and connection refused", code, out)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("the failing check took %v", took)
	}
}

// TestReadyzWhileDraining: once a shutdown begins, /readyz answers 503
// (and the healthcheck fails) during --drain-delay while everything else,
// /healthz and the API, is still served; then the gateway stops cleanly.
func TestReadyzWhileDraining(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, d string) {
		target := testenv.Target(t, d)
		getenv := env("DATABASE_URL", testenv.URL(target), "SLUICE_MASTER_KEY", testMasterKey, "SLUICE_JWT_SECRET", testJWT)
		base, stop := startBinary(t, getenv, "--drain-delay", "3s")
		if code, body := probe(t, base, "/readyz"); code != 200 || !strings.HasPrefix(body, "ready\ndatabase: ok") {
			t.Fatalf("before the shutdown: /readyz = %d %q", code, body)
		}
		stopped := make(chan int, 1)
		go func() { code, _ := stop(); stopped <- code }()

		deadline := time.Now().Add(2 * time.Second)
		for {
			code, body := probe(t, base, "/readyz")
			if code == 503 && strings.HasPrefix(body, "draining") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("/readyz still %d %q after the shutdown began", code, body)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if code, _ := probe(t, base, "/healthz"); code != 200 {
			t.Errorf("while draining: /healthz = %d, want 200 (the process is alive)", code)
		}
		if out := graphqlPost(t, base, `{ apiStandards { apiStandardHandle } }`); out["data"] == nil {
			t.Errorf("while draining, the API did not answer: %v", out)
		}
		if code, out := healthcheckCode(strings.TrimPrefix(base, "http://")); code != 1 || !strings.Contains(out, "503") {
			t.Errorf("while draining: healthcheck = %d %q, want 1", code, out)
		}
		select {
		case code := <-stopped:
			if code != 0 {
				t.Fatalf("exit %d after draining", code)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the gateway did not stop after its drain delay")
		}
	})
}

// TestReadyzThroughADatabaseOutage: a PostgreSQL that goes away leaves the
// replica ready (the proxy answers from its caches), with the outage in
// the answer's body; the database coming back clears it.
func TestReadyzThroughADatabaseOutage(t *testing.T) {
	target := testenv.Target(t, "postgres")
	u, _ := url.Parse(target.DSN)
	db := newCuttable(t, u.Host)
	u.Host = db.ln.Addr().String()
	base, _ := startBinary(t, env("DATABASE_URL", u.String(), "SLUICE_MASTER_KEY", testMasterKey, "SLUICE_JWT_SECRET", testJWT))

	db.cut()
	code, body := probe(t, base, "/readyz")
	if code != 200 || !strings.Contains(body, "database: unreachable for") {
		t.Fatalf("during the outage: /readyz = %d %q, want 200 naming the outage", code, body)
	}
	if code, out := healthcheckCode(strings.TrimPrefix(base, "http://")); code != 0 {
		t.Fatalf("during the outage: healthcheck = %d %q, want 0", code, out)
	}
	db.restore()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body = probe(t, base, "/readyz")
		if code == 200 && strings.Contains(body, "database: ok") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the outage: /readyz = %d %q", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
