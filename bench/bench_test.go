package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one sample is every percentile", ms(7), 99, 7 * time.Millisecond},
		{"p50 of four is the second", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p75 of four is the third", ms(1, 2, 3, 4), 75, 3 * time.Millisecond},
		{"p100 is the maximum", ms(1, 2, 3, 4), 100, 4 * time.Millisecond},
		{"tiny p is the minimum", ms(1, 2, 3, 4), 0.1, 1 * time.Millisecond},
		{"p0 clamps to the minimum", ms(1, 2, 3, 4), 0, 1 * time.Millisecond},
		{"p99 of 1..100 is 99", ms(hundred...), 99, 99 * time.Millisecond},
		{"p50 of 1..100 is 50", ms(hundred...), 50, 50 * time.Millisecond},
		{"p99.9 of 1..100 is the maximum", ms(hundred...), 99.9, 100 * time.Millisecond},
		{"p99 of ten is the maximum (no interpolation)", ms(1, 1, 1, 1, 1, 1, 1, 1, 1, 40), 99, 40 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("percentile(p%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func TestMergeLoad(t *testing.T) {
	d := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x)
		}
		return out
	}
	first := &loadResult{Requests: 3, Errors: 1, FirstError: "boom", Elapsed: time.Second,
		Latencies: d(1, 4), TTFB: d(2), CPU: 10, DBCPU: 1}
	second := &loadResult{Requests: 4, Elapsed: 2 * time.Second,
		Latencies: d(2, 3, 5, 9), TTFB: d(1, 7), CPU: 20, DBCPU: 2, CPUErr: errors.New("no /proc")}
	if got := mergeLoad(nil, second); got != second {
		t.Fatalf("merging into nothing should give the turn itself")
	}
	m := mergeLoad(first, second)
	if m.Requests != 7 || m.Errors != 1 || m.FirstError != "boom" || m.Elapsed != 3*time.Second ||
		m.CPU != 30 || m.DBCPU != 3 || m.CPUErr == nil {
		t.Errorf("merged counts = %+v", m)
	}
	if !slices.Equal(m.Latencies, d(1, 2, 3, 4, 5, 9)) || !slices.Equal(m.TTFB, d(1, 2, 7)) {
		t.Errorf("merged samples = %v / %v, want both sorted and complete", m.Latencies, m.TTFB)
	}
	if m.RPS() != 7.0/3 || m.CPUPerRequest() != 30/7 {
		t.Errorf("rates over the merged window = %v req/s, %v CPU/request", m.RPS(), m.CPUPerRequest())
	}
	if len(first.Latencies) != 2 || len(second.Latencies) != 4 {
		t.Errorf("merging changed its inputs")
	}
}

func TestRevisionIgnoresMarkdown(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is needed to test revision: %v", err)
	}
	repo := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=bench", "-c", "user.email=bench@example.com"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(repo, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q")
	write("main.go", "package main\n")
	write("results.md", "# results\n")
	git("add", ".")
	git("commit", "-q", "-m", "start")
	ctx := t.Context()
	clean := revision(ctx, repo)
	if clean == "" || strings.Contains(clean, " ") {
		t.Fatalf("revision of a clean tree = %q, want the short commit alone", clean)
	}
	write("results.md", "# results\n\nnew run\n")
	if got := revision(ctx, repo); got != clean {
		t.Errorf("with only Markdown changed, revision = %q, want %q", got, clean)
	}
	write("main.go", "package main\n\nfunc main() {}\n")
	if got := revision(ctx, repo); got != clean+" with uncommitted changes" {
		t.Errorf("with code changed, revision = %q, want it marked", got)
	}
}

// newMockAndFloor starts the mock and the floor in front of it in-process.
func newMockAndFloor(t *testing.T, opts mockOptions) (mockURL, floorURL string) {
	t.Helper()
	mock := httptest.NewServer(newMock(opts))
	t.Cleanup(mock.Close)
	u, err := url.Parse(mock.URL)
	if err != nil {
		t.Fatal(err)
	}
	floor := httptest.NewServer(newFloor(u))
	t.Cleanup(floor.Close)
	return mock.URL, floor.URL
}

