package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/protocol/anthropic"
	"github.com/sluicehq/sluice/proxy/protocol/cohere"
	"github.com/sluicehq/sluice/proxy/protocol/gemini"
	"github.com/sluicehq/sluice/proxy/protocol/openai"
	"github.com/sluicehq/sluice/proxy/protocol/responses"
	"github.com/sluicehq/sluice/proxy/sse"
)

var update = flag.Bool("update", false, "rewrite docs/compatibility.md from the matrix")

// feature is one of the matrix's rows: a request fixture of every caller
// API (testdata/request_<request>.json), perhaps narrowed by edit, and an
// answer of every provider API (testdata/answer_<answer>.json,
// stream_<answer>.sse).
type feature struct {
	name, request, answer string
	edit                  func(*protocol.Request)
}

var features = []feature{
	{name: "text", request: "text", answer: "text", edit: plainSampling},
	{name: "sampling", request: "text", answer: "text"},
	{name: "tools", request: "tools", answer: "tools"},
	{name: "image", request: "image", answer: "image", edit: imagesOnly},
	{name: "media", request: "image", answer: "image"},
	{name: "structured", request: "structured", answer: "structured"},
	{name: "reasoning", request: "reasoning", answer: "reasoning"},
}

// plainSampling leaves out the sampling parameters some providers lack
// (the "sampling" row keeps them).
func plainSampling(r *protocol.Request) {
	r.FrequencyPenalty, r.PresencePenalty, r.Seed, r.TopK = nil, nil, nil, nil
}

// imagesOnly leaves out the documents and audio of the fixture (the
// "media" row keeps them).
func imagesOnly(r *protocol.Request) {
	for i := range r.Messages {
		m := &r.Messages[i]
		m.Parts = slices.DeleteFunc(m.Parts, func(p protocol.Part) bool {
			return p.Type == protocol.PartDocument || p.Type == protocol.PartAudio
		})
	}
}

// caller is one API applications speak to the gateway.
type caller struct {
	name   string
	proto  providers.Protocol
	client protocol.Client
	dir    string
	// inPath marks Gemini, whose model and streaming choice are in the
	// path, not the body.
	inPath bool
	// read reads what the caller got back into the internal form, as the
	// caller's SDK would see it.
	read func(t *testing.T, req *protocol.Request, body []byte, streamed bool) *protocol.Response
}

// provider is one API the gateway speaks to upstreams.
type provider struct {
	name     string
	proto    providers.Protocol
	provider protocol.Provider
	// echo reads a provider request back with the same API's client side,
	// to check what was sent.
	echo protocol.Client
	dir  string
}

var callers = []caller{
	{name: "OpenAI Chat Completions", proto: providers.ProtocolOpenAI, client: openai.Chat, dir: "../openai", read: readWith(openai.Chat)},
	{name: "OpenAI Responses", proto: providers.ProtocolOpenAI, client: responses.API, dir: "../responses", read: readResponses},
	{name: "Anthropic Messages", proto: providers.ProtocolAnthropic, client: anthropic.Messages, dir: "../anthropic", read: readWith(anthropic.Messages)},
	{name: "Gemini generateContent", proto: providers.ProtocolGemini, client: gemini.API, dir: "../gemini", inPath: true, read: readWith(gemini.API)},
	{name: "Cohere v2 chat", proto: providers.ProtocolCohere, client: cohere.Chat, dir: "../cohere", read: readWith(cohere.Chat)},
}

var upstreams = []provider{
	{name: "OpenAI-compatible", proto: providers.ProtocolOpenAI, provider: openai.Chat, echo: openai.Chat, dir: "../openai"},
	{name: "Anthropic", proto: providers.ProtocolAnthropic, provider: anthropic.Messages, echo: anthropic.Messages, dir: "../anthropic"},
	{name: "Gemini", proto: providers.ProtocolGemini, provider: gemini.API, echo: gemini.API, dir: "../gemini"},
	{name: "Cohere", proto: providers.ProtocolCohere, provider: cohere.Chat, echo: cohere.Chat, dir: "../cohere"},
}

// cell is the outcome of one caller × provider × feature × mode.
type cell struct {
	caller, provider, feature string
	streamed                  bool
	// refused is the refusal the caller gets; "" when translated.
	refused string
	omitted []string
}

