package proxy

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestStreamIsNotBuffered: the upstream sends one event and then waits
// until the client has received it before sending the next, so a proxy
// that buffered anything would deadlock (and time out) here.
func TestStreamIsNotBuffered(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		received := make(chan struct{})
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			w.Header().Set("Content-Type", "text/event-stream")
			fl := w.(http.Flusher)
			for i, ev := range openAIStream {
				_, _ = w.Write([]byte(ev))
				fl.Flush()
				if i == 0 {
					select {
					case <-received:
					case <-time.After(5 * time.Second):
						t.Error("the client did not receive the first event while the upstream waited: the proxy buffers")
						return
					}
				}
			}
		})
		_, key := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-STREAM", models: []string{"gpt-test"}})
		resp := openChatStream(t, f, key)
		br := bufio.NewReader(resp.Body)
		line, err := br.ReadString('\n')
		if err != nil || line != strings.SplitAfter(openAIStream[0], "\n")[0] {
			t.Fatalf("first line %q, %v", line, err)
		}
		close(received)
		rest := new(strings.Builder)
		_, _ = br.WriteTo(rest)
		if want := openAIStream[0][len(line):] + openAIStream[1] + openAIStream[3]; rest.String() != want {
			t.Errorf("rest of stream %q, want %q", rest.String(), want)
		}
	})
}

// TestStreamHeadersBeforeFirstEvent: the upstream sends its headers and
// then waits until the client has them before sending any event, so a
// proxy that held the headers for the first event would deadlock here.
func TestStreamHeadersBeforeFirstEvent(t *testing.T) {
	f := newFixture(t, testenv.New(t, "sqlite3"))
	gotHeaders := make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		select {
		case <-gotHeaders:
		case <-time.After(5 * time.Second):
			t.Error("the client did not get the headers while the upstream waited to send its first event")
			return
		}
		for _, ev := range openAIStream {
			_, _ = io.WriteString(w, ev)
			w.(http.Flusher).Flush()
		}
	})
	_, key := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-HEAD", models: []string{"gpt-test"}})
	resp := openChatStream(t, f, key)
	close(gotHeaders)
	rest := new(strings.Builder)
	if _, err := io.Copy(rest, resp.Body); err != nil {
		t.Fatal(err)
	}
	if want := openAIStream[0] + openAIStream[1] + openAIStream[3]; rest.String() != want {
		t.Errorf("stream %q, want %q", rest.String(), want)
	}
}

// openChatStream starts a streamed chat completion with key and returns
// the response as soon as its headers arrive; the body is closed at the
// end of the test.
func openChatStream(t *testing.T, f *fixture, key string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", f.srv.URL+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-test","stream":true}`))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// TestClientDisconnectMidStream: the client leaves after the first event;
// the record is partial, with the streamed output estimated, never $0.
func TestClientDisconnectMidStream(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.price("anthropic", "claude-test", 3_000_000, 15_000_000, 0, modelprice.KindText)
		upstreamDone := make(chan struct{})
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			defer close(upstreamDone)
			sseEvents(w, anthropicStream[0],
				"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\""+strings.Repeat("word ", 80)+"\"}}\n\n")
			<-r.Context().Done() // the proxy must cancel the upstream when the client leaves
		})
		_, key := f.addService(serviceSpec{name: "an", provider: "anthropic", baseURL: up.srv.URL, secret: "sk-ant-GONE", models: []string{"claude-test"}})
		req, _ := http.NewRequest("POST", f.srv.URL+"/v1/messages", strings.NewReader(`{"model":"claude-test","stream":true,"max_tokens":500,"messages":[{"role":"user","content":"`+cachedPrompt+`"}]}`))
		req.Header.Set("X-Api-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(resp.Body)
		for i := 0; i < 4; i++ { // message_start (2 lines + blank), first delta line
			if _, err := br.ReadString('\n'); err != nil {
				t.Fatal(err)
			}
		}
		resp.Body.Close()
		select {
		case <-upstreamDone:
		case <-time.After(5 * time.Second):
			t.Fatal("the upstream request was not cancelled after the client left")
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			recs := f.records()
			if len(recs) > 0 {
				rec := recs[len(recs)-1]
				if !rec.Partial || !rec.Streamed || rec.InputTokens != 3100 || rec.OutputTokens < 80 || rec.Cost == 0 {
					t.Fatalf("record after disconnect %+v", rec)
				}
				if !strings.Contains(rec.Error, "client disconnected") {
					t.Errorf("record error %q", rec.Error)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("no record after a client disconnect")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// TestStreamIdleTimeout: an upstream that goes quiet mid-stream is cut
// after the idle timeout and the record says so.
func TestStreamIdleTimeout(t *testing.T) {
	f := newFixture(t, testenv.New(t, "sqlite3"), func(o *Options) { o.StreamIdleTimeout = 100 * time.Millisecond })
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		sseEvents(w, openAIStream[0])
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	_, key := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-IDLE", models: []string{"gpt-test"}})
	start := time.Now()
	resp, body := f.call("POST", "/v1/chat/completions", key, `{"model":"gpt-test","stream":true}`)
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("stream held for %v despite a 100 ms idle timeout", d)
	}
	// What was streamed stays; the cut is told with an error event.
	if resp.StatusCode != 200 || !strings.HasPrefix(body, openAIStream[0]) ||
		!strings.HasSuffix(body, "data: {\"error\":{\"message\":\"the upstream stream went idle after the answer began and was cut; the answer is incomplete\",\"type\":\"api_error\",\"param\":null,\"code\":\"upstream_stream_failed\"}}\n\n") {
		t.Errorf("status %d body %q", resp.StatusCode, body)
	}
	if rec := f.lastRecord(); !rec.Partial || !strings.Contains(rec.Error, "idle") {
		t.Errorf("record %+v", rec)
	}
}
