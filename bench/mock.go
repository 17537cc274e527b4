package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// mockOptions shape the mock upstream's answers.
type mockOptions struct {
	// Latency is slept before the response headers, to model a provider's
	// think time; zero answers at once.
	Latency time.Duration
	// Hold is how long a stream under /slow/ pauses after its first event:
	// it keeps streams open so the harness can count the memory of many
	// concurrent streams. The pause ends early when the client goes away.
	Hold time.Duration
}

// slowPrefix routes a request to the holding variant of the mock, so one
// mock process serves both the load steps and the open-streams step (a
// gateway service simply points its base URL at <mock>/slow/v1).
const slowPrefix = "/slow"

// The mock's answers are rendered once: the mock must cost as little as
// possible so that it is never what a benchmark measures.
var (
	mockPlainBody = []byte(`{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the mock upstream."},"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30}}`)
	mockModelsBody = []byte(`{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":1700000000,"owned_by":"openai"}]}`)
	mockModelsLen  = []string{strconv.Itoa(len(mockModelsBody))}
	mockEvents     = renderMockEvents()
	mockJSONType   = []string{"application/json"}
	mockSSEType    = []string{"text/event-stream"}
	mockNoCache    = []string{"no-cache"}
	mockBufs       = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

// mockContentEvents is how many content chunks a streamed answer carries
// before its usage chunk (a streamed run sends a few chunks, as real
// answers do, rather than one).
const mockContentEvents = 5

// mockWords are the streamed answer's content chunks, in every wire
// format; together they are the complete answer's text.
var mockWords = [mockContentEvents]string{"Hello", " from", " the", " mock", " upstream."}

// renderMockEvents returns the SSE events of a streamed answer, each with
// its "data: " prefix and blank-line terminator: five content chunks, the
// usage chunk OpenAI sends with stream_options.include_usage (choices
// empty), and the [DONE] sentinel.
func renderMockEvents() [][]byte {
	words := mockWords
	var events [][]byte
	for i, w := range words {
		delta := fmt.Sprintf(`{"content":%q}`, w)
		if i == 0 {
			delta = fmt.Sprintf(`{"role":"assistant","content":%q}`, w)
		}
		finish := "null"
		if i == len(words)-1 {
			finish = `"stop"`
		}
		events = append(events, fmt.Appendf(nil,
			"data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":%s,\"finish_reason\":%s}]}\n\n",
			delta, finish))
	}
	events = append(events,
		[]byte("data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":20,\"total_tokens\":30}}\n\n"),
		[]byte("data: [DONE]\n\n"))
	return events
}

// mockAPI is one wire format the mock answers in: its complete answer,
// its stream's events (each with its blank-line terminator) and the
// rate-limit headers its provider sends, all rendered once.
type mockAPI struct {
	plain       []byte
	plainLength []string
	events      [][]byte
	headers     map[string][]string
}

func newMockAPI(plain []byte, events [][]byte, headers map[string][]string) *mockAPI {
	return &mockAPI{plain: plain, plainLength: []string{strconv.Itoa(len(plain))}, events: events, headers: headers}
}

// mockOpenAI is the OpenAI chat completions API, with x-ratelimit-*
// headers like OpenAI's.
var mockOpenAI = newMockAPI(mockPlainBody, mockEvents, map[string][]string{
	"X-Ratelimit-Limit-Requests":     {"10000"},
	"X-Ratelimit-Remaining-Requests": {"9999"},
	"X-Ratelimit-Reset-Requests":     {"6ms"},
	"X-Ratelimit-Limit-Tokens":       {"30000000"},
	"X-Ratelimit-Remaining-Tokens":   {"29999970"},
	"X-Ratelimit-Reset-Tokens":       {"0s"},
})

// newMock returns an upstream that speaks the OpenAI chat completions API
// on POST /v1/chat/completions and the Anthropic Messages API on POST
// /v1/messages (each a fixed answer, or SSE when the body asks for
// "stream": true), and GET /v1/models, all also under /slow/.
func newMock(opts mockOptions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		slow := false
		if len(path) > len(slowPrefix) && path[:len(slowPrefix)] == slowPrefix {
			slow, path = true, path[len(slowPrefix):]
		}
		switch {
		case path == "/v1/chat/completions" && r.Method == http.MethodPost:
			serveMockChat(w, r, mockOpenAI, opts, slow)
		case path == "/v1/messages" && r.Method == http.MethodPost:
			serveMockChat(w, r, mockAnthropic, opts, slow)
		case path == "/v1/models" && r.Method == http.MethodGet:
			h := w.Header()
			setMockHeaders(h, mockOpenAI)
			h["Content-Type"] = mockJSONType
			h["Content-Length"] = mockModelsLen
			_, _ = w.Write(mockModelsBody)
		default:
			http.Error(w, `{"error":{"message":"mock upstream: no such route","type":"invalid_request_error"}}`, http.StatusNotFound)
		}
	})
}

