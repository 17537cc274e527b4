package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/testenv"
)

// sluiceSeries counts the samples of Sluice's own families in a scrape
// (process and runtime families are fixed in number), and reads the sum of
// sluice_requests_total.
func sluiceSeries(scrape string) (series int, requests float64) {
	for _, line := range strings.Split(scrape, "\n") {
		if !strings.HasPrefix(line, "sluice_") {
			continue
		}
		series++
		if strings.HasPrefix(line, "sluice_requests_total{") {
			v, _ := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			requests += v
		}
	}
	return series, requests
}

// TestMadeUpModelsAddNoSeries: a key holder sending ten thousand made-up
// model names, on every API's route, adds no series to /metrics: the
// refusals are counted under the model "other", and the upstream (which
// here would answer any name) is never asked for a model the service does
// not enable.
func TestMadeUpModelsAddNoSeries(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, d string) {
		base, _ := startOnDialect(t, d, "pw-card")
		var upstreamCalls sync.Map
		upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			upstreamCalls.Store(r.URL.Path, true)
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
		}))
		t.Cleanup(upstream.Close)

		token := dig(gql(t, base, "", `mutation { login(username: "admin", password: "pw-card") { token } }`, nil), "login", "token").(string)
		svc := gql(t, base, token, `mutation($u: String!) { createService(input: {serviceName: "chat", provider: "openai", baseUrl: $u,
			providerApiKey: "sk-upstream-secret", modelsEnabled: ["gpt-4o-mini"]}) { id } }`,
			map[string]any{"u": upstream.URL + "/v1"})
		key := dig(gql(t, base, token, `mutation($s: ID!) { createAPIKey(input: {name: "app", serviceId: $s}) { key } }`,
			map[string]any{"s": dig(svc, "createService", "id")}), "createAPIKey", "key").(string)

		send := func(model string, i int) int {
			var req *http.Request
			switch i % 4 {
			case 0, 1: // OpenAI's route
				req, _ = http.NewRequest(http.MethodPost, base+"/v1/chat/completions", strings.NewReader(`{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`))
				req.Header.Set("Authorization", "Bearer "+key)
			case 2: // Anthropic's route
				req, _ = http.NewRequest(http.MethodPost, base+"/v1/messages", strings.NewReader(`{"model":"`+model+`","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`))
				req.Header.Set("X-Api-Key", key)
				req.Header.Set("Anthropic-Version", "2023-06-01")
			case 3: // Gemini's, with the model in the path
				req, _ = http.NewRequest(http.MethodPost, base+"/v1beta/models/"+model+":generateContent", strings.NewReader(`{"contents":[{"parts":[{"text":"hi"}]}]}`))
				req.Header.Set("X-Goog-Api-Key", key)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return 0
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode
		}
		// waitRequests polls until the metrics have counted n requests:
		// they are counted once the usage writer has written the records.
		waitRequests := func(n float64) string {
			t.Helper()
			deadline := time.Now().Add(30 * time.Second)
			for {
				s := scrapeMetrics(t, base)
				if _, got := sluiceSeries(s); got >= n {
					return s
				} else if time.Now().After(deadline) {
					t.Fatalf("/metrics counted %v requests, want %v", got, n)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}

		// Before: the enabled model answered, and one made-up name of
		// each route refused, so that every series a refusal uses exists.
		if got := send("gpt-4o-mini", 0); got != 200 {
			t.Fatalf("an enabled model: %d", got)
		}
		for i := range 4 {
			if got := send("first-made-up-model", i); got < 400 {
				t.Fatalf("a made-up model on route %d: %d", i, got)
			}
		}
		before, _ := sluiceSeries(waitRequests(5))

		const n = 10_000
		var wg sync.WaitGroup
		var accepted sync.Map
		work := make(chan int)
		for range 8 {
			wg.Go(func() {
				for i := range work {
					if got := send(fmt.Sprintf("made-up-%05d-x", i), i); got < 400 {
						accepted.Store(i, got)
					}
				}
			})
		}
		for i := range n {
			work <- i
		}
		close(work)
		wg.Wait()
		accepted.Range(func(k, v any) bool {
			t.Errorf("made-up model %v answered %v", k, v)
			return false
		})
		after := waitRequests(5 + n)
		if got, _ := sluiceSeries(after); got != before {
			var lines []string
			for _, l := range strings.Split(after, "\n") {
				if strings.Contains(l, "made-up") {
					lines = append(lines, l)
				}
			}
			t.Fatalf("%d made-up model names took Sluice's series from %d to %d; e.g. %q", n, before, got, lines[:min(5, len(lines))])
		}
		if strings.Contains(after, "made-up") {
			t.Fatalf("a made-up model name is a label")
		}
		if _, ok := upstreamCalls.Load("/v1/chat/completions"); !ok || func() (many bool) {
			c := 0
			upstreamCalls.Range(func(any, any) bool { c++; return true })
			return c > 1
		}() {
			t.Fatal("the upstream was asked for something other than the enabled model's completion")
		}
	})
}
