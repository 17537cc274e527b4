package openai

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/sluicehq/sluice/proxy/protocol"
)

// Embeddings is the embeddings adapter: the client route
// POST /v1/embeddings and the provider path "/embeddings". Given
// OpGenerate it hands over to Chat. Embeddings never stream; its stream
// encoder and decoder are Chat's.
var Embeddings embeddingsAdapter

// embeddingsAdapter implements protocol.Client and protocol.Provider.
type embeddingsAdapter struct{}

var (
	_ protocol.Client   = Embeddings
	_ protocol.Provider = Embeddings
)

// DecodeRequest reads an embeddings request: input as a string or an
// array of strings, dimensions, encoding_format and user. Token-id arrays
// are refused: only the model they were made for can read them.
func (embeddingsAdapter) DecodeRequest(op protocol.Op, body []byte) (*protocol.Request, error) {
	if op != protocol.OpEmbed {
		return Chat.DecodeRequest(op, body)
	}
	members, err := objectMembers(body)
	if err != nil {
		return nil, err
	}
	req := &protocol.Request{Op: op}
	for _, name := range protocol.SortedMembers(members) {
		v := members[name]
		if isNull(v) {
			continue
		}
		switch name {
		case "model":
			err = json.Unmarshal(v, &req.Model)
		case "input":
			req.Inputs, err = embedInputs(v)
		case "dimensions":
			err = json.Unmarshal(v, &req.Dimensions)
		case "encoding_format":
			var f string
			if err = json.Unmarshal(v, &f); err == nil {
				switch f {
				case "float":
				case "base64":
					req.EmbedFloatBase64 = true
				default:
					err = fmt.Errorf("must be float or base64, not %q", f)
				}
			}
		case "user":
			err = json.Unmarshal(v, &req.User)
		default:
			req.Unknown = append(req.Unknown, name)
		}
		if err != nil {
			return nil, &protocol.BadRequest{Param: name, Err: err}
		}
	}
	if req.Inputs == nil {
		return nil, &protocol.BadRequest{Param: "input", Err: errors.New("is required")}
	}
	return req, nil
}

// embedInputs reads input: a string or a non-empty array of strings.
func embedInputs(v json.RawMessage) ([]string, error) {
	var one string
	if json.Unmarshal(v, &one) == nil {
		return []string{one}, nil
	}
	var many []string
	if json.Unmarshal(v, &many) == nil {
		if len(many) == 0 {
			return nil, errors.New("must not be empty")
		}
		return many, nil
	}
	var tokens []json.RawMessage
	if json.Unmarshal(v, &tokens) == nil {
		return nil, errors.New("token-id arrays cannot be translated to another provider's embeddings API, which reads text: send the input as text")
	}
	return nil, errors.New("must be a string or an array of strings")
}

// wireEmbedRequest is an embeddings request as a provider takes it.
type wireEmbedRequest struct {
	Model      string   `json:"model"`
	Input      []string `json:"input"`
	Dimensions int64    `json:"dimensions,omitempty"`
	User       string   `json:"user,omitempty"`
}

// EncodeRequest writes an embeddings request. It asks for the default
// float encoding, which every compatible server has; a caller that wanted
// base64 gets it from EncodeResponse.
func (embeddingsAdapter) EncodeRequest(req *protocol.Request) (protocol.Call, error) {
	if req.Op != protocol.OpEmbed {
		return Chat.EncodeRequest(req)
	}
	if req.InputType != "" {
		req.Omit("input_type")
	}
	body, err := marshal(&wireEmbedRequest{Model: req.Model, Input: req.Inputs, Dimensions: req.Dimensions, User: req.User})
	if err != nil {
		return protocol.Call{}, fmt.Errorf("openai: encoding the embeddings request: %w", err)
	}
	return protocol.Call{Path: "/embeddings", Body: body}, nil
}

// wireEmbedAnswer is an embeddings answer, read and written.
type wireEmbedAnswer struct {
	Object string          `json:"object"`
	Data   []wireEmbedding `json:"data"`
	Model  string          `json:"model"`
	Usage  *wireEmbedUsage `json:"usage,omitempty"`
	Error  json.RawMessage `json:"error,omitempty"`
}

type wireEmbedding struct {
	Object string `json:"object"`
	Index  int    `json:"index"`
	// Embedding is an array of numbers, or base64 little-endian float32.
	Embedding json.RawMessage `json:"embedding"`
}