func TestRunLoadMeasuresMockAndFloor(t *testing.T) {
	mockURL, floorURL := newMockAndFloor(t, mockOptions{})
	for _, target := range []struct{ name, url string }{{"direct", mockURL}, {"floor", floorURL}} {
		for _, stream := range []bool{false, true} {
			t.Run(target.name+map[bool]string{false: "/plain", true: "/stream"}[stream], func(t *testing.T) {
				body := chatBody
				if stream {
					body = streamBody
				}
				var cpuReads atomic.Int32
				res, err := runLoad(context.Background(), loadSpec{
					URL: target.url + "/v1/chat/completions", Body: body, Stream: stream,
					Header:      http.Header{"Authorization": {"Bearer sk-client"}},
					Concurrency: 4, Warmup: 50 * time.Millisecond, Duration: 250 * time.Millisecond,
					CPU: func() (time.Duration, error) {
						return time.Duration(cpuReads.Add(1)) * time.Second, nil
					},
				})
				if err != nil {
					t.Fatal(err)
				}
				if res.Requests < 10 || res.Errors != 0 {
					t.Fatalf("requests %d errors %d (first %q); want many and none failed", res.Requests, res.Errors, res.FirstError)
				}
				if len(res.Latencies) != res.Requests || !slices.IsSorted(res.Latencies) {
					t.Errorf("%d latencies (sorted %v) for %d requests", len(res.Latencies), slices.IsSorted(res.Latencies), res.Requests)
				}
				if p50, p99 := res.P(50), res.P(99); p50 <= 0 || p50 > p99 || p99 > res.Latencies[len(res.Latencies)-1] {
					t.Errorf("p50 %v p99 %v max %v out of order", p50, p99, res.Latencies[len(res.Latencies)-1])
				}
				if want := float64(res.Requests) / 0.25; res.RPS() != want {
					t.Errorf("RPS %v, want requests/duration %v", res.RPS(), want)
				}
				if cpuReads.Load() != 2 || res.CPU != time.Second || res.CPUPerRequest() != time.Second/time.Duration(res.Requests) {
					t.Errorf("CPU read %d times, delta %v per request %v; want 2 reads and a 1s delta", cpuReads.Load(), res.CPU, res.CPUPerRequest())
				}
				if stream && (len(res.TTFB) != res.Requests || res.TTFBP(50) > res.P(50)) {
					t.Errorf("stream: %d first-event times for %d requests, p50 %v vs latency p50 %v", len(res.TTFB), res.Requests, res.TTFBP(50), res.P(50))
				}
				if !stream && len(res.TTFB) != 0 {
					t.Errorf("plain step recorded %d first-event times", len(res.TTFB))
				}
			})
		}
	}
}

