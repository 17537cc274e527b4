package usage

import (
	"bytes"
	"errors"
)

// maxCapture bounds the bytes of usage members a BodyScanner keeps; real
// usage objects are a few hundred bytes.
const maxCapture = 64 << 10

// errCaptureTooLarge is a usage member larger than maxCapture.
var errCaptureTooLarge = errors.New("usage: the usage members are larger than 64 KiB")

// BodyScanner reads the usage of a non-streamed response body written to it
// in pieces, as it is relayed, holding only the members usage is read from
// (usage, usageMetadata, meta) and at most 64 KiB of them: an answer of any
// size is metered in constant memory. Usage then answers as FromBody would
// for the whole body. It tracks JSON structure (strings, nesting) without
// validating, so a member named usage inside text or deeper in the body is
// never mistaken for the top-level one. Not safe for concurrent use.
type BodyScanner struct {
	p     protocol
	depth int
	// top is '{' or '[' for a body that begins so, 'x' for any other, and
	// first the body's first byte.
	top, first byte
	// member is the level whose object's members are read: the top-level
	// object, or each element of a top-level array (Gemini's streamed
	// answer without alt=sse).
	member    int
	inObject  bool // the container at the member level is an object
	expectKey bool // the next string at the member level is a member name
	inString  bool
	escaped   bool
	isKey     bool     // the string being read is a member name
	key       [32]byte // the member name being read (raw, escapes included)
	keyLen    int      // len(key) used; beyond 32 bytes the name is not wanted
	wanted    string   // the member whose value is next or being captured
	valueNext bool     // the wanted member's colon was seen
	capturing bool
	cur       []byte // the value being captured
	// kept is the members kept so far, `"name":value,` each; a top-level
	// array keeps only its last element's object-valued usageMetadata.
	kept     []byte
	tooLarge bool
	closed   bool // the top-level value ended
}

// NewBodyScanner returns a scanner for a protocol named as for FromBody
// (an unknown name reads as "openai").
func NewBodyScanner(protocol string) *BodyScanner {
	p, _ := parseProtocol(protocol)
	return &BodyScanner{p: p}
}

// wantedMember returns the name of a usage member of the protocol, or "".
func (s *BodyScanner) wantedMember(raw []byte) string {
	name := unescape(raw)
	switch {
	case s.p == pGemini && string(name) == "usageMetadata":
		return "usageMetadata"
	case s.p != pGemini && string(name) == "usage":
		return "usage"
	case s.p == pCohere && string(name) == "meta":
		return "meta"
	}
	return ""
}

// Write scans p; it never fails.
func (s *BodyScanner) Write(p []byte) (int, error) {
	for i := 0; i < len(p); i++ {
		c := p[i]
		if s.capturing {
			if !s.tooLarge && len(s.cur) < maxCapture {
				s.cur = append(s.cur, c)
			} else {
				s.tooLarge = true
			}
		}
		if s.inString {
			switch {
			case s.escaped:
				s.escaped = false
			case c == '\\':
				s.escaped = true
			case c == '"':
				s.inString = false
				if s.isKey {
					s.isKey = false
					s.wanted = ""
					if s.keyLen <= len(s.key) {
						s.wanted = s.wantedMember(s.key[:s.keyLen])
					}
				}
				continue
			}
			if s.isKey {
				if s.keyLen < len(s.key) {
					s.key[s.keyLen] = c
				}
				s.keyLen++
			}
			continue
		}
		if s.valueNext && !isSpace(c) {
			s.valueNext, s.capturing = false, true
			s.cur = append(s.cur[:0], c)
		}
		switch c {
		case '"':
			s.inString = true
			if s.top == 0 {
				s.top, s.first = 'x', c
			}
			if s.depth == s.member && s.inObject && s.expectKey {
				s.isKey, s.keyLen, s.expectKey = true, 0, false
			}
		case ':':
			if s.depth == s.member && s.wanted != "" && !s.capturing {
				s.valueNext = true
			}
		case ',':
			if s.depth == s.member {
				s.endMember(true)
				s.expectKey = s.inObject
			}
		case '{', '[':
			switch {
			case s.depth == 0 && s.top == 0:
				s.top, s.first = c, c
				s.member = 1
				if c == '[' {
					s.member = 2
				}
			case s.depth == 0:
				s.top = 'x' // a second top-level value
			}
			s.depth++
			if s.depth == s.member {
				s.inObject = c == '{'
				s.expectKey = s.inObject
			}
		case '}', ']':
			if s.depth == s.member {
				s.endMember(true)
			}
			s.depth--
			if s.depth == 0 {
				s.closed = true
			}
		default:
			if s.depth == 0 && s.top == 0 && !isSpace(c) {
				s.top, s.first = 'x', c
			}
		}
	}
	return len(p), nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// endMember ends the member at the member level: a captured value (whose
// last byte is the terminator just read) is kept.
func (s *BodyScanner) endMember(terminated bool) {
	s.valueNext = false
	if !s.capturing {
		s.wanted = ""
		return
	}
	s.capturing = false
	v := s.cur
	if terminated && len(v) > 0 {
		v = v[:len(v)-1]
	}
	v = bytes.TrimRight(v, " \t\r\n")
	switch {
	case s.tooLarge:
	case s.top == '[':
		if isObject(v) {
			s.kept = append(append(append(s.kept[:0], `"usageMetadata":`...), v...), ',')
		}
	case len(s.kept)+len(s.wanted)+len(v)+4 > maxCapture:
		s.tooLarge = true
	default:
		s.kept = append(append(append(append(append(s.kept, '"'), s.wanted...), `":`...), v...), ',')
	}
	s.wanted = ""
}

// Usage is FromBody's answer for everything written: the usage found, or
// ErrUnreadableUsage, or ErrInvalidJSON when no usage was found in a body
// that did not look like one complete JSON value, or an error when the
// usage members were too large to keep.
func (s *BodyScanner) Usage() (Usage, error) {
	if s.capturing { // a body cut inside a usage member
		s.endMember(false)
	}
	if s.tooLarge {
		return Usage{}, errCaptureTooLarge
	}
	synth := make([]byte, 0, len(s.kept)+4)
	if s.top == '[' {
		synth = append(synth, '[')
	}
	synth = append(append(synth, '{'), bytes.TrimSuffix(s.kept, []byte(","))...)
	synth = append(synth, '}')
	if s.top == '[' {
		synth = append(synth, ']')
	}
	var bad badCount
	u := fromBody(s.p, synth, &bad)
	if err := bad.err(); err != nil {
		return Usage{}, err
	}
	if u.Found {
		return u, nil
	}
	if s.top == '{' || s.top == '[' {
		if !s.closed || s.inString {
			return Usage{}, ErrInvalidJSON
		}
		return Usage{}, nil
	}
	if s.top == 0 || s.first == '<' || !bytes.ContainsRune([]byte(`"-0123456789tfn`), rune(s.first)) {
		return Usage{}, ErrInvalidJSON // empty, or not JSON (an HTML error page)
	}
	return Usage{}, nil // a JSON scalar, which holds no usage
}