func setMockHeaders(h http.Header, api *mockAPI) {
	for k, v := range api.headers {
		h[k] = v
	}
}

// serveMockChat answers a chat request in api's wire format.
func serveMockChat(w http.ResponseWriter, r *http.Request, api *mockAPI, opts mockOptions, slow bool) {
	buf := mockBufs.Get().(*bytes.Buffer)
	buf.Reset()
	_, err := buf.ReadFrom(r.Body)
	stream := err == nil && wantsStream(buf.Bytes())
	mockBufs.Put(buf)
	if err != nil {
		http.Error(w, "mock upstream: read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if opts.Latency > 0 && !sleepCtx(r.Context(), opts.Latency) {
		return
	}
	h := w.Header()
	setMockHeaders(h, api)
	if !stream {
		h["Content-Type"] = mockJSONType
		h["Content-Length"] = api.plainLength
		_, _ = w.Write(api.plain)
		return
	}
	h["Content-Type"] = mockSSEType
	h["Cache-Control"] = mockNoCache
	flusher, _ := w.(http.Flusher)
	for i, ev := range api.events {
		if _, err := w.Write(ev); err != nil {
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
		if i == 0 && slow && opts.Hold > 0 && !sleepCtx(r.Context(), opts.Hold) {
			return
		}
	}
}

// wantsStream reports whether a JSON request body sets "stream" to true. A
// byte scan is enough for the bodies a gateway forwards, and keeps the mock
// from spending CPU on decoding.
func wantsStream(body []byte) bool {
	key := []byte(`"stream"`)
	for {
		i := bytes.Index(body, key)
		if i < 0 {
			return false
		}
		body = body[i+len(key):]
		rest := bytes.TrimLeft(body, " \t\r\n")
		if len(rest) > 0 && rest[0] == ':' {
			return bytes.HasPrefix(bytes.TrimLeft(rest[1:], " \t\r\n"), []byte("true"))
		}
	}
}

// sleepCtx sleeps for d and reports false if ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// runMockCommand is `bench mock`: the mock upstream as a process of its
// own, so that its CPU is read from /proc apart from the load generator's.
func runMockCommand(args []string) error {
	fs := flag.NewFlagSet("mock", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	latency := fs.Duration("upstream-latency", 0, "delay before each answer's headers")
	hold := fs.Duration("hold", time.Minute, "pause after the first event of streams under /slow/")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return serveHelper(*addr, newMock(mockOptions{Latency: *latency, Hold: *hold}))
}

// serveHelper serves h on addr for a helper subcommand and prints
// "listening http://host:port" as its first stdout line, which is how the
// parent learns the port the kernel chose.
func serveHelper(addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn)}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	fmt.Printf("listening http://%s\n", ln.Addr())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// drainAndClose reads what is left of a body so its connection can be
// reused, then closes it.
func drainAndClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, body)
	_ = body.Close()
}
