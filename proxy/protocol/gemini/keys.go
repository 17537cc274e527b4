package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// opaqueMembers hold the caller's own data (call arguments, function
// results, JSON Schemas, labels): their member names are never renamed.
var opaqueMembers = map[string]bool{
	"args":                 true,
	"response":             true,
	"parameters":           true,
	"parametersJsonSchema": true,
	"responseSchema":       true,
	"responseJsonSchema":   true,
	"labels":               true,
}

// maxDepth bounds the nesting normalizeKeys follows (encoding/json's own
// limit is larger; a request deeper than this is not a real request).
const maxDepth = 512

// normalizeKeys renames snake_case member names (system_instruction,
// inline_data, mime_type…) to the lowerCamelCase the API also accepts and
// the adapter reads, outside the opaque members. Google's REST examples
// use both spellings.
func normalizeKeys(body []byte) ([]byte, error) {
	if !bytes.Contains(body, []byte(`_`)) {
		return body, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	out := bytes.NewBuffer(make([]byte, 0, len(body)))
	if err := copyValue(dec, out, 0); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("unexpected data after the JSON object")
	}
	return out.Bytes(), nil
}

func copyValue(dec *json.Decoder, out *bytes.Buffer, depth int) error {
	if depth > maxDepth {
		return errors.New("JSON nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return copyObject(dec, out, depth)
		}
		if t != '[' {
			return errors.New("malformed JSON")
		}
		out.WriteByte('[')
		for i := 0; dec.More(); i++ {
			if i > 0 {
				out.WriteByte(',')
			}
			if err := copyValue(dec, out, depth+1); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return err
		}
		out.WriteByte(']')
	case string:
		writeJSON(out, t)
	case json.Number:
		out.WriteString(t.String())
	case bool:
		writeJSON(out, t)
	case nil:
		out.WriteString("null")
	}
	return nil
}

func copyObject(dec *json.Decoder, out *bytes.Buffer, depth int) error {
	out.WriteByte('{')
	for i := 0; dec.More(); i++ {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		key = camelCase(key)
		if i > 0 {
			out.WriteByte(',')
		}
		writeJSON(out, key)
		out.WriteByte(':')
		if opaqueMembers[key] {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return err
			}
			out.Write(raw)
			continue
		}
		if err := copyValue(dec, out, depth+1); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	out.WriteByte('}')
	return nil
}

func writeJSON(out *bytes.Buffer, v any) {
	b, _ := json.Marshal(v)
	out.Write(b)
}

// camelCase turns mime_type into mimeType; a name without "_" is returned
// as it is.
func camelCase(s string) string {
	if !strings.Contains(s, "_") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_' && b.Len() > 0:
			upper = true
		case upper && 'a' <= c && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
			upper = false
		default:
			b.WriteByte(c)
			upper = false
		}
	}
	return b.String()
}
