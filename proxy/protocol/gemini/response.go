package gemini

import (
	"encoding/json"
	"fmt"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/usage"
	"github.com/sluicehq/sluice/tokens"
)

// DecodeResponse reads a Gemini answer to req: generateContent's first
// candidate, countTokens' total or batchEmbedContents' vectors.
func (Adapter) DecodeResponse(req *protocol.Request, body []byte) (*protocol.Response, error) {
	switch req.Op {
	case protocol.OpEmbed:
		var er wireEmbedResponse
		if err := json.Unmarshal(body, &er); err != nil {
			return nil, fmt.Errorf("gemini: reading the embeddings: %w", err)
		}
		resp := &protocol.Response{Model: req.Model, Embeddings: make([][]float64, len(er.Embeddings))}
		for i, e := range er.Embeddings {
			resp.Embeddings[i] = e.Values
		}
		// Gemini reports no token usage for embeddings: Usage.Found stays false.
		return resp, nil
	case protocol.OpCountTokens:
		var cr wireCountResponse
		if err := json.Unmarshal(body, &cr); err != nil {
			return nil, fmt.Errorf("gemini: reading the token count: %w", err)
		}
		return &protocol.Response{Model: req.Model, InputTokens: cr.TotalTokens}, nil
	}
	var wr wireResponse
	if err := json.Unmarshal(body, &wr); err != nil {
		return nil, fmt.Errorf("gemini: reading the answer: %w", err)
	}
	resp := &protocol.Response{ID: wr.ResponseID, Model: wr.ModelVersion}
	if resp.Model == "" {
		resp.Model = req.Model
	}
	if wr.UsageMetadata != nil {
		resp.Usage = readUsage(wr.UsageMetadata)
	}
	if len(wr.Candidates) == 0 {
		if wr.PromptFeedback != nil && wr.PromptFeedback.BlockReason != "" {
			resp.Finish = protocol.FinishContentFilter
		}
		return resp, nil
	}
	cand := wr.Candidates[0]
	calls := 0
	if cand.Content != nil {
		resp.Parts = make([]protocol.Part, 0, len(cand.Content.Parts))
		for _, p := range cand.Content.Parts {
			part, ok := answerPart(p, &calls)
			if !ok {
				continue
			}
			// An empty text part that only carries a signature signs the
			// text before it.
			if n := len(resp.Parts); part.Type == protocol.PartText && part.Text == "" && n > 0 &&
				resp.Parts[n-1].Type == protocol.PartText && resp.Parts[n-1].Signature == "" {
				resp.Parts[n-1].Signature = part.Signature
				continue
			}
			resp.Parts = append(resp.Parts, part)
		}
	}
	resp.Finish = finish(cand.FinishReason, calls > 0)
	return resp, nil
}

// answerPart is one part of an answer; calls counts the function calls so
// far, for the ids of calls without one. ok is false for a part the form
// has no place for (executableCode, an empty text).
func answerPart(p wirePart, calls *int) (protocol.Part, bool) {
	switch {
	case p.FunctionCall != nil:
		args, err := objectText(p.FunctionCall.Args)
		if err != nil {
			args = string(p.FunctionCall.Args)
		}
		id := p.FunctionCall.ID
		if id == "" {
			id = fmt.Sprintf("call_%d", *calls)
		}
		*calls++
		return protocol.Part{Type: protocol.PartToolCall, ID: id, Name: p.FunctionCall.Name, Arguments: args, Signature: p.ThoughtSignature}, true
	case p.Text != nil:
		if *p.Text == "" && p.ThoughtSignature == "" {
			return protocol.Part{}, false
		}
		t := protocol.PartText
		if p.Thought {
			t = protocol.PartThinking
		}
		return protocol.Part{Type: t, Text: *p.Text, Signature: p.ThoughtSignature}, true
	case p.InlineData != nil:
		t, _ := mediaPart(p.InlineData.MimeType, "")
		return protocol.Part{Type: t, MediaType: p.InlineData.MimeType, Data: p.InlineData.Data}, true
	}
	return protocol.Part{}, false
}

// finish maps a finishReason; STOP with function calls is the model
// waiting for their results.
func finish(reason string, calls bool) protocol.Finish {
	switch reason {
	case "", "STOP":
		if calls {
			return protocol.FinishToolCalls
		}
		return protocol.FinishStop
	case "MAX_TOKENS":
		return protocol.FinishLength
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "LANGUAGE",
		"IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION":
		return protocol.FinishContentFilter
	}
	// OTHER, MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL, TOO_MANY_TOOL_CALLS,
	// NO_IMAGE, FINISH_REASON_UNSPECIFIED and reasons added later.
	return protocol.FinishError
}

