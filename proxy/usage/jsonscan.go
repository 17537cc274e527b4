package usage

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
)

// This file is a small, allocation-free JSON walker: usage lives in a handful
// of members of large bodies, and decoding whole provider bodies with
// reflection on every request costs more than finding those members. It
// does not validate its input (FromBody checks with json.Valid only when it
// found no usage); on malformed input it stops and reports nothing rather
// than guessing.

// skipSpace returns the index of the first non-whitespace byte at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// stringEnd returns the index just past the string starting at b[i] == '"',
// or -1 when it is not terminated.
func stringEnd(b []byte, i int) int {
	i++
	// Most strings are short keys and values, for which a plain loop beats
	// the call into IndexByte; long text falls through to it.
	for n := min(len(b), i+16); i < n; i++ {
		switch b[i] {
		case '"':
			return i + 1
		case '\\':
			i++
		}
	}
	if i >= len(b) {
		return -1
	}
	for {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return -1
		}
		q += i
		bs := 0
		for k := q - 1; k >= i && b[k] == '\\'; k-- {
			bs++
		}
		if bs%2 == 0 {
			return q + 1
		}
		i = q + 1
	}
}

// stringChars is stringEnd that also counts the characters the string decodes
// to: one per escape (a \u surrogate pair counts once) and one per UTF-8
// sequence.
func stringChars(b []byte, i int) (end int, chars int64) {
	i++
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return i + 1, chars
		case c == '\\':
			switch {
			case i+6 <= len(b) && b[i+1] == 'u' && isHex4(b[i+2:i+6]):
				// A high surrogate (\uD800-\uDBFF) followed by a low one
				// (\uDC00-\uDFFF) is a single character.
				if i+12 <= len(b) && b[i+2]|0x20 == 'd' && hexIn(b[i+3], 0x8, 0xb) &&
					b[i+6] == '\\' && b[i+7] == 'u' && isHex4(b[i+8:i+12]) &&
					b[i+8]|0x20 == 'd' && hexIn(b[i+9], 0xc, 0xf) {
					i += 12
				} else {
					i += 6
				}
			default:
				i += 2
			}
			chars++
		case c < 0x80 || c >= 0xC0: // ASCII or the first byte of a UTF-8 sequence
			chars++
			i++
		default:
			i++
		}
	}
	return -1, 0
}

// hexIn reports whether the hex digit c is in [lo, hi].
func hexIn(c byte, lo, hi byte) bool {
	var v byte
	switch {
	case '0' <= c && c <= '9':
		v = c - '0'
	case 'a' <= c|0x20 && c|0x20 <= 'f':
		v = c | 0x20 - 'a' + 10
	default:
		return false
	}
	return lo <= v && v <= hi
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !hexIn(c, 0, 0xf) {
			return false
		}
	}
	return true
}

// valueEnd returns the index just past the value starting at b[i], or -1.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			if !structural[b[i]] {
				i++
				continue
			}
			switch b[i] {
			case '"':
				e := stringEnd(b, i)
				if e < 0 {
					return -1
				}
				i = e
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	start := i
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r', ':', '"', '{', '[':
			if i == start {
				return -1
			}
			return i
		}
		i++
	}
	return i
}

// structural marks the bytes valueEnd must look at inside a container.
var structural = [256]bool{'"': true, '{': true, '[': true, '}': true, ']': true}

// hasObjectMember reports whether d has, at any depth, a member named key
// whose value is an object. A quoted name can only match where it really is
// a key or a whole string, since quotes inside strings are escaped, so this
// substring scan is a safe and cheap test before walking d: it rules out
// OpenAI's "usage":null chunks without parsing them.
func hasObjectMember(d []byte, quotedKey string) bool {
	for i := 0; ; {
		j := bytes.Index(d[i:], []byte(quotedKey))
		if j < 0 {
			return false
		}
		i += j + len(quotedKey)
		if k := skipSpace(d, i); k < len(d) && d[k] == ':' {
			if k = skipSpace(d, k+1); k < len(d) && d[k] == '{' {
				return true
			}
		}
	}
}

// members iterates over the members of one JSON object.
type members struct {
	b []byte
	i int
}

// object starts iterating v, which must be an object; ok is false otherwise.
func object(v []byte) (it members, ok bool) {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '{' {
		return members{}, false
	}
	return members{b: v, i: i + 1}, true
}

// next returns the next member's raw key (without quotes) and raw value.
func (it *members) next() (key, val []byte, ok bool) {
	b := it.b
	i := skipSpace(b, it.i)
	if i < len(b) && b[i] == ',' {
		i = skipSpace(b, i+1)
	}
	if i >= len(b) || b[i] != '"' {
		return nil, nil, false
	}
	ke := stringEnd(b, i)
	if ke < 0 {
		return nil, nil, false
	}
	key = b[i+1 : ke-1]
	i = skipSpace(b, ke)
	if i >= len(b) || b[i] != ':' {
		return nil, nil, false
	}
	i = skipSpace(b, i+1)
	ve := valueEnd(b, i)
	if ve < 0 {
		return nil, nil, false
	}
	it.i = ve
	return key, b[i:ve], true
}

// unescape returns a raw key or string as encoding/json would decode it, so
// that "usag\u0065" still means "usage". Keys without escapes, which is all of
// them in practice, are returned as they are, without allocating.
func unescape(raw []byte) []byte {
	escaped := false
	for _, c := range raw {
		escaped = escaped || c == '\\'
	}
	if !escaped {
		return raw
	}
	var s string
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	if json.Unmarshal(q, &s) != nil {
		return nil
	}
	return []byte(s)
}

// eachMember calls fn with the decoded key and raw value of each member of
// object v, in order, and reports whether v was an object.
func eachMember(v []byte, fn func(key, val []byte)) bool {
	it, ok := object(v)
	if !ok {
		return false
	}
	for {
		k, val, ok := it.next()
		if !ok {
			return true
		}
		fn(unescape(k), val)
	}
}

// Members calls fn with the decoded key and raw value of each member of the
// JSON object v, in order, and reports whether v is an object. Like the rest
// of this walker it does not validate: the proxy checks a request body with
// json.Valid first and reads its few fields through this.
func Members(v []byte, fn func(key, val []byte)) bool { return eachMember(v, fn) }

// field returns the raw value of the member key of object v, or nil. Like
// encoding/json, the last of duplicate members wins.
func field(v []byte, key string) []byte {
	var found []byte
	eachMember(v, func(k, val []byte) {
		if string(k) == key {
			found = val
		}
	})
	return found
}

// isObject reports whether v is a JSON object (not null, not absent).
func isObject(v []byte) bool {
	return len(v) > 0 && v[0] == '{'
}

// count reads a token count. Counts are whole numbers; a fractional one is
// rounded up, a negative one or a non-number is treated as absent.
func count(v []byte) (int64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	if len(v) <= 15 {
		var n int64
		for _, c := range v {
			if c < '0' || c > '9' {
				goto general
			}
			n = n*10 + int64(c-'0')
		}
		return n, true
	}
general:
	if c := v[0]; c != '-' && (c < '0' || c > '9') {
		return 0, false
	}
	for _, c := range v {
		if !('0' <= c && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil && !isRange(err) {
		return 0, false
	}
	return floatCount(f)
}

func isRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// floatCount turns a decoded JSON number into a count by the rules of count.
func floatCount(f float64) (int64, bool) {
	switch {
	case f != f || f < 0:
		return 0, false
	case f >= math.MaxInt64:
		return math.MaxInt64, true
	}
	return int64(math.Ceil(f)), true
}