type wireEmbedUsage struct {
	PromptTokens int64 `json:"prompt_tokens"`
	TotalTokens  int64 `json:"total_tokens"`
}

// DecodeResponse reads an embeddings answer, one vector per input in the
// order of their index.
func (embeddingsAdapter) DecodeResponse(req *protocol.Request, body []byte) (*protocol.Response, error) {
	if req != nil && req.Op != protocol.OpEmbed {
		return Chat.DecodeResponse(req, body)
	}
	var a wireEmbedAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, fmt.Errorf("openai: reading the embeddings answer: %w", err)
	}
	if !isNull(a.Error) {
		return nil, upstreamError(a.Error)
	}
	resp := &protocol.Response{Model: a.Model, Embeddings: make([][]float64, len(a.Data))}
	for i, d := range a.Data {
		if d.Index < 0 || d.Index >= len(a.Data) || resp.Embeddings[d.Index] != nil {
			return nil, fmt.Errorf("openai: embeddings answer: data[%d] has index %d", i, d.Index)
		}
		vec, err := readVector(d.Embedding)
		if err != nil {
			return nil, fmt.Errorf("openai: embeddings answer: data[%d]: %w", i, err)
		}
		resp.Embeddings[d.Index] = vec
	}
	if u := a.Usage; u != nil {
		resp.Usage.InputTokens = u.PromptTokens
		if u.PromptTokens == 0 {
			resp.Usage.InputTokens = u.TotalTokens
		}
		resp.Usage.Found = true
	}
	return resp, nil
}

// readVector reads an embedding: an array of numbers or base64 float32s.
func readVector(v json.RawMessage) ([]float64, error) {
	var floats []float64
	if json.Unmarshal(v, &floats) == nil {
		if floats == nil {
			floats = []float64{}
		}
		return floats, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, errors.New("embedding is neither numbers nor base64")
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw)%4 != 0 {
		return nil, errors.New("embedding is not base64 float32s")
	}
	out := make([]float64, len(raw)/4)
	for i := range out {
		out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
	}
	return out, nil
}

// base64Vector is vec as base64 little-endian float32s.
func base64Vector(vec []float64) string {
	raw := make([]byte, 4*len(vec))
	for i, f := range vec {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(float32(f)))
	}
	return base64.StdEncoding.EncodeToString(raw)
}

// EncodeResponse writes an embeddings list, as numbers or, when the
// caller asked for encoding_format base64, as base64 float32s.
func (embeddingsAdapter) EncodeResponse(req *protocol.Request, resp *protocol.Response) ([]byte, error) {
	if req != nil && req.Op != protocol.OpEmbed {
		return Chat.EncodeResponse(req, resp)
	}
	out := wireEmbedAnswer{Object: "list", Data: make([]wireEmbedding, len(resp.Embeddings)), Model: answerModel(req, resp.Model)}
	for i, vec := range resp.Embeddings {
		var v any = vec
		if vec == nil {
			v = []float64{}
		}
		if req != nil && req.EmbedFloatBase64 {
			v = base64Vector(vec)
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("openai: encoding embedding %d: %w", i, err)
		}
		out.Data[i] = wireEmbedding{Object: "embedding", Index: i, Embedding: raw}
	}
	out.Usage = &wireEmbedUsage{PromptTokens: resp.Usage.InputTokens, TotalTokens: resp.Usage.InputTokens + resp.Usage.OutputTokens}
	return marshal(&out)
}

// EncodeModels is OpenAI's model list, owned by "sluice": the gateway
// serves them, whichever provider runs them.
func (embeddingsAdapter) EncodeModels(ids []string) []byte { return ModelList(ids, 0, "sluice") }

// NewStreamEncoder is Chat's: embeddings never stream.
func (embeddingsAdapter) NewStreamEncoder(req *protocol.Request) protocol.StreamEncoder {
	return newStreamEncoder(req)
}

// NewStreamDecoder is Chat's: embeddings never stream.
func (embeddingsAdapter) NewStreamDecoder(*protocol.Request) protocol.StreamDecoder {
	return newStreamDecoder()
}

// ErrorMessage reads an error body as Chat does.
func (embeddingsAdapter) ErrorMessage(body []byte) string { return errorMessage(body) }
