package proxy

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/sluicehq/sluice/modelname"
	"github.com/sluicehq/sluice/proxy/usage"
)

// bufPool recycles request and response body buffers, the largest
// allocations of a request.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer keeps one huge body from pinning its buffer in the pool.
const maxPooledBuffer = 1 << 20

func getBuffer() *bytes.Buffer { return bufPool.Get().(*bytes.Buffer) }

func putBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooledBuffer {
		return
	}
	b.Reset()
	bufPool.Put(b)
}

// serverWriter is the server's own writer beneath w's wrappers (the body
// recorder, say): only it can take http.MaxBytesReader's word to close
// the connection after a body past the limit, which a wrapper would drop.
func serverWriter(w http.ResponseWriter) http.ResponseWriter {
	for {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return w
		}
		w = u.Unwrap()
	}
}

// readBody reads the request body into buf, refusing more than limit bytes
// with 413. What it holds is first counted against bufs (waiting briefly
// for room, else 503): a body whose length is announced is counted whole,
// at once, so bodies that together exceed the budget wait their turn
// instead of each holding part of it and all waiting for the rest; a body
// of unknown length is counted a step at a time as it arrives. held is what
// it counted, which the caller releases once buf is done with, also after
// a refusal.
func readBody(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer, limit int64, bufs *buffers) (held int64, aerr *apiError) {
	if r.ContentLength > limit {
		return 0, tooLarge(limit)
	}
	busy := refuse(http.StatusServiceUnavailable, "gateway_busy",
		"the gateway is holding as many request bodies as its memory limit allows; try again shortly")
	if r.ContentLength > 0 {
		// One byte more than announced, to read the end of the body.
		if err := bufs.acquire(r.Context(), r.ContentLength+1); err != nil {
			return 0, busy
		}
		held = r.ContentLength + 1
	}
	body := http.MaxBytesReader(serverWriter(w), r.Body, limit)
	var tooBig *http.MaxBytesError
	for {
		if int64(buf.Len()) >= held {
			if err := bufs.acquire(r.Context(), bufferStep); err != nil {
				return held, busy
			}
			held += bufferStep
		}
		// The buffer grows a step at a time as bytes come, whatever was
		// counted: a client that announces a large body and sends it slowly
		// does not make the gateway allocate for bytes that have not come.
		step := int(min(held-int64(buf.Len()), bufferStep))
		buf.Grow(step)
		room := buf.AvailableBuffer()[:step]
		n, err := io.ReadFull(body, room)
		buf.Write(room[:n])
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return held, nil
		case errors.As(err, &tooBig):
			return held, tooLarge(limit)
		case err != nil:
			return held, refuse(http.StatusBadRequest, "invalid_body", "could not read the request body: "+err.Error())
		}
	}
}

func tooLarge(limit int64) *apiError {
	return refuse(http.StatusRequestEntityTooLarge, "request_too_large",
		fmt.Sprintf("the request body is larger than this gateway's limit of %d bytes", limit))
}

// fields are the only parts of a request body the proxy reads; everything
// else passes through untouched.
type fields struct {
	Model  string
	Stream bool
	// StreamOptions is kept raw: present-but-null must be told apart from
	// absent when the proxy adds include_usage.
	StreamOptions json.RawMessage
}

// parseFields checks that body is one JSON object and reads its fields.
// Upstreams disagree on member names: most match them exactly, servers
// written in Go (Ollama, many OpenAI-compatible ones) ignore case, and
// the last match wins. So a member whose name differs from one of these
// only in case is refused: otherwise {"model":"cheap","MODEL":"dear"}
// would be checked and priced as one model and run as the other.
// It validates with json.Valid and walks the top-level members with
// package usage's scanner instead of decoding into a struct with
// reflection, the costliest step before a request is forwarded;
// encoding/json only words a syntax error and decodes escaped strings.
func parseFields(body []byte) (fields, *apiError) {
	var f fields
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return f, refuse(http.StatusBadRequest, "invalid_body", "the request body is empty; send a JSON object")
	}
	if trimmed[0] != '{' {
		return f, refuse(http.StatusBadRequest, "invalid_body", "the request body must be a JSON object")
	}
	if !json.Valid(body) {
		err := json.Unmarshal(body, new(struct{}))
		if err == nil { // cannot happen: the two agree on what is valid
			err = errors.New("malformed")
		}
		return f, refuse(http.StatusBadRequest, "invalid_body", "the request body is not valid JSON: "+err.Error())
	}
	var bad, badKind string     // the first member of the wrong type
	var clash, clashWith string // the first member named like one of ours in another case
	wrong := func(key string, val []byte) {
		if bad == "" {
			bad, badKind = key, jsonKind(val)
		}
	}
	usage.Members(body, func(key, val []byte) {
		switch string(key) {
		case "model":
			switch {
			case val[0] == '"':
				f.Model = jsonString(val)
			case string(val) != "null":
				wrong("model", val)
			}
		case "stream":
			switch string(val) {
			case "true", "false":
				f.Stream = val[0] == 't'
			case "null":
			default:
				wrong("stream", val)
			}
		case "stream_options":
			f.StreamOptions = val
		default:
			for _, name := range [...]string{"model", "stream", "stream_options"} {
				if clash == "" && bytes.EqualFold(key, []byte(name)) {
					clash, clashWith = string(key), name
				}
			}
		}
	})
	switch {
	case clash != "":
		return f, refuse(http.StatusBadRequest, "invalid_body", fmt.Sprintf(
			"the request member %q is %q in another case; upstreams disagree on which one counts, so send only %q",
			clash, clashWith, clashWith))
	case bad != "":
		return f, refuse(http.StatusBadRequest, "invalid_body", fmt.Sprintf("the request field %q has the wrong type (%s)", bad, badKind))
	}
	return f, nil
}

