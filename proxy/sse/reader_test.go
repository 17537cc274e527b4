package sse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// got is an Event copied out of the Reader's buffers.
type got struct {
	Name string
	Data *string // nil when the event had no data field
	Raw  string
}

func str(s string) *string { return &s }

func readAll(t testing.TB, r io.Reader, max int) ([]got, error) {
	t.Helper()
	rd := NewReaderSize(r, max)
	var out []got
	for {
		ev, err := rd.Next()
		if err != nil {
			if err == io.EOF {
				return out, nil
			}
			return out, err
		}
		g := got{Name: ev.Name, Raw: string(ev.Raw)}
		if ev.Data != nil {
			g.Data = str(string(ev.Data))
		}
		out = append(out, g)
	}
}

func eq(a, b []got) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Raw != b[i].Raw || (a[i].Data == nil) != (b[i].Data == nil) ||
			(a[i].Data != nil && *a[i].Data != *b[i].Data) {
			return false
		}
	}
	return true
}

func show(gs []got) string {
	var b strings.Builder
	for _, g := range gs {
		d := "<nil>"
		if g.Data != nil {
			d = "\"" + *g.Data + "\""
		}
		b.WriteString("{Name:" + g.Name + " Data:" + d + " Raw:" + strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(g.Raw) + "} ")
	}
	return b.String()
}

var readerCases = []struct {
	name string
	in   string
	want []got
}{
	{"empty", "", nil},
	{"one event LF", "data: hello\n\n", []got{{Data: str("hello"), Raw: "data: hello\n\n"}}},
	{"CRLF", "event: ping\r\ndata: {}\r\n\r\n", []got{{Name: "ping", Data: str("{}"), Raw: "event: ping\r\ndata: {}\r\n\r\n"}}},
	{"CR only", "data: a\r\rdata: b\r\r", []got{{Data: str("a"), Raw: "data: a\r\r"}, {Data: str("b"), Raw: "data: b\r\r"}}},
	{"no space after colon", "data:x\n\n", []got{{Data: str("x"), Raw: "data:x\n\n"}}},
	{"only one space stripped", "data:  x \n\n", []got{{Data: str(" x "), Raw: "data:  x \n\n"}}},
	{"multi-line data", "data: a\ndata:\ndata: c\n\n", []got{{Data: str("a\n\nc"), Raw: "data: a\ndata:\ndata: c\n\n"}}},
	{"comment keep-alive", ": ping\n\ndata: x\n\n", []got{{Raw: ": ping\n\n"}, {Data: str("x"), Raw: "data: x\n\n"}}},
	{"comment inside event", "event: e\n: note\ndata: x\n\n", []got{{Name: "e", Data: str("x"), Raw: "event: e\n: note\ndata: x\n\n"}}},
	{"bare data field", "data\n\n", []got{{Data: str(""), Raw: "data\n\n"}}},
	{"empty data value", "data:\n\n", []got{{Data: str(""), Raw: "data:\n\n"}}},
	{"name without data", "event: x\n\n", []got{{Name: "x", Raw: "event: x\n\n"}}},
	{"last event name wins", "event: a\nevent: b\ndata: 1\n\n", []got{{Name: "b", Data: str("1"), Raw: "event: a\nevent: b\ndata: 1\n\n"}}},
	{"id retry and unknown ignored", "id: 7\nretry: 10\nfoo: bar\ndata: x\n\n", []got{{Data: str("x"), Raw: "id: 7\nretry: 10\nfoo: bar\ndata: x\n\n"}}},
	{"final event at EOF", "data: a\n\ndata: b", []got{{Data: str("a"), Raw: "data: a\n\n"}, {Data: str("b"), Raw: "data: b"}}},
	{"final event one newline", "data: b\n", []got{{Data: str("b"), Raw: "data: b\n"}}},
	{"final event CR", "data: b\r", []got{{Data: str("b"), Raw: "data: b\r"}}},
	{"extra blank lines", "data: a\n\n\n", []got{{Data: str("a"), Raw: "data: a\n\n"}, {Raw: "\n"}}},
	{"BOM", "\xEF\xBB\xBFdata: a\n\n", []got{{Data: str("a"), Raw: "\xEF\xBB\xBFdata: a\n\n"}}},
	{"BOM only at start", "data: a\n\n\xEF\xBB\xBFdata: b\n\n", []got{{Data: str("a"), Raw: "data: a\n\n"}, {Raw: "\xEF\xBB\xBFdata: b\n\n"}}},
	{"colon in value", "data: {\"a\":\"b:c\"}\n\n", []got{{Data: str(`{"a":"b:c"}`), Raw: "data: {\"a\":\"b:c\"}\n\n"}}},
	{"done sentinel", "data: {\"x\":1}\n\ndata: [DONE]\n\n", []got{{Data: str(`{"x":1}`), Raw: "data: {\"x\":1}\n\n"}, {Data: str("[DONE]"), Raw: "data: [DONE]\n\n"}}},
	{"mixed endings", "data: a\r\ndata: b\rdata: c\n\r\n", []got{{Data: str("a\nb\nc"), Raw: "data: a\r\ndata: b\rdata: c\n\r\n"}}},
}

