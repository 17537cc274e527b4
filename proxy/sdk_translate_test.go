package proxy

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"google.golang.org/genai"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/sse"
)

// recorded is a provider that answers with the recorded answers of its
// wire format (the adapters' testdata): answer_<feature>.json, or
// stream_<feature>.sse when the request streams. Paths in special get
// the body given there instead.
type recorded struct {
	*fakeUpstream
	proto   providers.Protocol
	mu      sync.Mutex
	feature string
	special map[string]string // path suffix → JSON answer
}

func newRecorded(t *testing.T, proto providers.Protocol) *recorded {
	u := &recorded{proto: proto, feature: "text", special: map[string]string{}}
	u.fakeUpstream = newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		u.mu.Lock()
		feature := u.feature
		special := u.special
		u.mu.Unlock()
		for suffix, answer := range special {
			if strings.HasSuffix(r.URL.Path, suffix) {
				answerJSON(w, 200, answer)
				return
			}
		}
		if strings.Contains(r.URL.Path, "streamGenerateContent") || bytes.Contains(body, []byte(`"stream":true`)) {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = w.Write(recordedFile(t, proto, "stream_"+feature+".sse"))
			return
		}
		answerJSON(w, 200, string(recordedFile(t, proto, "answer_"+feature+".json")))
	})
	return u
}

func (u *recorded) answer(feature string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.feature = feature
}