// jsonString decodes a valid JSON string; one without escapes, as model
// names are, is just its bytes between the quotes.
func jsonString(val []byte) string {
	if bytes.IndexByte(val, '\\') < 0 {
		return string(val[1 : len(val)-1])
	}
	var s string
	_ = json.Unmarshal(val, &s) // val is valid JSON: parseFields checked
	return s
}

// jsonKind names a valid JSON value's type in encoding/json's words, for a
// wrong-type refusal.
func jsonKind(val []byte) string {
	switch val[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	default:
		return "number"
	}
}

// checkModel refuses model names that could only be mistakes or attacks:
// control characters, white space, path traversal and URL syntax. They
// would never match an enabled model anyway, but a clear 400 beats a
// puzzling 403, and nothing odd ever reaches an upstream URL.
func checkModel(model string) *apiError {
	err := modelname.Check(model)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, modelname.ErrEmpty):
		return refuse(http.StatusBadRequest, "missing_model", `the request names no model; set "model"`)
	case errors.Is(err, modelname.ErrPath):
		return refuse(http.StatusBadRequest, "invalid_model", err.Error()+"; use the model ID as listed in /v1/models")
	}
	return refuse(http.StatusBadRequest, "invalid_model", err.Error())
}

// withIncludeUsage returns body asking for stream usage, and whether the
// client had asked for it itself. The common case, no stream_options at
// all, is one insertion after the opening brace; otherwise the body is
// rewritten through a map, which reorders its keys (JSON objects are
// unordered, so nothing changes for the upstream).
func withIncludeUsage(body []byte, opts json.RawMessage) ([]byte, bool, error) {
	if len(opts) == 0 {
		i := bytes.IndexByte(body, '{')
		const ask = `"stream_options":{"include_usage":true},`
		out := make([]byte, 0, len(body)+len(ask))
		out = append(out, body[:i+1]...)
		out = append(out, ask...)
		return append(out, body[i+1:]...), false, nil
	}
	so := map[string]json.RawMessage{}
	if !bytes.Equal(bytes.TrimSpace(opts), []byte("null")) {
		if err := json.Unmarshal(opts, &so); err != nil {
			return nil, false, fmt.Errorf("stream_options must be an object: %w", err)
		}
	}
	var asked bool
	if v, ok := so["include_usage"]; ok {
		_ = json.Unmarshal(v, &asked)
	}
	if asked {
		return body, true, nil
	}
	so["include_usage"] = json.RawMessage("true")
	top := map[string]json.RawMessage{}
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, false, err
	}
	enc, err := marshal(so)
	if err != nil {
		return nil, false, err
	}
	top["stream_options"] = enc
	out, err := marshal(top)
	return out, false, err
}

// marshal is json.Marshal without HTML escaping, so a prompt's <, > and &
// reach the upstream as the client wrote them.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// requestID is the client's X-Request-Id when it is a sane token (so logs
// on both sides line up), else a fresh random one.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); saneID(id) {
		return id
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	var out [4 + 32]byte
	copy(out[:], "req_")
	hex.Encode(out[4:], b[:])
	return string(out[:])
}

func saneID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// discard drains a little of a body so its connection can be reused.
func discard(rc io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, rc, 64<<10)
	_ = rc.Close()
}

// withModel returns body with its "model" replaced, for a target that
// knows the client's model by another name. Only routed requests with a
// mapping pay for the rewrite (through a map, which reorders keys: JSON
// objects are unordered, so nothing changes for the upstream).
func withModel(body []byte, model string) ([]byte, error) {
	top := map[string]json.RawMessage{}
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, fmt.Errorf("read the request body: %w", err)
	}
	enc, err := marshal(model)
	if err != nil {
		return nil, err
	}
	top["model"] = enc
	return marshal(top)
}