func TestRunLoadRequestCount(t *testing.T) {
	mockURL, _ := newMockAndFloor(t, mockOptions{})
	res, err := runLoad(context.Background(), loadSpec{
		URL: mockURL + "/v1/chat/completions", Body: chatBody, Concurrency: 3, Requests: 37,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 37 || len(res.Latencies) != 37 || res.Errors != 0 {
		t.Errorf("requests %d latencies %d errors %d, want exactly 37 measured", res.Requests, len(res.Latencies), res.Errors)
	}
}

func TestRunLoadCountsErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	res, err := runLoad(context.Background(), loadSpec{
		URL: srv.URL + "/v1/chat/completions", Body: chatBody, Concurrency: 2, Requests: 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 20 || res.Errors != 20 || len(res.Latencies) != 0 {
		t.Errorf("requests %d errors %d latencies %d; want 20 failed, none timed", res.Requests, res.Errors, len(res.Latencies))
	}
	if !strings.Contains(res.FirstError, "HTTP 404") {
		t.Errorf("first error %q does not name the status", res.FirstError)
	}
	if err := probe(context.Background(), srv.URL+"/v1/chat/completions", "", chatBody); err == nil || !strings.Contains(err.Error(), "not mounted") {
		t.Errorf("probe of a 404 = %v, want a 'not mounted' error", err)
	}
}

func TestMockAnswers(t *testing.T) {
	mockURL, _ := newMockAndFloor(t, mockOptions{})
	post := func(body []byte) *http.Response {
		resp, err := http.Post(mockURL+"/v1/chat/completions", "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		if resp.StatusCode != http.StatusOK || resp.Header.Get("x-ratelimit-remaining-requests") == "" {
			t.Fatalf("HTTP %d, rate-limit headers %v", resp.StatusCode, resp.Header)
		}
		return resp
	}
	var plain struct {
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
		}
	}
	if err := json.NewDecoder(post(chatBody).Body).Decode(&plain); err != nil {
		t.Fatal(err)
	}
	if plain.Usage.PromptTokens != 10 || plain.Usage.CompletionTokens != 20 {
		t.Errorf("plain usage %+v, want 10 prompt and 20 completion tokens", plain.Usage)
	}

	resp := post(streamBody)
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("stream Content-Type %q", ct)
	}
	var data []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			data = append(data, d)
		}
	}
	if len(data) != mockContentEvents+2 || data[len(data)-1] != "[DONE]" {
		t.Fatalf("stream events %q: want %d content events, a usage event and [DONE]", data, mockContentEvents)
	}
	for i, d := range data[:len(data)-1] {
		var ev struct {
			Choices []json.RawMessage
			Usage   *struct {
				PromptTokens     int `json:"prompt_tokens"`
				CompletionTokens int `json:"completion_tokens"`
			}
		}
		if err := json.Unmarshal([]byte(d), &ev); err != nil {
			t.Fatalf("event %d is not JSON: %v", i, err)
		}
		last := i == len(data)-2
		if last != (len(ev.Choices) == 0) || last != (ev.Usage != nil) {
			t.Errorf("event %d: %d choices, usage %v; only the last carries usage and no choices", i, len(ev.Choices), ev.Usage)
		}
		if last && (ev.Usage.PromptTokens != 10 || ev.Usage.CompletionTokens != 20) {
			t.Errorf("stream usage %+v", *ev.Usage)
		}
	}

	models, err := http.Get(mockURL + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(models.Body)
	models.Body.Close()
	if models.StatusCode != http.StatusOK || !strings.Contains(string(b), `"gpt-4o-mini"`) {
		t.Errorf("GET /v1/models: HTTP %d %s", models.StatusCode, b)
	}
}

// TestMockAnswersAnthropic reads the mock's Messages answers as an
// Anthropic client would, and checks they carry the OpenAI answers' text,
// usage and number of content chunks.
func TestMockAnswersAnthropic(t *testing.T) {
	mockURL, _ := newMockAndFloor(t, mockOptions{})
	post := func(body []byte) *http.Response {
		resp, err := http.Post(mockURL+"/v1/messages", "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		if resp.StatusCode != http.StatusOK || resp.Header.Get("anthropic-ratelimit-requests-remaining") == "" {
			t.Fatalf("HTTP %d, rate-limit headers %v", resp.StatusCode, resp.Header)
		}
		return resp
	}
	var openAI struct {
		Choices []struct{ Message struct{ Content string } }
	}
	if err := json.Unmarshal(mockPlainBody, &openAI); err != nil || len(openAI.Choices) != 1 {
		t.Fatalf("the OpenAI answer: %v", err)
	}
	text := openAI.Choices[0].Message.Content

	type usage struct {
		InputTokens  int `json:"input_tokens"`
		OutputTokens int `json:"output_tokens"`
	}
	var plain struct {
		Type    string
		Content []struct{ Type, Text string }
		Usage   usage
	}
	resp := post(translatedChatBody)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("plain Content-Type %q", ct)
	}
	if err := json.NewDecoder(resp.Body).Decode(&plain); err != nil {
		t.Fatal(err)
	}
	if plain.Type != "message" || len(plain.Content) != 1 || plain.Content[0].Type != "text" || plain.Content[0].Text != text {
		t.Errorf("plain answer %+v, want one text block %q", plain, text)
	}
	if plain.Usage != (usage{10, 20}) {
		t.Errorf("plain usage %+v, want 10 input and 20 output tokens", plain.Usage)
	}

	resp = post(translatedStreamBody)
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("stream Content-Type %q", ct)
	}
	var names []string
	var streamed strings.Builder
	var deltaUsage usage
	sc := bufio.NewScanner(resp.Body)
	name := ""
	for sc.Scan() {
		line := sc.Text()
		if n, ok := strings.CutPrefix(line, "event: "); ok {
			name = n
			continue
		}
		d, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		var ev struct {
			Type  string
			Delta struct{ Type, Text string }
			Usage *usage
		}
		if err := json.Unmarshal([]byte(d), &ev); err != nil {
			t.Fatalf("event %q is not JSON: %v", name, err)
		}
		if ev.Type != name {
			t.Errorf("event named %q carries type %q", name, ev.Type)
		}
		names = append(names, name)
		switch name {
		case "content_block_delta":
			if ev.Delta.Type != "text_delta" {
				t.Errorf("delta of type %q", ev.Delta.Type)
			}
			streamed.WriteString(ev.Delta.Text)
		case "message_delta":
			if ev.Usage != nil {
				deltaUsage = *ev.Usage
			}
		}
	}
	want := []string{"message_start", "content_block_start"}
	for range mockContentEvents {
		want = append(want, "content_block_delta")
	}
	want = append(want, "content_block_stop", "message_delta", "message_stop")
	if !slices.Equal(names, want) {
		t.Errorf("stream events %q, want %q", names, want)
	}
	if streamed.String() != text || deltaUsage.OutputTokens != 20 {
		t.Errorf("streamed text %q with %d output tokens, want %q and 20", streamed.String(), deltaUsage.OutputTokens, text)
	}
}