func recordedFile(t *testing.T, proto providers.Protocol, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("protocol", string(proto), "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// expected is what a recorded answer says, read with the provider's
// adapter: its text, its thinking and its tool calls ("id name").
type expected struct {
	text, thinking string
	calls          []string
	input, output  int64
}

func expect(t *testing.T, proto providers.Protocol, feature string, streamed bool) expected {
	t.Helper()
	prov, _ := providerAdapter(proto, protocol.OpGenerate)
	req := &protocol.Request{Stream: streamed}
	var e expected
	if !streamed {
		resp, err := prov.DecodeResponse(req, recordedFile(t, proto, "answer_"+feature+".json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range resp.Parts {
			switch p.Type {
			case protocol.PartText:
				e.text += p.Text
			case protocol.PartThinking:
				e.thinking += p.Text
			case protocol.PartToolCall:
				e.calls = append(e.calls, p.ID+" "+p.Name)
			}
		}
		e.input, e.output = resp.Usage.InputTokens, resp.Usage.OutputTokens
		return e
	}
	dec := prov.NewStreamDecoder(req)
	rd := sse.NewReader(bytes.NewReader(recordedFile(t, proto, "stream_"+feature+".sse")))
	types := map[int]protocol.PartType{}
	for {
		ev, err := rd.Next()
		if err == io.EOF {
			return e
		}
		if err != nil {
			t.Fatal(err)
		}
		events, err := dec.Decode(nil, ev)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range events {
			switch x.Type {
			case protocol.EventPartStart:
				types[x.Index] = x.Part.Type
				if x.Part.Type == protocol.PartToolCall {
					e.calls = append(e.calls, x.Part.ID+" "+x.Part.Name)
				}
			case protocol.EventDelta:
				switch types[x.Index] {
				case protocol.PartText:
					e.text += x.Part.Text
				case protocol.PartThinking:
					e.thinking += x.Part.Text
				}
			}
			if x.Usage != nil {
				e.input, e.output = x.Usage.InputTokens, x.Usage.OutputTokens
			}
		}
	}
}

func weatherSchema() map[string]any {
	return map[string]any{"type": "object", "properties": map[string]any{"location": map[string]any{"type": "string"}}, "required": []string{"location"}}
}

// TestOpenAISDKTranslated drives the official OpenAI SDK, changed only in
// its base URL and key, against an Anthropic and a Gemini provider: chat,
// streamed chat, tools, the Responses API, and embeddings to Gemini and
// Cohere.
func TestOpenAISDKTranslated(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		for _, proto := range []providers.Protocol{providers.ProtocolAnthropic, providers.ProtocolGemini} {
			t.Run(string(proto), func(t *testing.T) {
				up := newRecorded(t, proto)
				name := wirePairs[proto].provider
				f.price(name, "chat-test", 3_000_000, 15_000_000, 300_000, modelprice.KindText)
				_, key := f.addService(serviceSpec{name: "oa-" + string(proto), provider: name, baseURL: up.srv.URL + "/v1", secret: "sk-provider-" + string(proto), models: []string{"chat-test"}})
				client := openai.NewClient(option.WithBaseURL(f.srv.URL+"/v1/"), option.WithAPIKey(key), option.WithMaxRetries(0))
				ctx := t.Context()
				params := openai.ChatCompletionNewParams{Model: "chat-test", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi")}}

				var httpResp *http.Response
				chat, err := client.Chat.Completions.New(ctx, params, option.WithResponseInto(&httpResp))
				if err != nil {
					t.Fatal(err)
				}
				want := expect(t, proto, "text", false)
				if chat.Choices[0].Message.Content != want.text || chat.Usage.PromptTokens != want.input || chat.Usage.CompletionTokens != want.output {
					t.Errorf("chat: %q %d/%d, want %q %d/%d", chat.Choices[0].Message.Content, chat.Usage.PromptTokens, chat.Usage.CompletionTokens, want.text, want.input, want.output)
				}
				if got := httpResp.Header.Get("X-Sluice-Translated"); got != "openai->"+string(proto) {
					t.Errorf("X-Sluice-Translated %q", got)
				}

				stream := client.Chat.Completions.NewStreaming(ctx, params)
				var acc openai.ChatCompletionAccumulator
				for stream.Next() {
					acc.AddChunk(stream.Current())
				}
				if err := stream.Err(); err != nil {
					t.Fatal(err)
				}
				if want := expect(t, proto, "text", true); acc.Choices[0].Message.Content != want.text {
					t.Errorf("stream: %q, want %q", acc.Choices[0].Message.Content, want.text)
				}

				up.answer("tools")
				tools := params
				tools.Tools = []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{Name: "get_weather", Parameters: weatherSchema()})}
				chat, err = client.Chat.Completions.New(ctx, tools)
				if err != nil {
					t.Fatal(err)
				}
				var calls []string
				for _, tc := range chat.Choices[0].Message.ToolCalls {
					calls = append(calls, tc.ID+" "+tc.Function.Name)
				}
				if want := expect(t, proto, "tools", false); strings.Join(calls, ",") != strings.Join(want.calls, ",") || chat.Choices[0].FinishReason != "tool_calls" {
					t.Errorf("tool calls %v (%s), want %v", calls, chat.Choices[0].FinishReason, want.calls)
				}

				up.answer("text")
				r, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: "chat-test", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Hi")}})
				if err != nil {
					t.Fatal(err)
				}
				if want := expect(t, proto, "text", false); r.OutputText() != want.text || r.Usage.InputTokens != want.input {
					t.Errorf("responses: %q %d, want %q %d", r.OutputText(), r.Usage.InputTokens, want.text, want.input)
				}
			})
		}

		for _, tc := range []struct {
			proto  providers.Protocol
			answer string
		}{
			{providers.ProtocolGemini, `{"embeddings":[{"values":[0.1,0.2]},{"values":[0.3,0.4]}]}`},
			{providers.ProtocolCohere, `{"id":"e1","embeddings":{"float":[[0.1,0.2],[0.3,0.4]]},"texts":["a","b"],"meta":{"billed_units":{"input_tokens":4}}}`},
		} {
			t.Run("embeddings to "+string(tc.proto), func(t *testing.T) {
				up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { answerJSON(w, 200, tc.answer) })
				name := wirePairs[tc.proto].provider
				f.price(name, "embed-test", 100_000, 0, 0, modelprice.KindEmbedding)
				base := up.srv.URL
				if tc.proto == providers.ProtocolGemini {
					base += "/v1beta"
				}
				_, key := f.addService(serviceSpec{name: "emb-" + string(tc.proto), provider: name, baseURL: base, secret: "sk-provider-e", models: []string{"embed-test"}})
				client := openai.NewClient(option.WithBaseURL(f.srv.URL+"/v1/"), option.WithAPIKey(key), option.WithMaxRetries(0))
				emb, err := client.Embeddings.New(t.Context(), openai.EmbeddingNewParams{Model: "embed-test", Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a", "b"}}})
				if err != nil {
					t.Fatal(err)
				}
				if len(emb.Data) != 2 || emb.Data[1].Embedding[1] != 0.4 || emb.Data[1].Index != 1 {
					t.Errorf("embeddings %+v", emb.Data)
				}
				if p := up.last(t).Path; !strings.HasSuffix(p, ":batchEmbedContents") && p != "/v2/embed" {
					t.Errorf("upstream path %s", p)
				}
				rec := f.lastRecord()
				if rec.InputTokens == 0 || rec.Cost == 0 {
					t.Errorf("embeddings charged %d tokens, %d µUSD", rec.InputTokens, rec.Cost)
				}
			})
		}
	})
}

// TestAnthropicSDKTranslated drives the official Anthropic SDK against an
// OpenAI-compatible and a Gemini provider: messages, streams, tools,
// thinking, and count_tokens (estimated where the provider has none).
func TestAnthropicSDKTranslated(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		for _, proto := range []providers.Protocol{providers.ProtocolOpenAI, providers.ProtocolGemini} {
			t.Run(string(proto), func(t *testing.T) {
				up := newRecorded(t, proto)
				name := wirePairs[proto].provider
				f.price(name, "chat-test", 3_000_000, 15_000_000, 300_000, modelprice.KindText)
				_, key := f.addService(serviceSpec{name: "an-" + string(proto), provider: name, baseURL: up.srv.URL + "/v1", secret: "sk-provider-" + string(proto), models: []string{"chat-test"}})
				client := anthropic.NewClient(aoption.WithBaseURL(f.srv.URL), aoption.WithAPIKey(key), aoption.WithMaxRetries(0))
				ctx := t.Context()
				params := anthropic.MessageNewParams{Model: "chat-test", MaxTokens: 4000,
					Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hi"))}}

				msg, err := client.Messages.New(ctx, params)
				if err != nil {
					t.Fatal(err)
				}
				want := expect(t, proto, "text", false)
				if text := messageText(msg); text != want.text || msg.Usage.OutputTokens != want.output {
					t.Errorf("message %q %d, want %q %d", text, msg.Usage.OutputTokens, want.text, want.output)
				}

				stream := client.Messages.NewStreaming(ctx, params)
				var acc anthropic.Message
				for stream.Next() {
					if err := acc.Accumulate(stream.Current()); err != nil {
						t.Fatal(err)
					}
				}
				if err := stream.Err(); err != nil {
					t.Fatal(err)
				}
				if want := expect(t, proto, "text", true); messageText(&acc) != want.text {
					t.Errorf("stream %q, want %q", messageText(&acc), want.text)
				}

				up.answer("tools")
				tools := params
				tools.Tools = []anthropic.ToolUnionParam{anthropic.ToolUnionParamOfTool(anthropic.ToolInputSchemaParam{Properties: weatherSchema()["properties"], Required: []string{"location"}}, "get_weather")}
				msg, err = client.Messages.New(ctx, tools)
				if err != nil {
					t.Fatal(err)
				}
				var calls []string
				for _, b := range msg.Content {
					if b.Type == "tool_use" {
						calls = append(calls, b.ID+" "+b.Name)
					}
				}
				if want := expect(t, proto, "tools", false); strings.Join(calls, ",") != strings.Join(want.calls, ",") || msg.StopReason != "tool_use" {
					t.Errorf("tool uses %v (%s), want %v", calls, msg.StopReason, want.calls)
				}

				up.answer("reasoning")
				thinking := params
				thinking.Thinking = anthropic.ThinkingConfigParamOfEnabled(2048)
				msg, err = client.Messages.New(ctx, thinking)
				if err != nil {
					t.Fatal(err)
				}
				want = expect(t, proto, "reasoning", false)
				var thought string
				for _, b := range msg.Content {
					if b.Type == "thinking" {
						thought += b.Thinking
					}
				}
				if want.thinking == "" || thought != want.thinking {
					t.Errorf("thinking %q, want %q", thought, want.thinking)
				}
				if sent := string(up.last(t).Body); !strings.Contains(sent, "reasoning_effort") && !strings.Contains(sent, "thinkingConfig") {
					t.Errorf("the provider was not asked to think: %s", sent)
				}

				up.special[":countTokens"] = `{"totalTokens":42}`
				var httpResp *http.Response
				count, err := client.Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{Model: "chat-test",
					Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(strings.Repeat("Hi there. ", 40)))}}, aoption.WithResponseInto(&httpResp))
				if err != nil {
					t.Fatal(err)
				}
				switch proto {
				case providers.ProtocolGemini:
					if count.InputTokens != 42 || httpResp.Header.Get("X-Sluice-Token-Count") != "" {
						t.Errorf("count_tokens %d (%q), want the provider's 42", count.InputTokens, httpResp.Header.Get("X-Sluice-Token-Count"))
					}
				default:
					if count.InputTokens < 50 || httpResp.Header.Get("X-Sluice-Token-Count") != "estimate" {
						t.Errorf("count_tokens %d (%q), want the gateway's estimate", count.InputTokens, httpResp.Header.Get("X-Sluice-Token-Count"))
					}
				}
				if rec := f.lastRecord(); rec.Cost != 0 || rec.Status != 200 {
					t.Errorf("count_tokens recorded status %d cost %d, want 200 and free", rec.Status, rec.Cost)
				}
			})
		}
	})
}

