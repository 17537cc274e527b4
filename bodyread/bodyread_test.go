package bodyread_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/bodyread"
)

// TestAnswerOutlivesBodyBounds: once a body is read whole, its bounds are
// over, even when the handler reads again after the end (as decoders do):
// an answer streamed for several times the body timeout arrives whole,
// and the request's context is not cancelled under it.
func TestAnswerOutlivesBodyBounds(t *testing.T) {
	const events = 10
	l := bodyread.New(bodyread.Options{Timeout: 300 * time.Millisecond, MinRate: 1 << 20, Grace: 100 * time.Millisecond})
	srv := httptest.NewServer(l.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, err := io.ReadAll(r.Body); err != nil || string(b) != "hello" {
			http.Error(w, fmt.Sprintf("body %q, %v", b, err), 400)
			return
		}
		r.Body.Read(make([]byte, 8)) // again, after the end
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range events {
			if err := r.Context().Err(); err != nil {
				fmt.Fprintf(w, "data: cancelled: %v\n\n", err)
				return
			}
			fmt.Fprintf(w, "data: %d\n\n", i)
			http.NewResponseController(w).Flush()
			time.Sleep(150 * time.Millisecond)
		}
	})))
	defer srv.Close()
	resp, err := http.Post(srv.URL, "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || strings.Contains(string(body), "cancelled") || !strings.Contains(string(body), fmt.Sprintf("data: %d\n", events-1)) {
		t.Fatalf("answer %d:\n%s", resp.StatusCode, body)
	}
}

// TestBodiesShareABudget: bodies held by requests in flight share
// MaxInFlight bytes. A body that finds no room waits for it within the
// timeout, then is refused 503 with Retry-After; room freed by a finished
// request serves the next.
func TestBodiesShareABudget(t *testing.T) {
	l := bodyread.New(bodyread.Options{Timeout: 2 * time.Second, MaxInFlight: 10})
	hold := make(chan struct{})
	holding := make(chan struct{}, 1)
	srv := httptest.NewServer(l.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(400) // replaced by the refusal
			return
		}
		if r.URL.Path == "/hold" {
			holding <- struct{}{}
			<-hold
		}
		io.WriteString(w, "read "+string(b))
	})))
	defer srv.Close()
	post := func(path, body string) (*http.Response, string) {
		resp, err := http.Post(srv.URL+path, "text/plain", strings.NewReader(body))
		if err != nil {
			t.Error(err)
			return &http.Response{}, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if resp, body := post("/hold", "12345678"); resp.StatusCode != 200 || body != "read 12345678" {
			t.Errorf("held request: %d %q", resp.StatusCode, body)
		}
	})
	released := false
	release := func() {
		if !released {
			released = true
			close(hold)
			wg.Wait()
		}
	}
	defer release()
	<-holding
	resp, body := post("/", "abcdefgh")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" || !resp.Close || !strings.Contains(body, "too many request bodies") {
		t.Fatalf("a body past the budget: %d %q %v (connection closed: %v)", resp.StatusCode, body, resp.Header, resp.Close)
	}
	release()
	if resp, body := post("/", "abcdefgh"); resp.StatusCode != 200 || body != "read abcdefgh" {
		t.Fatalf("after the budget was freed: %d %q", resp.StatusCode, body)
	}
}

// TestRequestsWithoutBodyPassUntouched: a GET, such as a websocket
// upgrade, reaches the handler with its writer unwrapped (it may hijack).
func TestRequestsWithoutBodyPassUntouched(t *testing.T) {
	l := bodyread.New(bodyread.Options{Timeout: time.Second, MinRate: 1, Grace: time.Second, MaxInFlight: 1})
	srv := httptest.NewServer(l.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(http.Hijacker); !ok {
			http.Error(w, "wrapped", 500)
			return
		}
		io.WriteString(w, "ok")
	})))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(bufio.NewReader(resp.Body))
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "ok" {
		t.Fatalf("GET = %d %q", resp.StatusCode, b)
	}
}

// TestRateClockStartsAtFirstRead: the time a handler spends before it
// reads (authenticating, looking up) is not the client's slowness: a fast
// body read after a pause longer than the grace is read whole.
func TestRateClockStartsAtFirstRead(t *testing.T) {
	const size = 256 << 10
	l := bodyread.New(bodyread.Options{Timeout: 30 * time.Second, MinRate: size, Grace: 200 * time.Millisecond})
	srv := httptest.NewServer(l.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(600 * time.Millisecond) // three graces before the first read
		b, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(400) // replaced by the refusal
			return
		}
		fmt.Fprintf(w, "read %d", len(b))
	})))
	defer srv.Close()
	resp, err := http.Post(srv.URL, "application/octet-stream", strings.NewReader(strings.Repeat("x", size)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if want := fmt.Sprintf("read %d", size); resp.StatusCode != 200 || string(b) != want {
		t.Fatalf("a fast body read late: %d %q", resp.StatusCode, b)
	}
}

// TestBodiesTakeTheirWholeLength: bodies whose lengths together pass the
// budget, each within it, are all read in turn. Were each to hold part of
// its length and wait for the rest, they would stall one another until
// their deadlines. Each handler reads part of its body, then waits a
// little for the others to have read part of theirs.
func TestBodiesTakeTheirWholeLength(t *testing.T) {
	const n, size = 4, 600 << 10
	l := bodyread.New(bodyread.Options{Timeout: 10 * time.Second, MaxInFlight: 1 << 20})
	var mu sync.Mutex
	halfway := 0
	srv := httptest.NewServer(l.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		part := make([]byte, 400<<10)
		if _, err := io.ReadFull(r.Body, part); err != nil {
			w.WriteHeader(400) // replaced by the refusal
			return
		}
		mu.Lock()
		halfway++
		mu.Unlock()
		for deadline := time.Now().Add(500 * time.Millisecond); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			mu.Lock()
			all := halfway == n
			mu.Unlock()
			if all {
				break
			}
		}
		rest, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(400)
			return
		}
		fmt.Fprintf(w, "read %d", len(part)+len(rest))
	})))
	defer srv.Close()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			resp, err := http.Post(srv.URL, "application/octet-stream", strings.NewReader(strings.Repeat("x", size)))
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if want := fmt.Sprintf("read %d", size); resp.StatusCode != 200 || string(b) != want {
				t.Errorf("a body within the budget: %d %q", resp.StatusCode, b)
			}
		})
	}
	wg.Wait()
}

// TestBodyLongerThanTheBudget: a body of known length that could never
// fit the budget is refused at once with 413, not after the timeout.
func TestBodyLongerThanTheBudget(t *testing.T) {
	l := bodyread.New(bodyread.Options{Timeout: time.Hour, MaxInFlight: 10})
	srv := httptest.NewServer(l.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			w.WriteHeader(400) // replaced by the refusal
			return
		}
		io.WriteString(w, "read")
	})))
	defer srv.Close()
	resp, err := http.Post(srv.URL, "text/plain", strings.NewReader("more than ten bytes"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 413 || !strings.Contains(string(b), "larger than the 10 bytes") {
		t.Fatalf("a body past the whole budget: %d %q", resp.StatusCode, b)
	}
}