func TestReader(t *testing.T) {
	for _, tc := range readerCases {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := readAll(t, strings.NewReader(tc.in), 0)
			if err != nil {
				t.Fatal(err)
			}
			if !eq(evs, tc.want) {
				t.Fatalf("got  %s\nwant %s", show(evs), show(tc.want))
			}
		})
	}
}

// TestReaderReset reads every case with one Reader, Reset between them
// (after a stream whose large event grew the buffers past what Reset keeps
// too): no state may leak from one stream into the next.
func TestReaderReset(t *testing.T) {
	big := "data: " + strings.Repeat("x", 100<<10) + "\ndata: y\n\n"
	rd := NewReader(strings.NewReader(big))
	if ev, err := rd.Next(); err != nil || len(ev.Data) != 100<<10+2 {
		t.Fatalf("large event: %d bytes, %v", len(ev.Data), err)
	}
	for _, tc := range readerCases {
		t.Run(tc.name, func(t *testing.T) {
			rd.Reset(strings.NewReader(tc.in))
			if len(rd.buf) > maxKeptBuffer || cap(rd.data) > maxKeptBuffer {
				t.Fatalf("Reset kept %d and %d bytes of buffers", len(rd.buf), cap(rd.data))
			}
			var evs []got
			for {
				ev, err := rd.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				g := got{Name: ev.Name, Raw: string(ev.Raw)}
				if ev.Data != nil {
					g.Data = str(string(ev.Data))
				}
				evs = append(evs, g)
			}
			if !eq(evs, tc.want) {
				t.Fatalf("got  %s\nwant %s", show(evs), show(tc.want))
			}
		})
	}
}

// TestReaderChunking feeds every case through readers that split the input
// differently: the data events must not change and Raw must still add up to
// the input.
func TestReaderChunking(t *testing.T) {
	wrap := map[string]func(io.Reader) io.Reader{
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data+err": iotest.DataErrReader,
	}
	for _, tc := range readerCases {
		for wn, w := range wrap {
			t.Run(tc.name+"/"+wn, func(t *testing.T) {
				evs, err := readAll(t, w(strings.NewReader(tc.in)), 0)
				if err != nil {
					t.Fatal(err)
				}
				checkSame(t, tc.in, tc.want, evs)
			})
		}
	}
}

func checkSame(t *testing.T, in string, want, evs []got) {
	t.Helper()
	var raw strings.Builder
	for _, e := range evs {
		raw.WriteString(e.Raw)
	}
	if raw.String() != in {
		t.Fatalf("Raw adds up to %q, want %q", raw.String(), in)
	}
	if a, b := dataEvents(evs), dataEvents(want); !eq(a, b) {
		t.Fatalf("data events\ngot  %s\nwant %s", show(a), show(b))
	}
}

// dataEvents keeps the events a browser would dispatch, without Raw.
func dataEvents(evs []got) []got {
	var out []got
	for _, e := range evs {
		if e.Data != nil {
			out = append(out, got{Name: e.Name, Data: e.Data})
		}
	}
	return out
}

// scripted hands out its chunks one Read at a time, then fails: a Reader that
// reads ahead of a complete event would hit the failure instead of returning
// the event.
type scripted struct {
	chunks []string
	reads  int
	calls  int // Reads asked for, the failing ones included
}

var errReadAhead = errors.New("read past the available data")

func (s *scripted) Read(p []byte) (int, error) {
	s.calls++
	if s.reads >= len(s.chunks) {
		return 0, errReadAhead
	}
	n := copy(p, s.chunks[s.reads])
	s.reads++
	return n, nil
}

