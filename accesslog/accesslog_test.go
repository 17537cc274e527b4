package accesslog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/tokens"
	"github.com/sluicehq/sluice/traceid"
)

func TestAppendLine(t *testing.T) {
	at := time.Date(2026, 12, 6, 3, 4, 5, 123456789, time.FixedZone("x", 3600))
	cases := []struct {
		name string
		e    Entry
		want string
	}{
		{"answered and priced", Entry{At: at, RequestID: "req-1", OrganizationID: 7, Service: "chat", Key: "app", Protocol: "openai",
			Endpoint: "/v1/chat/completions", Model: "gpt-4o-mini", Status: 200,
			Tokens: tokens.Tokens{InputTokens: 1000, OutputTokens: 2000, CachedInputTokens: 10}, Cost: 1350, Priced: true,
			Latency: 12345 * time.Microsecond, TTFB: 800 * time.Microsecond, Streamed: true},
			`{"time":"2026-12-06T02:04:05.123456789Z","request_id":"req-1","organization_id":7,"service":"chat","key_name":"app","protocol":"openai","endpoint":"/v1/chat/completions","model":"gpt-4o-mini","status":200,"input_tokens":1000,"output_tokens":2000,"cached_input_tokens":10,"cost_usd":0.001350,"latency_ms":12.345,"ttfb_ms":0.8,"streamed":true}` + "\n"},
		{"refused, unpriced", Entry{At: at, RequestID: "req-2", Service: "chat", Key: "app",
			Model: "made-up", Status: 402, Failure: "budget", Latency: time.Millisecond, Partial: true},
			`{"time":"2026-12-06T02:04:05.123456789Z","request_id":"req-2","organization_id":0,"service":"chat","key_name":"app","protocol":"","endpoint":"","model":"made-up","status":402,"failure":"budget","input_tokens":0,"output_tokens":0,"latency_ms":1,"partial":true}` + "\n"},
		{"traced", Entry{At: at, RequestID: "req-3", TraceID: traceid.ID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
			Service: "chat", Key: "app", Model: "m", Status: 200, Latency: time.Millisecond},
			`{"time":"2026-12-06T02:04:05.123456789Z","request_id":"req-3","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","organization_id":0,"service":"chat","key_name":"app","protocol":"","endpoint":"","model":"m","status":200,"input_tokens":0,"output_tokens":0,"latency_ms":1}` + "\n"},
		{"a client's odd model name", Entry{At: at, Model: "a\"b\\c\nd\x00\xff\u2028é"},
			`{"time":"2026-12-06T02:04:05.123456789Z","request_id":"","organization_id":0,"service":"","key_name":"","protocol":"","endpoint":"","model":"a\"b\\c\u000ad\u0000\ufffd\u2028é","status":0,"input_tokens":0,"output_tokens":0,"latency_ms":0}` + "\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := string(AppendLine(nil, &c.e))
			if got != c.want {
				t.Fatalf("line\n%s\nwant\n%s", got, c.want)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(got), &m); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			if m["model"] != strings.ToValidUTF8(c.e.Model, "\ufffd") {
				t.Fatalf("model reads back as %q", m["model"])
			}
		})
	}
}

// blockedWriter holds every write until released.
type blockedWriter struct {
	release chan struct{}
	mu      sync.Mutex
	b       bytes.Buffer
}

func (w *blockedWriter) Write(p []byte) (int, error) {
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// TestQueueBoundsAndClose: a stuck output never blocks Add (lines beyond
// the queue are dropped and counted), and Close writes what was queued.
func TestQueueBoundsAndClose(t *testing.T) {
	out := &blockedWriter{release: make(chan struct{})}
	w := New(out, 4)
	// Lines much longer than the buffer make the writer goroutine reach
	// the stuck output with the first one.
	long := strings.Repeat("m", 70<<10)
	w.Add(Entry{Model: long})
	time.Sleep(50 * time.Millisecond)
	done := make(chan struct{})
	go func() {
		for i := range 10 {
			w.Add(Entry{RequestID: "r" + string(rune('a'+i))})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Add waited for a stuck output")
	}
	if got := w.Dropped(); got != 6 {
		t.Fatalf("dropped %d lines, want 6", got)
	}
	close(out.release)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.b.String(), "\n"), "\n")
	if len(lines) != 5 || !strings.Contains(lines[4], `"request_id":"rd"`) {
		t.Fatalf("wrote %d lines, want 5 ending with rd", len(lines))
	}
	// A request a shutdown cut short may finish after Close: its line is
	// dropped and counted, never a panic.
	w.Add(Entry{RequestID: "late"})
	if got := w.Dropped(); got != 7 {
		t.Fatalf("a line added after Close: dropped %d, want 7", got)
	}
	var nilWriter *Writer
	nilWriter.Add(Entry{})
	if err := nilWriter.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestCloseDoesNotWaitForAStalledOutput: Close gives up at its deadline
// when the output no longer drains, so a stalled pipe cannot hold the exit.
func TestCloseDoesNotWaitForAStalledOutput(t *testing.T) {
	out := &blockedWriter{release: make(chan struct{})}
	defer close(out.release)
	w := New(out, 4)
	w.Add(Entry{Model: strings.Repeat("m", 70<<10)})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := w.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close on a stalled output: %v, want the deadline", err)
	}
}

// failingWriter fails every write, as a full disk or a closed pipe does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// TestFailedWritesAreCounted: lines an output refuses are counted as
// dropped, not lost silently.
func TestFailedWritesAreCounted(t *testing.T) {
	w := New(failingWriter{}, 16)
	for range 3 {
		w.Add(Entry{RequestID: "r", Model: strings.Repeat("m", 70<<10)})
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := w.Dropped(); got != 3 {
		t.Fatalf("dropped %d lines an output refused, want 3", got)
	}
}