func messageText(m *anthropic.Message) string {
	var b strings.Builder
	for _, c := range m.Content {
		if c.Type == "text" {
			b.WriteString(c.Text)
		}
	}
	return b.String()
}

// TestGenaiSDKTranslated drives Google's genai SDK, with its default API
// version, against an OpenAI-compatible provider.
func TestGenaiSDKTranslated(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		up := newRecorded(t, providers.ProtocolOpenAI)
		f.price("openai", "chat-test", 3_000_000, 15_000_000, 300_000, modelprice.KindText)
		_, key := f.addService(serviceSpec{name: "ge", provider: "openai", baseURL: up.srv.URL + "/v1", secret: "sk-provider-g", models: []string{"chat-test"}})
		ctx := context.Background()
		client, err := genai.NewClient(ctx, &genai.ClientConfig{APIKey: key, Backend: genai.BackendGeminiAPI, HTTPOptions: genai.HTTPOptions{BaseURL: f.srv.URL}})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Models.GenerateContent(ctx, "chat-test", genai.Text("Hi"), nil)
		if err != nil {
			t.Fatal(err)
		}
		want := expect(t, providers.ProtocolOpenAI, "text", false)
		if resp.Text() != want.text || int64(resp.UsageMetadata.PromptTokenCount) != want.input {
			t.Errorf("generateContent %q %d, want %q %d", resp.Text(), resp.UsageMetadata.PromptTokenCount, want.text, want.input)
		}
		var text string
		for chunk, err := range client.Models.GenerateContentStream(ctx, "chat-test", genai.Text("Hi"), nil) {
			if err != nil {
				t.Fatal(err)
			}
			text += chunk.Text()
		}
		if want := expect(t, providers.ProtocolOpenAI, "text", true); text != want.text {
			t.Errorf("streamGenerateContent %q, want %q", text, want.text)
		}
		if p := up.last(t).Path; p != "/v1/chat/completions" {
			t.Errorf("upstream path %s", p)
		}
	})
}