// finishReason is f as Gemini's finishReason.
func finishReason(f protocol.Finish) string {
	switch f {
	case protocol.FinishLength:
		return "MAX_TOKENS"
	case protocol.FinishContentFilter, protocol.FinishRefusal:
		return "SAFETY"
	case protocol.FinishError, protocol.FinishPause:
		return "OTHER"
	}
	return "STOP"
}

// readUsage reads usageMetadata: the prompt counts tool-use prompts too,
// the output thoughts too; cached content is part of the prompt.
func readUsage(u *wireUsage) usage.Usage {
	return usage.Usage{
		Tokens: tokens.Tokens{
			InputTokens:       u.PromptTokenCount + u.ToolUsePromptTokenCount,
			OutputTokens:      u.CandidatesTokenCount + u.ThoughtsTokenCount,
			CachedInputTokens: u.CachedContentTokenCount,
		},
		ReasoningTokens: u.ThoughtsTokenCount,
		Found:           true,
	}
}

// writeUsage is u as usageMetadata; cache writes have no counterpart and
// stay counted in the prompt.
func writeUsage(u usage.Usage) *wireUsage {
	return &wireUsage{
		PromptTokenCount:        u.InputTokens,
		CandidatesTokenCount:    u.OutputTokens - u.ReasoningTokens,
		ThoughtsTokenCount:      u.ReasoningTokens,
		CachedContentTokenCount: u.CachedInputTokens,
		TotalTokenCount:         u.InputTokens + u.OutputTokens,
	}
}

// EncodeResponse writes resp as Gemini's answer to req: a
// GenerateContentResponse, a countTokens total or batchEmbedContents'
// vectors.
func (Adapter) EncodeResponse(req *protocol.Request, resp *protocol.Response) ([]byte, error) {
	switch req.Op {
	case protocol.OpEmbed:
		er := wireEmbedResponse{Embeddings: make([]wireEmbedding, len(resp.Embeddings))}
		for i, e := range resp.Embeddings {
			er.Embeddings[i].Values = e
		}
		return json.Marshal(er)
	case protocol.OpCountTokens:
		return json.Marshal(wireCountResponse{TotalTokens: resp.InputTokens})
	}
	parts := make([]wirePart, 0, len(resp.Parts))
	for _, p := range resp.Parts {
		wp, ok, err := wireAnswerPart(p)
		if err != nil {
			return nil, err
		}
		if ok {
			parts = append(parts, wp)
		}
	}
	wr := wireResponse{
		Candidates: []wireCandidate{{
			Content:      &wireContent{Role: "model", Parts: parts},
			FinishReason: finishReason(resp.Finish),
		}},
		ModelVersion: modelName(req, resp.Model),
		ResponseID:   resp.ID,
	}
	if resp.Usage.Found {
		wr.UsageMetadata = writeUsage(resp.Usage)
	}
	return json.Marshal(wr)
}

func modelName(req *protocol.Request, model string) string {
	if model == "" {
		return req.Model
	}
	return model
}

// wireAnswerPart is an answer's part as Gemini writes it; ok is false for
// what a Gemini answer cannot hold (redacted thinking).
func wireAnswerPart(p protocol.Part) (wirePart, bool, error) {
	switch p.Type {
	case protocol.PartText:
		wp := textPart(p.Text)
		wp.ThoughtSignature = p.Signature
		return wp, true, nil
	case protocol.PartThinking:
		wp := textPart(p.Text)
		wp.Thought, wp.ThoughtSignature = true, p.Signature
		return wp, true, nil
	case protocol.PartToolCall:
		args, err := argsObject(p.Arguments)
		if err != nil {
			return wirePart{}, false, fmt.Errorf("gemini: tool call %q: %w", p.ID, err)
		}
		return wirePart{FunctionCall: &wireCall{ID: p.ID, Name: p.Name, Args: args}, ThoughtSignature: p.Signature}, true, nil
	case protocol.PartImage, protocol.PartDocument, protocol.PartAudio:
		if p.Data != "" {
			return wirePart{InlineData: &wireBlob{MimeType: p.MediaType, Data: p.Data}}, true, nil
		}
		if p.URL != "" {
			return wirePart{FileData: &wireFile{MimeType: p.MediaType, FileURI: p.URL}}, true, nil
		}
	}
	return wirePart{}, false, nil
}