func TestReaderDoesNotReadAhead(t *testing.T) {
	cases := []struct {
		name   string
		chunks []string
		data   []string
	}{
		{"LF", []string{"data: a\n\n"}, []string{"a"}},
		{"CRLF", []string{"data: a\r\n\r\n"}, []string{"a"}},
		{"ends on bare CR", []string{"data: a\r\r"}, []string{"a"}},
		{"split CRLF", []string{"data: a\r\n\r", "\ndata: b\r\n\r\n"}, []string{"a", "b"}},
		{"two in one chunk", []string{"data: a\n\ndata: b\n\n"}, []string{"a", "b"}},
		{"event over two chunks", []string{"data: a", "bc\n\n"}, []string{"abc"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rd := NewReader(&scripted{chunks: tc.chunks})
			for _, want := range tc.data {
				ev, err := rd.Next()
				if err != nil {
					t.Fatalf("Next before %q: %v", want, err)
				}
				if string(ev.Data) != want {
					t.Fatalf("Data %q, want %q", ev.Data, want)
				}
			}
			if _, err := rd.Next(); !errors.Is(err, errReadAhead) {
				t.Fatalf("after the events: %v, want the scripted error", err)
			}
		})
	}
}

// TestReaderBuffered checks Buffered before every Next against what Next
// then does: true exactly when Next returns without another Read (the
// scripted reader counts them), so a relay that flushes only when Buffered
// is false never holds an event while it waits on the upstream.
func TestReaderBuffered(t *testing.T) {
	cases := []struct {
		name   string
		chunks []string
		want   []bool // Buffered before each Next, until Next fails
	}{
		{"one event a read", []string{"data: a\n\n", "data: b\n\n"}, []bool{false, false, false}},
		{"two in one read", []string{"data: a\n\ndata: b\n\n"}, []bool{false, true, false}},
		{"two and a half", []string{"data: a\n\ndata: b\n\ndata: c", "\n\n"}, []bool{false, true, false, false}},
		{"event over two reads", []string{"data: a", "bc\n\n"}, []bool{false, false}},
		{"ends on bare CR", []string{"data: a\r\r", "\ndata: b\r\n\r\n"}, []bool{false, false, false}},
		{"split CRLF then whole", []string{"data: a\r\n\r", "\ndata: b\r\n\r\n"}, []bool{false, false, false}},
		{"CRLF pair in one read", []string{"data: a\r\n\r\ndata: b\r\n\r\n"}, []bool{false, true, false}},
		{"keep-alive and event", []string{": ping\n\ndata: a\n\n"}, []bool{false, true, false}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &scripted{chunks: tc.chunks}
			rd := NewReader(s)
			var got []bool
			for {
				b, before := rd.Buffered(), s.calls
				got = append(got, b)
				_, err := rd.Next()
				if read := s.calls > before; read == b {
					t.Fatalf("Buffered() = %v before Next #%d, but Next read: %v", b, len(got), read)
				}
				if err != nil {
					break
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("Buffered before each Next = %v, want %v", got, tc.want)
			}
			if !rd.Buffered() {
				t.Fatal("Buffered() = false after an error; Next would not read again")
			}
		})
	}
}

// TestReaderPipe checks the blocking case end to end: the writer sends one
// event and waits for it to be read before sending the next.
func TestReaderPipe(t *testing.T) {
	pr, pw := io.Pipe()
	got := make(chan string)
	go func() {
		rd := NewReader(pr)
		for {
			ev, err := rd.Next()
			if err != nil {
				close(got)
				return
			}
			got <- string(ev.Data)
		}
	}()
	for _, d := range []string{"one", "two", "three"} {
		if _, err := pw.Write([]byte("data: " + d + "\n\n")); err != nil {
			t.Fatal(err)
		}
		if g := <-got; g != d {
			t.Fatalf("got %q, want %q", g, d)
		}
	}
	pw.Close()
	if _, ok := <-got; ok {
		t.Fatal("event after close")
	}
}

func TestReaderMaxEventSize(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		max     int
		wantErr bool
		events  int // read before the error
	}{
		{"fits exactly", "data: 12\n\n", 10, false, 1},
		{"complete but too large", "data: 123\n\n", 10, true, 0},
		{"never terminated", "data: " + strings.Repeat("x", 100), 10, true, 0},
		{"large after small", "data: a\n\ndata: " + strings.Repeat("x", 5000), 4096, true, 1},
		{"default allows big", "data: " + strings.Repeat("x", 100000) + "\n\n", 0, false, 1},
		{"default limit", "data: " + strings.Repeat("x", DefaultMaxEventSize) + "\n\n", 0, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rd := NewReaderSize(strings.NewReader(tc.in), tc.max)
			n := 0
			var err error
			for {
				if _, err = rd.Next(); err != nil {
					break
				}
				n++
			}
			if n != tc.events {
				t.Errorf("%d events before the error, want %d", n, tc.events)
			}
			if got := errors.Is(err, ErrEventTooLarge); got != tc.wantErr {
				t.Fatalf("err = %v, want ErrEventTooLarge: %v", err, tc.wantErr)
			}
			if _, again := rd.Next(); again != err {
				t.Fatalf("error not sticky: %v then %v", err, again)
			}
		})
	}
}

