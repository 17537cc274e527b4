package usage

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/tokens"
)

// scan writes body to a BodyScanner in pieces of size n.
func scan(protocol string, body []byte, n int) (Usage, error) {
	s := NewBodyScanner(protocol)
	for len(body) > 0 {
		k := min(n, len(body))
		_, _ = s.Write(body[:k])
		body = body[k:]
	}
	return s.Usage()
}

// TestBodyScanner: the scanner reads what FromBody reads from the whole
// body, however the body is split, holding only the usage members.
func TestBodyScanner(t *testing.T) {
	cases := []struct {
		name, protocol, body string
		want                 Usage
		err                  error
	}{
		{"openai chat", OpenAI, openAIChatBody, Usage{Tokens: tokens.Tokens{InputTokens: 2006, OutputTokens: 300, CachedInputTokens: 1920}, Found: true}, nil},
		{"openai responses", OpenAI, openAIResponsesBody, Usage{Tokens: tokens.Tokens{InputTokens: 36, OutputTokens: 87, CachedInputTokens: 12}, Found: true}, nil},
		{"openai embeddings", OpenAI, openAIEmbeddingsBody, Usage{Tokens: tokens.Tokens{InputTokens: 5}, Found: true}, nil},
		{"anthropic", Anthropic, anthropicBody, Usage{Tokens: tokens.Tokens{InputTokens: 21 + 188086 + 1500, OutputTokens: 393, CachedInputTokens: 1500, CacheWriteTokens: 188086}, Found: true}, nil},
		{"gemini", Gemini, geminiBody1, Usage{Tokens: tokens.Tokens{InputTokens: 1024, OutputTokens: 212, CachedInputTokens: 800}, Found: true}, nil},
		{"gemini array", Gemini, `[{"usageMetadata":{"promptTokenCount":4}},{"usageMetadata":null},{"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":9}}]`, Usage{Tokens: tokens.Tokens{InputTokens: 4, OutputTokens: 9}, Found: true}, nil},
		{"cohere", Cohere, cohereBody, Usage{Tokens: tokens.Tokens{InputTokens: 71, OutputTokens: 418}, Found: true}, nil},
		{"cohere meta", Cohere, `{"meta":{"billed_units":{"input_tokens":3}},"id":"e"}`, Usage{Tokens: tokens.Tokens{InputTokens: 3}, Found: true}, nil},
		{"usage first", OpenAI, `{"usage":{"prompt_tokens":1,"completion_tokens":2},"choices":[{"text":"x"}]}`, Usage{Tokens: tokens.Tokens{InputTokens: 1, OutputTokens: 2}, Found: true}, nil},
		{"usage in text is not usage", OpenAI, `{"choices":[{"text":"\"usage\":{\"prompt_tokens\":99}"}],"usage":{"prompt_tokens":1}}`, Usage{Tokens: tokens.Tokens{InputTokens: 1}, Found: true}, nil},
		{"nested usage is not top-level", OpenAI, `{"choices":[{"usage":{"prompt_tokens":99}}]}`, Usage{}, nil},
		{"escaped name", OpenAI, `{"usag\u0065":{"prompt_tokens":1}}`, Usage{Tokens: tokens.Tokens{InputTokens: 1}, Found: true}, nil},
		{"duplicate, last wins", OpenAI, `{"usage":{"prompt_tokens":1},"usage":{"prompt_tokens":3}}`, Usage{Tokens: tokens.Tokens{InputTokens: 3}, Found: true}, nil},
		{"spaces around", OpenAI, "{ \"usage\" : { \"prompt_tokens\" : 7 } \n}", Usage{Tokens: tokens.Tokens{InputTokens: 7}, Found: true}, nil},
		{"unreadable", OpenAI, `{"usage":{"prompt_tokens":"abc"}}`, Usage{}, ErrUnreadableUsage},
		{"no usage", OpenAI, `{"id":"x"}`, Usage{}, nil},
		{"html", OpenAI, `<html>502</html>`, Usage{}, ErrInvalidJSON},
		{"cut short", OpenAI, `{"choices":[{"text":"abc`, Usage{}, ErrInvalidJSON},
		{"empty", OpenAI, ``, Usage{}, ErrInvalidJSON},
		{"scalar", OpenAI, `"just a string"`, Usage{}, nil},
		{"huge usage member", OpenAI, `{"usage":{"x":"` + strings.Repeat("a", maxCapture) + `"}}`, Usage{}, errCaptureTooLarge},
	}
	for _, tc := range cases {
		for _, n := range []int{1, 3, 64, 1 << 20} {
			got, err := scan(tc.protocol, []byte(tc.body), n)
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) || got != tc.want {
				t.Errorf("%s in pieces of %d: got %+v, %v; want %+v, %v", tc.name, n, got, err, tc.want, tc.err)
			}
		}
		if tc.err == nil || errors.Is(tc.err, ErrUnreadableUsage) || errors.Is(tc.err, ErrInvalidJSON) {
			if want, err := FromBody(tc.protocol, []byte(tc.body)); want != tc.want || !errors.Is(err, tc.err) {
				t.Errorf("%s: FromBody disagrees: %+v, %v", tc.name, want, err)
			}
		}
	}
}

// FuzzBodyScanner: on valid JSON the scanner agrees with FromBody.
func FuzzBodyScanner(f *testing.F) {
	for _, b := range []string{openAIChatBody, openAIResponsesBody, anthropicBody, geminiBody1, cohereBody,
		`[{"usageMetadata":{"promptTokenCount":1}},{"usageMetadata":{"candidatesTokenCount":2}}]`,
		`{"u\u0073age":{"input_tokens":1,"input_tokens":2}}`, `{"usage":{"prompt_tokens":"x"}}`} {
		for p := range protocols {
			f.Add(uint8(p), []byte(b), uint8(7))
		}
	}
	f.Fuzz(func(t *testing.T, p uint8, body []byte, piece uint8) {
		if !json.Valid(body) {
			return
		}
		protocol := protocols[int(p)%len(protocols)]
		want, werr := FromBody(protocol, body)
		got, err := scan(protocol, body, int(piece)+1)
		if errors.Is(err, errCaptureTooLarge) {
			return
		}
		if got != want || (err == nil) != (werr == nil) {
			t.Fatalf("%s: scanner %+v, %v; FromBody %+v, %v", protocol, got, err, want, werr)
		}
	})
}
