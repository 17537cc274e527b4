package openai

import (
	"bytes"
	"encoding/json"
	"strings"
)

// marshal is json.Marshal without escaping <, > and &, which JSON does
// not need and which would only make prompts longer on the wire.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

// isNull reports whether a raw member is absent or JSON null.
func isNull(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) == 0 || string(v) == "null"
}

// parseDataURL splits a base64 data URL ("data:image/png;base64,…") into
// its media type and data; ok is false for anything else.
func parseDataURL(u string) (mediaType, data string, ok bool) {
	rest, found := strings.CutPrefix(u, "data:")
	if !found {
		return "", "", false
	}
	meta, data, found := strings.Cut(rest, ",")
	if !found {
		return "", "", false
	}
	mediaType, found = strings.CutSuffix(meta, ";base64")
	if !found {
		return "", "", false
	}
	return mediaType, data, true
}

// dataURL is the base64 data URL of data.
func dataURL(mediaType, data string) string {
	return "data:" + mediaType + ";base64," + data
}