func TestWantsStream(t *testing.T) {
	for body, want := range map[string]bool{
		`{"stream":true}`:                           true,
		`{"model":"m", "stream" : true}`:            true,
		`{"stream":false}`:                          false,
		`{"model":"m"}`:                             false,
		`{"stream_options":{"x":1},"stream":true}`:  true,
		`{"stream_options":{"include_usage":true}}`: false,
	} {
		if got := wantsStream([]byte(body)); got != want {
			t.Errorf("wantsStream(%s) = %v, want %v", body, got, want)
		}
	}
}

func TestReadStream(t *testing.T) {
	whole := string(mockEvents[0]) + string(mockEvents[len(mockEvents)-2]) + string(mockEvents[len(mockEvents)-1])
	buf := make([]byte, 64)
	// One byte a read: the first event and the [DONE] tail span reads.
	if _, err := readStream(iotest.OneByteReader(strings.NewReader(whole)), buf, time.Now()); err != nil {
		t.Errorf("whole stream read a byte at a time: %v", err)
	}
	if _, err := readStream(strings.NewReader(string(mockEvents[0])), buf, time.Now()); err == nil || !strings.Contains(err.Error(), "[DONE]") {
		t.Errorf("truncated stream: %v, want an error naming [DONE]", err)
	}
	if _, err := readStream(strings.NewReader(": keep-alive\n\n"), buf, time.Now()); err == nil {
		t.Error("a stream without a data event was accepted")
	}
}

func TestOpenStreamsHoldsThemOpen(t *testing.T) {
	_, floorURL := newMockAndFloor(t, mockOptions{Hold: time.Minute})
	sampled := false
	start := time.Now()
	res := openStreams(context.Background(), floorURL+slowPrefix+"/v1/chat/completions", nil, streamBody, 20, 5*time.Second, func() { sampled = true })
	if !sampled || res.Open != 20 || res.Errors != 0 {
		t.Errorf("sampled %v, %d of 20 open, %d errors (%s)", sampled, res.Open, res.Errors, res.FirstError)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %v: streams were not closed after the sample", time.Since(start))
	}
}

