package proxy

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseFields(t *testing.T) {
	cases := []struct {
		name, body    string
		model         string
		stream        bool
		streamOptions string // "" is absent
		err           string // a part of the refusal's message
	}{
		{name: "plain", body: `{"model":"gpt-test","messages":[{"role":"user","content":"hi"}]}`, model: "gpt-test"},
		{name: "streamed with options", body: ` {"stream":true,"model":"m","stream_options":{"include_usage":false}}`, model: "m", stream: true, streamOptions: `{"include_usage":false}`},
		{name: "options null is kept", body: `{"model":"m","stream_options":null}`, model: "m", streamOptions: "null"},
		{name: "null model and stream are absent", body: `{"model":null,"stream":null}`},
		{name: "the last duplicate wins", body: `{"model":"a","stream":true,"model":"b","stream":false}`, model: "b"},
		{name: "null after a value keeps it", body: `{"model":"a","model":null}`, model: "a"},
		{name: "escaped model", body: `{"model":"gpt-\u0034o"}`, model: "gpt-4o"},
		{name: "escaped key", body: `{"mod\u0065l":"m"}`, model: "m"},
		{name: "a name in another case", body: `{"model":"cheap","MODEL":"dear"}`, err: `the request member "MODEL" is "model" in another case`},
		{name: "a name in another case first", body: `{"Stream":true,"model":"m","stream":false}`, err: `"Stream" is "stream" in another case`},
		{name: "options in another case", body: `{"model":"m","Stream_Options":{"include_usage":false}}`, err: `so send only "stream_options"`},
		{name: "a long s folds to s", body: "{\"model\":\"m\",\"\u017ftream\":true}", err: `is "stream" in another case`},
		{name: "the Kelvin sign folds to k", body: "{\"model\":\"m\",\"stream_options\":null,\"\u212a\":1}", model: "m", streamOptions: "null"},
		{name: "nested members are not read", body: `{"messages":[{"model":"x","stream":true}],"metadata":{"model":"y"}}`},
		{name: "model of the wrong type", body: `{"model":42}`, err: `the request field "model" has the wrong type (number)`},
		{name: "model as an object", body: `{"model":{"name":"m"}}`, err: `"model" has the wrong type (object)`},
		{name: "stream as a string", body: `{"model":"m","stream":"yes"}`, err: `"stream" has the wrong type (string)`},
		{name: "the first wrong member is named", body: `{"stream":1,"model":[]}`, err: `"stream" has the wrong type (number)`},
		{name: "broken JSON", body: `{"model":"m",`, err: "the request body is not valid JSON: unexpected end of JSON input"},
		{name: "bad JSON deep inside", body: `{"model":"m","messages":[{"content":tru}]}`, err: "not valid JSON: invalid character"},
		{name: "two values", body: `{"model":"m"}{}`, err: "not valid JSON: invalid character '{' after top-level value"},
		{name: "empty", body: " \n", err: "the request body is empty"},
		{name: "an array", body: `[{"model":"m"}]`, err: "must be a JSON object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, aerr := parseFields([]byte(c.body))
			if c.err != "" {
				if aerr == nil || !strings.Contains(aerr.message, c.err) {
					t.Fatalf("refusal = %+v, want one containing %q", aerr, c.err)
				}
				if aerr.status != 400 {
					t.Errorf("status = %d, want 400", aerr.status)
				}
				return
			}
			if aerr != nil {
				t.Fatalf("refused: %s", aerr.message)
			}
			if f.Model != c.model || f.Stream != c.stream || string(f.StreamOptions) != c.streamOptions {
				t.Errorf("fields = %q, %v, %q; want %q, %v, %q", f.Model, f.Stream, f.StreamOptions, c.model, c.stream, c.streamOptions)
			}
		})
	}
}

// BenchmarkParseFields is the read of a typical chat request's model and
// stream flag, before anything is forwarded.
func BenchmarkParseFields(b *testing.B) {
	body := []byte(`{"model":"gpt-test","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello in one word."}],"max_tokens":64,"temperature":0.2,"stream":false}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, aerr := parseFields(body); aerr != nil {
			b.Fatal(aerr.message)
		}
	}
}

// wrapped is a response writer wrapper, as the body recorder is.
type wrapped struct{ http.ResponseWriter }

func (w wrapped) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// TestReadBodyTooLargeClosesThroughWrappers: a body past the limit read
// through a wrapped writer still makes the server close the connection
// after its answer, so that the rest of the body is never read.
func TestReadBodyTooLargeClosesThroughWrappers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		if _, aerr := readBody(wrapped{w}, r, &buf, 16, newBuffers(1<<20, 0)); aerr == nil {
			t.Error("a body past the limit was read")
		}
		w.WriteHeader(http.StatusRequestEntityTooLarge)
	}))
	defer srv.Close()
	// Chunked, so that the size is found while reading, not announced.
	resp, err := http.Post(srv.URL, "application/json", io.MultiReader(strings.NewReader(strings.Repeat("x", 64))))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !resp.Close {
		t.Fatal("the answer to a body past the limit leaves the connection open")
	}
}
