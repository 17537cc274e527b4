package anthropic

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/sluicehq/sluice/proxy/usage"
)

// scanFlatEvent reads the events that make up most of a stream (text and
// other content deltas, block stops, message_stop, ping) without
// reflection: an object of type, index and a delta of string members
// only. It reports false for any other shape, which json.Unmarshal reads
// instead; data must be valid JSON.
// A delta is read into dl, which w.Delta then points to.
func scanFlatEvent(data []byte, w *wireEvent, dl *wireDelta) bool {
	ok := true
	isObject := usage.Members(data, func(key, val []byte) {
		switch {
		case !ok:
		case string(key) == "type":
			w.Type, ok = typeName(val)
		case string(key) == "index":
			n, err := strconv.ParseInt(string(val), 10, 64)
			w.Index, ok = n, err == nil
		case string(key) == "delta" && len(val) > 0 && val[0] == '{':
			w.Delta = dl
			ok = scanDelta(val, dl)
		default:
			ok = false
		}
	})
	return isObject && ok
}

// scanDelta reads a content block delta whose members are all strings.
func scanDelta(data []byte, d *wireDelta) bool {
	ok := true
	usage.Members(data, func(key, val []byte) {
		if !ok {
			return
		}
		if string(key) == "type" {
			d.Type, ok = typeName(val)
			return
		}
		var s string
		if s, ok = jsonString(val); !ok {
			return
		}
		switch string(key) {
		case "text":
			d.Text = s
		case "partial_json":
			d.PartialJSON = s
		case "thinking":
			d.Thinking = s
		case "signature":
			d.Signature = s
		default:
			// stop_reason and the members of other deltas are not all
			// strings: left to json.Unmarshal.
			ok = false
		}
	})
	return ok
}

// typeName decodes the raw string value of a type member; the types a
// stream repeats for every event are returned without allocating.
func typeName(raw []byte) (string, bool) {
	switch string(raw) {
	case `"content_block_delta"`:
		return "content_block_delta", true
	case `"text_delta"`:
		return "text_delta", true
	case `"input_json_delta"`:
		return "input_json_delta", true
	case `"thinking_delta"`:
		return "thinking_delta", true
	case `"content_block_stop"`:
		return "content_block_stop", true
	}
	return jsonString(raw)
}

// jsonString decodes a raw JSON string value; false for any other value.
func jsonString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') >= 0 || !utf8.Valid(inner) {
		// Escapes, and invalid UTF-8 that encoding/json repairs.
		var s string
		return s, json.Unmarshal(raw, &s) == nil
	}
	return string(inner), true
}