func TestProcParsing(t *testing.T) {
	status := []byte("Name:\tsluice\nVmHWM:\t  20480 kB\nVmRSS:\t   10240 kB\nRssAnon:\t    4096 kB\nRssFile:\t    6144 kB\nThreads:\t8\n")
	if m, err := parseStatusMem(status); err != nil || m.HWM != 20<<20 || m.RSS != 10<<20 || m.Anon != 4<<20 || m.File != 6<<20 {
		t.Errorf("parseStatusMem = %+v, %v", m, err)
	}
	if _, err := parseStatusMem([]byte("Name:\tx\n")); err == nil {
		t.Error("a status without VmRSS was accepted")
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc here")
	}
	if _, err := readCPU(os.Getpid()); err != nil {
		t.Error(err)
	}
	if _, err := readCommandCPU("no-such-program-here"); err == nil {
		t.Error("readCommandCPU found a program that is not running")
	}
	for dsn, want := range map[string]bool{
		"postgres://postgres@127.0.0.1:5432/test": true, "postgres://u@localhost/db": true,
		"postgres://u@db.internal:5432/db": false, "::not a url": false,
	} {
		if localDSN(dsn) != want {
			t.Errorf("localDSN(%q) = %v, want %v", dsn, !want, want)
		}
	}
	if m, err := readMem(os.Getpid()); err != nil || m.RSS <= 0 || m.HWM < m.RSS || m.Anon <= 0 || m.Anon+m.File > m.RSS {
		t.Errorf("readMem(self) = %+v, %v", m, err)
	}
}

func TestSpliceSection(t *testing.T) {
	section := docBegin + "\nnew\n" + docEnd + "\n"
	doc := "# Benchmarks\n\nhand-written\n\n" + docBegin + "\nold\n" + docEnd + "\n\n## What changed\n"
	got := spliceSection(doc, section)
	if want := "# Benchmarks\n\nhand-written\n\n" + section + "\n## What changed\n"; got != want {
		t.Errorf("splice =\n%s\nwant\n%s", got, want)
	}
	if got := spliceSection("# Notes\n", section); got != "# Notes\n\n"+section {
		t.Errorf("append = %q", got)
	}
}

func TestReportJudgesTargets(t *testing.T) {
	step := func(lat time.Duration, n int, cpu time.Duration) *loadResult {
		l := make([]time.Duration, n)
		for i := range l {
			l[i] = lat
		}
		return &loadResult{Requests: n, Elapsed: time.Second, Latencies: l, TTFB: l, CPU: cpu * time.Duration(n)}
	}
	full := func(name string, lat time.Duration, n int, cpu time.Duration) *targetResult {
		return &targetResult{Name: name, Plain1: step(lat, 100, cpu), Stream1: step(lat, 100, cpu),
			Plain32: step(lat, n, cpu), Plain256: step(lat, n, cpu), Stream32: step(lat, n, cpu),
			IdleRSS: 10e6, PeakRSS: 20e6}
	}
	r := &report{cfg: &config{streams: 1000}}
	r.add(full(targetDirect, 100*time.Microsecond, 40000, 20*time.Microsecond))
	r.add(full(targetFloor, 300*time.Microsecond, 9000, 100*time.Microsecond))
	good := full("sluice (SQLite)", 320*time.Microsecond, 8500, 120*time.Microsecond)
	good.Sluice = true
	bad := full("sluice (PostgreSQL)", 900*time.Microsecond, 1000, 800*time.Microsecond)
	bad.Sluice, bad.IdleRSS = true, 90e6
	translated := full("sluice translated (SQLite)", 320*time.Microsecond, 8500, 140*time.Microsecond)
	translated.Translated = true
	translated.Stream32 = step(320*time.Microsecond, 8500, 160*time.Microsecond)
	r.add(good)
	r.add(bad)
	r.add(translated)
	md := r.markdown()
	for _, want := range []string{
		"| +200 / +200 |", // floor's added latency over direct
		"| 1.20× / 1.20× |", "✅ pass 1.20× (120 vs 100 µs)", "❌ fail 8.00×", "❌ fail 90.0 MB",
		"| performance target | sluice (SQLite) | sluice (PostgreSQL) |\n", // the translated column is judged apart
		"| 1.40× / 1.60× |", // the translated column's CPU ratios to the floor
		"| translation target | sluice translated (SQLite) |",
		"| CPU/request at c=32 ≤ 1.5 × floor, plain | ✅ pass 1.40× (140 vs 100 µs) |",
		"| CPU/request at c=32 ≤ 1.5 × floor, streamed | ❌ fail 1.60× (160 vs 100 µs) |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}
