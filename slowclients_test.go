package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// rawRequest opens a TCP connection to base and sends a request's headers;
// the body, if any, is the caller's to send.
func rawRequest(t *testing.T, base, head string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	return c
}

// trickle sends one byte every interval until stop is closed or the
// connection breaks.
func trickle(c net.Conn, interval time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if _, err := c.Write([]byte("x")); err != nil {
				return
			}
		}
	}
}

// TestSlowBodyIsCut: a body trickling a byte every 2 s, below the minimum
// rate once its grace has passed, is answered 408 in the caller's error
// shape and its connection closed, on /graphql (which reads bodies without
// a login) and on the proxy (which answers an unknown key before reading
// the body: the server's draining of the rest is bounded too).
func TestSlowBodyIsCut(t *testing.T) {
	base, _ := startBinary(t, env("SLUICE_DATA_DIR", t.TempDir(), "SLUICE_ADMIN_PASSWORD", "pw"),
		"--body-read-timeout", "60s", "--body-min-rate", "100", "--body-rate-grace", "1s")
	cases := []struct {
		name, path, auth string
		status           string
		body             string // in the answer
	}{
		{"graphql", "/graphql", "", "408", `"code":"BAD_REQUEST"`},
		{"proxy with an unknown key", "/v1/chat/completions", "Bearer sk_unknown", "401", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			head := "POST " + c.path + " HTTP/1.1\r\nHost: sluice\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n"
			if c.auth != "" {
				head += "Authorization: " + c.auth + "\r\n"
			}
			conn := rawRequest(t, base, head+"\r\n{")
			stop := make(chan struct{})
			defer close(stop)
			go trickle(conn, 2*time.Second, stop)
			// Generous: the cut is due about 1 s after the headers.
			conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer to a slow body: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.Status[:3] != c.status || !strings.Contains(string(body), c.body) {
				t.Fatalf("answer %s %q, want %s with %s", resp.Status, body, c.status, c.body)
			}
			// The server closes the connection: a read ends (EOF or reset),
			// rather than waiting for the next request.
			buf := make([]byte, 1)
			if _, err := conn.Read(buf); err == nil || isTimeout(err) {
				t.Fatalf("connection still open after the cut: %v", err)
			}
		})
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestMaxConns: past --max-conns a new connection is answered 503 and
// closed at once, while the connections already open are still served
// (/healthz on one of them), and a closed connection frees its place.
func TestMaxConns(t *testing.T) {
	base, _ := startBinary(t, env("SLUICE_DATA_DIR", t.TempDir(), "SLUICE_ADMIN_PASSWORD", "pw"), "--max-conns", "3")
	// startBinary's readiness checks may have left a kept-alive
	// connection; it goes once its client closes it.
	http.DefaultClient.CloseIdleConnections()
	healthz := func(c net.Conn, r *bufio.Reader) (string, error) {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: sluice\r\n\r\n"); err != nil {
			return "", err
		}
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return resp.Status[:3], nil
	}
	// open dials until a connection is served, within a generous
	// deadline: the server notices closed connections asynchronously.
	open := func() (net.Conn, *bufio.Reader) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			r := bufio.NewReader(c)
			if status, err := healthz(c, r); err == nil && status == "200" {
				return c, r
			}
			c.Close()
			if time.Now().After(deadline) {
				t.Fatal("no connection was served")
			}
		}
	}
	type held struct {
		c net.Conn
		r *bufio.Reader
	}
	var conns []held
	for range 3 {
		c, r := open()
		defer c.Close()
		conns = append(conns, held{c, r})
	}
	for i := range 3 {
		extra, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		extra.SetDeadline(time.Now().Add(10 * time.Second))
		got, err := io.ReadAll(extra) // the server answers without being asked, then closes
		extra.Close()
		if !strings.HasPrefix(string(got), "HTTP/1.1 503 ") || !strings.Contains(string(got), "too many connections") {
			t.Fatalf("connection %d over the cap got %q (%v), want a 503 and the connection closed", 4+i, got, err)
		}
	}
	for i, h := range conns {
		if status, err := healthz(h.c, h.r); status != "200" {
			t.Fatalf("open connection %d: /healthz = %q, %v", i, status, err)
		}
	}
	conns[0].c.Close()
	c, _ := open()
	c.Close()
}

// TestLongStreamOutlivesBodyLimits: the body bounds cover the reading of
// the request only. A streamed answer lasting well past the body timeout
// and the rate's grace is relayed whole.
func TestLongStreamOutlivesBodyLimits(t *testing.T) {
	const events = 8
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range events {
			fmt.Fprintf(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok%d \"}}]}\n\n", i)
			w.(http.Flusher).Flush()
			time.Sleep(500 * time.Millisecond)
		}
		io.WriteString(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":8,\"total_tokens\":11}}\n\ndata: [DONE]\n\n")
	}))
	defer upstream.Close()
	base, _ := startBinary(t, env("SLUICE_DATA_DIR", t.TempDir(), "SLUICE_ADMIN_PASSWORD", "pw"),
		"--body-read-timeout", "1s", "--body-min-rate", "100000", "--body-rate-grace", "1s")
	_, key, _ := setupService(t, base, "pw", upstream.URL, "")
	req, _ := http.NewRequest("POST", base+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("stream: %d, %v\n%s", resp.StatusCode, err, body)
	}
	for i := range events {
		if !strings.Contains(string(body), fmt.Sprintf("tok%d ", i)) {
			t.Fatalf("stream lacks event %d after %s:\n%s", i, time.Since(start), body)
		}
	}
	if !strings.Contains(string(body), "[DONE]") {
		t.Fatalf("stream did not end with [DONE]:\n%s", body)
	}
	if d := time.Since(start); d < 3*time.Second {
		t.Fatalf("the stream took %s; it must outlast the 1 s body timeout and grace for the test to mean anything", d)
	}
}
