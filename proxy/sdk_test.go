package proxy

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestOpenAISDK drives Sluice with the official OpenAI Go SDK, changing
// only its base URL and key. (The Anthropic and Gemini SDKs drive it in
// sdk_translate_test.go.)
func TestOpenAISDK(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.price("openai", "gpt-test", 2_500_000, 10_000_000, 1_250_000, modelprice.KindText)
		f.price("openai", "embed-test", 100_000, 0, 0, modelprice.KindEmbedding)
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			switch {
			case r.URL.Path == "/v1/embeddings":
				answerJSON(w, 200, openAIEmbedBody)
			case strings.Contains(string(body), `"stream":true`):
				sseEvents(w, openAIStream...)
			default:
				answerJSON(w, 200, openAIChatBody)
			}
		})
		_, key := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL + "/v1", secret: "sk-provider-SDK", models: []string{"gpt-test", "embed-test"}})
		client := openai.NewClient(option.WithBaseURL(f.srv.URL+"/v1/"), option.WithAPIKey(key), option.WithMaxRetries(0))
		ctx := t.Context()

		chat, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model:    "gpt-test",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi")},
		})
		if err != nil {
			t.Fatal(err)
		}
		if chat.Choices[0].Message.Content != "Hello!" || chat.Usage.PromptTokens != 1000 || chat.Usage.CompletionTokens != 500 {
			t.Errorf("chat answer %+v", chat)
		}
		if got := up.last(t).Header.Get("Authorization"); got != "Bearer sk-provider-SDK" {
			t.Errorf("upstream auth %q", got)
		}

		stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
			Model:    "gpt-test",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi")},
		})
		var acc openai.ChatCompletionAccumulator
		for stream.Next() {
			acc.AddChunk(stream.Current())
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		if acc.Choices[0].Message.Content != "Hello" {
			t.Errorf("streamed content %q", acc.Choices[0].Message.Content)
		}
		if acc.Usage.PromptTokens != 0 {
			t.Error("the SDK saw the usage chunk it did not ask for")
		}
		// The SDK has the whole stream before the handler has recorded it.
		rec := f.lastRecord()
		for deadline := time.Now().Add(2 * time.Second); !rec.Streamed && time.Now().Before(deadline); rec = f.lastRecord() {
			time.Sleep(10 * time.Millisecond)
		}
		if !rec.Streamed || rec.InputTokens != 1000 || rec.OutputTokens != 500 || rec.Cost != 7250 {
			t.Errorf("stream record %+v", rec)
		}

		emb, err := client.Embeddings.New(ctx, openai.EmbeddingNewParams{
			Model:          "embed-test",
			Input:          openai.EmbeddingNewParamsInputUnion{OfString: openai.String("hello")},
			EncodingFormat: openai.EmbeddingNewParamsEncodingFormatFloat,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(emb.Data) != 1 || len(emb.Data[0].Embedding) != 3 || emb.Usage.PromptTokens != 50 {
			t.Errorf("embedding answer %+v", emb)
		}

		// A refusal surfaces as the SDK's typed error with Sluice's message.
		_, err = client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model:    "gpt-9",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi")},
		})
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 403 || !strings.Contains(apiErr.Message, "not enabled") {
			t.Errorf("refusal through the SDK: %v", err)
		}
	})
}

// TestOpenAISDKBaseURLWithoutV1: the official SDK pointed at the gateway's
// root (no /v1), as a new user does, raises an error whose message says
// what the base URL should be, not an empty one.
func TestOpenAISDKBaseURLWithoutV1(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { answerJSON(w, 200, openAIChatBody) })
		_, key := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL + "/v1", secret: "sk-provider-SDKROOT", models: []string{"gpt-test"}})
		client := openai.NewClient(option.WithBaseURL(f.srv.URL), option.WithAPIKey(key), option.WithMaxRetries(0))
		_, err := client.Chat.Completions.New(t.Context(), openai.ChatCompletionNewParams{
			Model:    "gpt-test",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi")},
		})
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound {
			t.Fatalf("want a 404 API error, got %v", err)
		}
		if want := "set your base URL to " + f.srv.URL + "/v1"; !strings.Contains(apiErr.Message, want) {
			t.Errorf("the SDK's error message %q does not say %q", apiErr.Message, want)
		}
		if up.count() != 0 {
			t.Error("the misdirected request reached the upstream")
		}
	})
}