// TestConformanceMatrix runs every cell and checks docs/compatibility.md
// against it.
func TestConformanceMatrix(t *testing.T) {
	var cells []cell
	for _, c := range callers {
		for _, p := range upstreams {
			for _, f := range features {
				for _, streamed := range []bool{false, true} {
					mode := "plain"
					if streamed {
						mode = "streamed"
					}
					name := fmt.Sprintf("%s/to %s/%s/%s", c.name, p.name, f.name, mode)
					out := cell{caller: c.name, provider: p.name, feature: f.name, streamed: streamed}
					t.Run(name, func(t *testing.T) { out = runCell(t, c, p, f, streamed, out) })
					cells = append(cells, out)
				}
			}
		}
	}
	doc := render(cells)
	path := filepath.Join("..", "..", "..", "docs", "compatibility.md")
	if *update {
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	have, err := os.ReadFile(path)
	if err != nil || string(have) != doc {
		t.Errorf("docs/compatibility.md is not what the matrix shows; run go test ./proxy/protocol/conformance -update and commit it")
	}
}

func runCell(t *testing.T, c caller, p provider, f feature, streamed bool, out cell) cell {
	body := fixture(t, c.dir, "request_"+f.request+".json")
	req, err := c.client.DecodeRequest(protocol.OpGenerate, body)
	if err != nil {
		t.Fatalf("the caller's own request does not decode: %v", err)
	}
	if c.inPath {
		req.Model = "test-model"
	}
	req.Stream, req.IncludeStreamUsage = streamed, streamed
	if f.edit != nil {
		f.edit(req)
	}
	if len(req.Unknown) > 0 {
		out.refused = fmt.Sprintf("parameters %s are not translated", strings.Join(req.Unknown, ", "))
		return out
	}
	want := *req
	call, err := p.provider.EncodeRequest(req)
	out.omitted = slices.Clone(req.Omitted())
	var unsupported *protocol.Unsupported
	if errors.As(err, &unsupported) {
		out.refused = unsupported.Error()
		return out
	}
	if err != nil {
		t.Fatalf("encode for %s: %v", p.name, err)
	}
	checkSent(t, p, &want, call)

	var sent *protocol.Response
	var wire []byte
	if streamed {
		stream := fixture(t, p.dir, "stream_"+f.answer+".sse")
		events := decodeStream(t, p.provider.NewStreamDecoder(req), stream)
		sent = collect(events)
		enc := c.client.NewStreamEncoder(req)
		for _, ev := range events {
			wire = enc.Encode(wire, ev)
		}
		wire = enc.End(wire)
	} else {
		answer := fixture(t, p.dir, "answer_"+f.answer+".json")
		if sent, err = p.provider.DecodeResponse(req, answer); err != nil {
			t.Fatalf("the provider's answer does not decode: %v", err)
		}
		if wire, err = c.client.EncodeResponse(req, sent); err != nil {
			t.Fatalf("encode the answer for the caller: %v", err)
		}
	}
	sameAnswer(t, sent, c.read(t, req, wire, streamed))
	if check, ok := sdkRead[c.name]; ok {
		check(t, wire, streamed, sent)
	}
	return out
}

// checkSent reads the provider request back with the provider API's own
// client side: the tools, the tool calls and results (with their ids)
// and the turns must all have arrived.
func checkSent(t *testing.T, p provider, want *protocol.Request, call protocol.Call) {
	t.Helper()
	if !json.Valid(call.Body) {
		t.Fatalf("the provider request is not JSON: %s", call.Body)
	}
	got, err := p.echo.DecodeRequest(protocol.OpGenerate, call.Body)
	if err != nil {
		t.Fatalf("the provider request does not read back: %v\n%s", err, call.Body)
	}
	if len(got.Unknown) > 0 {
		t.Errorf("the provider request has members its API does not know: %v\n%s", got.Unknown, call.Body)
	}
	wantTools := toolNames(want)
	if want.ToolChoice.Mode == protocol.ToolNamed && slices.Equal(toolNames(got), []string{want.ToolChoice.Name}) {
		// An API without a named tool choice (Cohere's) sends the named
		// tool alone and requires a call.
		wantTools = []string{want.ToolChoice.Name}
	}
	if g := toolNames(got); !slices.Equal(wantTools, g) && want.ResponseFormat == nil {
		t.Errorf("tools sent %v, want %v", g, wantTools)
	}
	if w, g := callIDs(want), callIDs(got); !slices.Equal(w, g) {
		t.Errorf("tool calls and results sent %v, want %v\n%s", g, w, call.Body)
	}
	if w, g := texts(want), texts(got); !slices.Equal(w, g) {
		t.Errorf("texts sent %q, want %q", g, w)
	}
}

func toolNames(r *protocol.Request) []string {
	var n []string
	for _, tl := range r.Tools {
		n = append(n, tl.Name)
	}
	return n
}

// callIDs lists the tool calls and results of the conversation in order.
func callIDs(r *protocol.Request) []string {
	var ids []string
	for _, m := range r.Messages {
		for _, p := range m.Parts {
			switch p.Type {
			case protocol.PartToolCall:
				ids = append(ids, "call "+p.ID+" "+p.Name+" "+compactJSON(p.Arguments))
			case protocol.PartToolResult:
				ids = append(ids, "result "+p.ID)
			}
		}
	}
	return ids
}

// texts lists the text of every turn, system prompt first.
func texts(r *protocol.Request) []string {
	var out []string
	var sys []string
	for _, p := range r.System {
		sys = append(sys, p.Text)
	}
	if len(sys) > 0 {
		// APIs with one system string join the parts with a blank line.
		out = append(out, "system: "+strings.Join(sys, "\n\n"))
	}
	for _, m := range r.Messages {
		var b strings.Builder
		for _, p := range m.Parts {
			if p.Type == protocol.PartText {
				b.WriteString(p.Text)
			}
		}
		if b.Len() > 0 {
			out = append(out, string(m.Role)+": "+b.String())
		}
	}
	return out
}

func compactJSON(s string) string {
	if s == "" {
		return "{}"
	}
	var b bytes.Buffer
	if json.Compact(&b, []byte(s)) != nil {
		return s
	}
	return b.String()
}

// sameAnswer checks that the caller got the provider's answer: its text,
// its tool calls with their ids and arguments, why it finished, and the
// provider's token counts.
func sameAnswer(t *testing.T, want, got *protocol.Response) {
	t.Helper()
	if w, g := answerText(want), answerText(got); w != g {
		t.Errorf("text %q, want %q", g, w)
	}
	if w, g := answerCalls(want), answerCalls(got); !slices.Equal(w, g) {
		t.Errorf("tool calls %v, want %v", g, w)
	}
	if want.Finish != got.Finish {
		t.Errorf("finish %q, want %q", got.Finish, want.Finish)
	}
	if want.Usage.InputTokens != got.Usage.InputTokens || want.Usage.OutputTokens != got.Usage.OutputTokens {
		t.Errorf("usage %d in / %d out, want %d / %d", got.Usage.InputTokens, got.Usage.OutputTokens, want.Usage.InputTokens, want.Usage.OutputTokens)
	}
}

func answerText(r *protocol.Response) string {
	var b strings.Builder
	for _, p := range r.Parts {
		if p.Type == protocol.PartText {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

func answerCalls(r *protocol.Response) []string {
	var c []string
	for _, p := range r.Parts {
		if p.Type == protocol.PartToolCall {
			c = append(c, p.ID+" "+p.Name+" "+compactJSON(p.Arguments))
		}
	}
	return c
}

// readWith reads an answer with the provider side of the caller's own
// API, which reads the same wire format.
func readWith(api protocol.Provider) func(*testing.T, *protocol.Request, []byte, bool) *protocol.Response {
	return func(t *testing.T, req *protocol.Request, body []byte, streamed bool) *protocol.Response {
		t.Helper()
		if streamed {
			return collect(decodeStream(t, api.NewStreamDecoder(req), body))
		}
		r, err := api.DecodeResponse(req, body)
		if err != nil {
			t.Fatalf("the caller's answer does not read: %v\n%s", err, body)
		}
		return r
	}
}

func decodeStream(t *testing.T, dec protocol.StreamDecoder, stream []byte) []protocol.Event {
	t.Helper()
	rd := sse.NewReader(bytes.NewReader(stream))
	var events []protocol.Event
	for {
		ev, err := rd.Next()
		if err == io.EOF {
			return events
		}
		if err != nil {
			t.Fatalf("read the stream: %v", err)
		}
		if events, err = dec.Decode(events, copyEvent(ev)); err != nil {
			t.Fatalf("decode a stream event %q: %v", ev.Raw, err)
		}
	}
}

func copyEvent(ev sse.Event) sse.Event {
	return sse.Event{Name: ev.Name, Data: bytes.Clone(ev.Data), Raw: bytes.Clone(ev.Raw)}
}

// collect assembles a streamed answer from its events.
func collect(events []protocol.Event) *protocol.Response {
	r := &protocol.Response{}
	for _, ev := range events {
		switch ev.Type {
		case protocol.EventStart:
			r.ID, r.Model = ev.ID, ev.Model
		case protocol.EventPartStart:
			for len(r.Parts) <= ev.Index {
				r.Parts = append(r.Parts, protocol.Part{})
			}
			p := ev.Part
			r.Parts[ev.Index] = protocol.Part{Type: p.Type, ID: p.ID, Name: p.Name, Text: p.Text, Arguments: p.Arguments, Signature: p.Signature}
		case protocol.EventDelta:
			if ev.Index < len(r.Parts) {
				p := &r.Parts[ev.Index]
				p.Text += ev.Part.Text
				p.Arguments += ev.Part.Arguments
				p.Signature += ev.Part.Signature
			}
		case protocol.EventFinish:
			r.Finish, r.StopSequence = ev.Finish, ev.StopSequence
		}
		if ev.Usage != nil {
			r.Usage = *ev.Usage
		}
	}
	return r
}

func fixture(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "testdata", name))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return b
}

// render writes the matrix as Markdown.
func render(cells []cell) string {
	var b strings.Builder
	b.WriteString("# Compatibility: every caller API to every provider API\n\n")
	b.WriteString("Generated by `TestConformanceMatrix` (`go test ./proxy/protocol/conformance -update`); the test fails when this file is out of date.\n\n")
	b.WriteString("Each cell is a request as the caller's SDK sends it (text; the same with every sampling parameter the API has; tools with a tool-result turn; images by URL and base64; images with documents and audio; structured output; reasoning with earlier signed thinking), translated for the provider, answered with a recorded answer in the provider's wire format, plain and streamed, and read back as the caller sees it: the text, the tool calls with their ids and arguments, the finish reason and the provider's token counts must arrive intact. When the caller and the provider speak the same API the gateway passes the request through untranslated; the cell then shows that the adapters agree with themselves.\n\n")
	b.WriteString("✓: translated, plain and streamed. ✗: refused with 400 in the caller's error shape (see below). Names in *italics* are left out and named in the `X-Sluice-Omitted` header.\n\n")
	b.WriteString("| caller ↓ · provider → |")
	for _, p := range upstreams {
		b.WriteString(" " + p.name + " |")
	}
	b.WriteString("\n|---|")
	for range upstreams {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, c := range callers {
		b.WriteString("| " + c.name + " |")
		for _, p := range upstreams {
			var marks []string
			for _, f := range features {
				marks = append(marks, featureMark(cells, c.name, p.name, f.name))
			}
			b.WriteString(" " + strings.Join(marks, "<br>") + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString("\n## Refused, and why\n\n")
	seen := map[string]bool{}
	for _, cl := range cells {
		if cl.refused == "" {
			continue
		}
		line := fmt.Sprintf("- %s → %s, %s: %s\n", cl.caller, cl.provider, cl.feature, cl.refused)
		if !seen[line] {
			seen[line] = true
			b.WriteString(line)
		}
	}
	if len(seen) == 0 {
		b.WriteString("Nothing in the matrix is refused.\n")
	}
	return b.String()
}

func featureMark(cells []cell, c, p, f string) string {
	mark := "✓"
	var omitted []string
	for _, cl := range cells {
		if cl.caller != c || cl.provider != p || cl.feature != f {
			continue
		}
		if cl.refused != "" {
			mark = "✗"
		}
		for _, o := range cl.omitted {
			if !slices.Contains(omitted, o) {
				omitted = append(omitted, o)
			}
		}
	}
	s := mark + " " + f
	if len(omitted) > 0 {
		s += " (*" + strings.Join(omitted, ", ") + "*)"
	}
	return s
}
