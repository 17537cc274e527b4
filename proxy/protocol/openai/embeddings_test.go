package openai

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/usage"
	"github.com/sluicehq/sluice/tokens"
)

func TestEmbeddingsDecodeRequest(t *testing.T) {
	got, err := Embeddings.DecodeRequest(protocol.OpEmbed, fixture(t, "request_embeddings.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := protocol.Request{Op: protocol.OpEmbed, Model: "text-embedding-3-small", Inputs: []string{"The food was delicious and the waiter...", "The service was slow."},
		Dimensions: 256, EmbedFloatBase64: true, User: "user-1234"}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("got %+v", *got)
	}
	// Chat given OpEmbed reads the same.
	if viaChat, err := Chat.DecodeRequest(protocol.OpEmbed, fixture(t, "request_embeddings.json")); err != nil || !reflect.DeepEqual(viaChat, got) {
		t.Errorf("via Chat: %+v, %v", viaChat, err)
	}

	one, err := Embeddings.DecodeRequest(protocol.OpEmbed, []byte(`{"model":"m","input":"hello","encoding_format":"float","extra":1}`))
	if err != nil || !reflect.DeepEqual(one.Inputs, []string{"hello"}) || one.EmbedFloatBase64 || !reflect.DeepEqual(one.Unknown, []string{"extra"}) {
		t.Errorf("string input: %+v, %v", one, err)
	}

	for _, body := range []string{
		`{"model":"m","input":[1212,318,257]}`,
		`{"model":"m","input":[[1212,318],[257]]}`,
		`{"model":"m","input":[]}`,
		`{"model":"m"}`,
		`{"model":"m","input":"x","encoding_format":"int8"}`,
	} {
		_, err := Embeddings.DecodeRequest(protocol.OpEmbed, []byte(body))
		var bad *protocol.BadRequest
		if !errors.As(err, &bad) || bad.Param == "" {
			t.Errorf("%s: err = %v, want *BadRequest naming a parameter", body, err)
		}
	}
}

func TestEmbeddingsEncodeRequest(t *testing.T) {
	req := protocol.Request{Op: protocol.OpEmbed, Model: "m", Inputs: []string{"a", "b"}, Dimensions: 64, User: "u", InputType: "search_query", EmbedFloatBase64: true}
	call, err := Embeddings.EncodeRequest(&req)
	if err != nil {
		t.Fatal(err)
	}
	if call.Path != "/embeddings" || !sameJSON(t, call.Body, []byte(`{"model":"m","input":["a","b"],"dimensions":64,"user":"u"}`)) {
		t.Errorf("%s %s", call.Path, call.Body)
	}
	if !reflect.DeepEqual(req.Omitted(), []string{"input_type"}) {
		t.Errorf("Omitted = %v", req.Omitted())
	}
	if viaChat, err := Chat.EncodeRequest(&req); err != nil || viaChat.Path != "/embeddings" {
		t.Errorf("via Chat: %+v, %v", viaChat, err)
	}
}

func TestEmbeddingsResponse(t *testing.T) {
	req := &protocol.Request{Op: protocol.OpEmbed, Model: "text-embedding-3-small"}
	got, err := Embeddings.DecodeResponse(req, fixture(t, "answer_embeddings.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := protocol.Response{Model: "text-embedding-3-small", Embeddings: [][]float64{{0.0023064255, -0.009327292, -0.0028842222}, {0.015, 0.25, -0.5}},
		Usage: usage.Usage{Tokens: tokens.Tokens{InputTokens: 8}, Found: true}}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("got %+v", *got)
	}

	for _, base64 := range []bool{false, true} {
		req.EmbedFloatBase64 = base64
		b, err := Embeddings.EncodeResponse(req, got)
		if err != nil {
			t.Fatal(err)
		}
		var list openai.CreateEmbeddingResponse
		if err := json.Unmarshal(b, &list); err != nil {
			t.Fatal(err)
		}
		if list.Object != "list" || list.Model != "text-embedding-3-small" || list.Usage.PromptTokens != 8 || list.Usage.TotalTokens != 8 || len(list.Data) != 2 || list.Data[1].Index != 1 {
			t.Errorf("%s", b)
		}
		// Read back as the SDK's caller would, floats or base64 float32s.
		back, err := Embeddings.DecodeResponse(req, b)
		if err != nil {
			t.Fatal(err)
		}
		for i, vec := range back.Embeddings {
			for j, f := range vec {
				if math.Abs(f-want.Embeddings[i][j]) > 1e-7 {
					t.Errorf("base64 %v: [%d][%d] = %v, want %v", base64, i, j, f, want.Embeddings[i][j])
				}
			}
		}
		if !base64 && !reflect.DeepEqual(list.Data[0].Embedding, want.Embeddings[0]) {
			t.Errorf("SDK embedding = %v", list.Data[0].Embedding)
		}
	}

	for _, body := range []string{`{"data":[{"index":3,"embedding":[1]}]}`, `{"data":[{"index":0,"embedding":"%%%"}]}`, `{"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[2]}]}`} {
		if _, err := Embeddings.DecodeResponse(req, []byte(body)); err == nil {
			t.Errorf("%s: no error", body)
		}
	}
}