func TestReaderUpstreamError(t *testing.T) {
	boom := errors.New("connection reset")
	rd := NewReader(io.MultiReader(strings.NewReader("data: a\n\ndata: part"), iotest.ErrReader(boom)))
	if ev, err := rd.Next(); err != nil || string(ev.Data) != "a" {
		t.Fatalf("first event: %q %v", ev.Data, err)
	}
	if _, err := rd.Next(); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
}

func TestReaderNoProgress(t *testing.T) {
	rd := NewReader(zeroReader{})
	if _, err := rd.Next(); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("err = %v, want io.ErrNoProgress", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

// TestReaderDataIsCapped makes sure appending to a returned Data or Raw
// cannot overwrite the next event in the shared buffer.
func TestReaderDataIsCapped(t *testing.T) {
	rd := NewReader(strings.NewReader("data: a\n\ndata: b\n\n"))
	ev, err := rd.Next()
	if err != nil {
		t.Fatal(err)
	}
	_ = append(ev.Data, "XXXXXXXX"...)
	_ = append(ev.Raw, "XXXXXXXX"...)
	ev, err = rd.Next()
	if err != nil || string(ev.Data) != "b" || string(ev.Raw) != "data: b\n\n" {
		t.Fatalf("second event corrupted: %q %q %v", ev.Data, ev.Raw, err)
	}
}

// TestReaderReusesName checks the allocation-saving promise behind intern.
func TestReaderReusesName(t *testing.T) {
	in := strings.Repeat("event: content_block_delta\ndata: {}\n\n", 50)
	rd := NewReader(strings.NewReader(in))
	allocs := testing.AllocsPerRun(1, func() {
		for {
			if _, err := rd.Next(); err != nil {
				return
			}
		}
	})
	if allocs > 1 {
		t.Fatalf("%v allocations for 50 same-named events, want at most 1", allocs)
	}
}

func FuzzReader(f *testing.F) {
	for _, tc := range readerCases {
		f.Add([]byte(tc.in), uint8(1))
		f.Add([]byte(tc.in), uint8(3))
	}
	f.Add([]byte("event: message_start\r\ndata: {\"type\":\"message_start\"}\r\n\r\n: ping\r\n\r\ndata: [DONE]\r\n\r\n"), uint8(2))
	f.Add([]byte("data: a\r\n\r\n\r\n\r"), uint8(1))
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		whole, err := readAll(t, bytes.NewReader(in), 0)
		if err != nil {
			t.Fatalf("whole input: %v", err)
		}
		var raw []byte
		for _, e := range whole {
			raw = append(raw, e.Raw...)
		}
		if !bytes.Equal(raw, in) {
			t.Fatalf("Raw adds up to %q, want %q", raw, in)
		}
		split, err := readAll(t, &chunked{b: in, n: int(chunk)%7 + 1}, 0)
		if err != nil {
			t.Fatalf("chunked input: %v", err)
		}
		checkSame(t, string(in), whole, split)
	})
}

// chunked returns at most n bytes per Read.
type chunked struct {
	b []byte
	n int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), c.n, len(c.b))
	copy(p, c.b[:n])
	c.b = c.b[n:]
	return n, nil
}

// BenchmarkReader reads 100-event streams: OpenAI chat chunks (data only,
// LF) and Anthropic deltas (named events, CRLF), the second showing that a
// repeated event name is not allocated per event.
func BenchmarkReader(b *testing.B) {
	streams := []struct{ name, event string }{
		{"openai", `data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}` + "\n\n"},
		{"anthropic", "event: content_block_delta\r\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\r\n\r\n"},
	}
	for _, s := range streams {
		stream := []byte(strings.Repeat(s.event, 100))
		for _, reuse := range []bool{false, true} {
			name := s.name
			if reuse {
				name += "/reset" // a pooled Reader, as the proxy uses
			}
			b.Run(name, func(b *testing.B) {
				br := bytes.NewReader(stream)
				rd := NewReader(br)
				b.SetBytes(int64(len(stream)))
				b.ReportAllocs()
				for b.Loop() {
					br.Reset(stream)
					if reuse {
						rd.Reset(br)
					} else {
						rd = NewReader(br)
					}
					for {
						if _, err := rd.Next(); err != nil {
							break
						}
					}
				}
			})
		}
	}
}
