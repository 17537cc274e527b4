package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/proxy/protocol"
)

// EncodeRequest writes req for a Gemini upstream: generateContent (or
// streamGenerateContent with alt=sse), countTokens or batchEmbedContents
// of req.Model.
func (Adapter) EncodeRequest(req *protocol.Request) (protocol.Call, error) {
	model := url.PathEscape(req.Model)
	switch req.Op {
	case protocol.OpEmbed:
		body, err := json.Marshal(embedRequest(req))
		return protocol.Call{Path: "/models/" + model + ":batchEmbedContents", Body: body}, err
	case protocol.OpCountTokens:
		gr, err := generateRequest(req)
		if err != nil {
			return protocol.Call{}, err
		}
		gr.Model = "models/" + req.Model
		body, err := json.Marshal(wireCountRequest{GenerateContentRequest: gr})
		return protocol.Call{Path: "/models/" + model + ":countTokens", Body: body}, err
	}
	gr, err := generateRequest(req)
	if err != nil {
		return protocol.Call{}, err
	}
	body, err := json.Marshal(gr)
	if err != nil {
		return protocol.Call{}, fmt.Errorf("gemini: encoding the request: %w", err)
	}
	if req.Stream {
		return protocol.Call{Path: "/models/" + model + ":streamGenerateContent", Query: "alt=sse", Body: body}, nil
	}
	return protocol.Call{Path: "/models/" + model + ":generateContent", Body: body}, nil
}

func embedRequest(req *protocol.Request) wireEmbedRequest {
	er := wireEmbedRequest{Requests: make([]wireEmbedContent, len(req.Inputs))}
	for i, in := range req.Inputs {
		text := in
		er.Requests[i] = wireEmbedContent{
			Model:                "models/" + req.Model,
			Content:              wireContent{Parts: []wirePart{{Text: &text}}},
			TaskType:             taskType(req.InputType),
			OutputDimensionality: req.Dimensions,
		}
	}
	return er
}

func unsupported(param, why string) error {
	return &protocol.Unsupported{Param: param, Provider: providers.ProtocolGemini, Why: why}
}

// generateRequest is req as a generateContent request.
func generateRequest(req *protocol.Request) (*wireRequest, error) {
	gr := &wireRequest{Contents: make([]wireContent, 0, len(req.Messages))}
	for i, p := range req.System {
		if p.Cache != nil {
			req.Omit("cache_control")
		}
		if p.Type != protocol.PartText {
			return nil, unsupported(fmt.Sprintf("system[%d] (%s)", i, p.Type), "Gemini's system instruction takes only text")
		}
		if gr.SystemInstruction == nil {
			gr.SystemInstruction = &wireContent{}
		}
		gr.SystemInstruction.Parts = append(gr.SystemInstruction.Parts, textPart(p.Text))
	}
	for i, m := range req.Messages {
		c, err := content(req, i, m)
		if err != nil {
			return nil, err
		}
		if len(c.Parts) > 0 {
			gr.Contents = append(gr.Contents, c)
		}
	}
	if len(req.Tools) > 0 {
		fns := make([]wireFunc, len(req.Tools))
		for i, t := range req.Tools {
			if t.Cache != nil {
				req.Omit("cache_control")
			}
			if t.Strict {
				req.Omit("strict")
			}
			fns[i] = wireFunc{Name: t.Name, Description: t.Description, ParametersJSONSchema: t.Parameters}
		}
		gr.Tools = []wireTool{{FunctionDeclarations: fns}}
	}
	if tc := req.ToolChoice; tc.Set || tc.Mode != protocol.ToolAuto {
		fc := &wireCallingConfig{Mode: "AUTO"}
		switch tc.Mode {
		case protocol.ToolNone:
			fc.Mode = "NONE"
		case protocol.ToolRequired:
			fc.Mode = "ANY"
		case protocol.ToolNamed:
			fc.Mode, fc.AllowedFunctionNames = "ANY", []string{tc.Name}
		}
		gr.ToolConfig = &wireToolConfig{FunctionCallingConfig: fc}
	}
	if req.ParallelToolCalls != nil {
		req.Omit("parallel_tool_calls")
	}
	if req.User != "" {
		req.Omit("user")
	}
	gc, err := generationConfig(req)
	if err != nil {
		return nil, err
	}
	gr.GenerationConfig = gc
	return gr, nil
}

func textPart(s string) wirePart { return wirePart{Text: &s} }

// content is message i as a Gemini content.
func content(req *protocol.Request, i int, m protocol.Message) (wireContent, error) {
	c := wireContent{Role: "user", Parts: make([]wirePart, 0, len(m.Parts))}
	if m.Role == protocol.RoleAssistant {
		c.Role = "model"
	}
	for j, p := range m.Parts {
		param := fmt.Sprintf("messages[%d].content[%d]", i, j)
		if p.Cache != nil {
			req.Omit("cache_control")
		}
		var wp wirePart
		switch p.Type {
		case protocol.PartText:
			wp = textPart(p.Text)
			wp.ThoughtSignature = p.Signature
		case protocol.PartThinking:
			wp = textPart(p.Text)
			wp.Thought, wp.ThoughtSignature = true, p.Signature
		case protocol.PartRedactedThinking:
			req.Omit("redacted_thinking")
			continue
		case protocol.PartImage, protocol.PartDocument, protocol.PartAudio:
			wp = mediaWirePart(p)
		case protocol.PartToolCall:
			args, err := argsObject(p.Arguments)
			if err != nil {
				return c, &protocol.BadRequest{Param: param + " (tool call arguments)", Err: err}
			}
			wp.FunctionCall = &wireCall{ID: p.ID, Name: p.Name, Args: args}
			wp.ThoughtSignature = p.Signature
		case protocol.PartToolResult:
			fr, err := functionResponse(p, param)
			if err != nil {
				return c, err
			}
			wp.FunctionResponse = fr
		default:
			return c, unsupported(param+" ("+p.Type.String()+")", "Gemini has no such content")
		}
		c.Parts = append(c.Parts, wp)
	}
	return c, nil
}

// mediaWirePart is an image, document or audio part: inline data, or a
// file by URL (a data: URL is sent inline).
func mediaWirePart(p protocol.Part) wirePart {
	if p.Data != "" {
		return wirePart{InlineData: &wireBlob{MimeType: p.MediaType, Data: p.Data}}
	}
	if mime, data, ok := parseDataURL(p.URL); ok {
		return wirePart{InlineData: &wireBlob{MimeType: mime, Data: data}}
	}
	mime := p.MediaType
	if mime == "" {
		mime = mimeFromName(p.URL)
	}
	return wirePart{FileData: &wireFile{MimeType: mime, FileURI: p.URL}}
}

// parseDataURL splits a base64 data: URL into its MIME type and data.
func parseDataURL(u string) (mime, data string, ok bool) {
	rest, ok := strings.CutPrefix(u, "data:")
	if !ok {
		return "", "", false
	}
	meta, data, ok := strings.Cut(rest, ",")
	if !ok {
		return "", "", false
	}
	mime, ok = strings.CutSuffix(meta, ";base64")
	return mime, data, ok
}

// argsObject is a tool call's arguments as a JSON object ("" is {}).
func argsObject(args string) (json.RawMessage, error) {
	a := bytes.TrimSpace([]byte(args))
	if len(a) == 0 {
		return json.RawMessage("{}"), nil
	}
	if a[0] != '{' || !json.Valid(a) {
		return nil, errors.New("the arguments are not a JSON object")
	}
	return a, nil
}

// functionResponse is a tool result as Gemini takes it: see the package
// doc for the shape of response.
func functionResponse(p protocol.Part, param string) (*wireFuncResponse, error) {
	if p.Name == "" {
		return nil, &protocol.BadRequest{Param: param, Err: fmt.Errorf("tool result %q does not name its function, which Gemini requires", p.ID)}
	}
	var text strings.Builder
	for k, c := range p.Content {
		if c.Type != protocol.PartText {
			return nil, unsupported(fmt.Sprintf("%s.content[%d] (%s)", param, k, c.Type), "Gemini's function responses take only text")
		}
		if k > 0 {
			text.WriteByte('\n')
		}
		text.WriteString(c.Text)
	}
	return &wireFuncResponse{ID: p.ID, Name: p.Name, Response: responseObject(text.String(), p.IsError)}, nil
}

// responseObject is a tool result's text as functionResponse.response.
func responseObject(text string, isErr bool) json.RawMessage {
	key := "result"
	if isErr {
		key = "error"
	} else if t := bytes.TrimSpace([]byte(text)); len(t) > 0 && t[0] == '{' && json.Valid(t) {
		return t
	}
	b, _ := json.Marshal(map[string]string{key: text})
	return b
}

// generationConfig is req's sampling, output and thinking settings; nil
// when it has none.
func generationConfig(req *protocol.Request) (*wireGenConfig, error) {
	gc := wireGenConfig{
		Temperature:      req.Temperature,
		TopP:             req.TopP,
		Seed:             req.Seed,
		PresencePenalty:  req.PresencePenalty,
		FrequencyPenalty: req.FrequencyPenalty,
		StopSequences:    req.Stop,
	}
	if req.TopK != nil {
		k := float64(*req.TopK)
		gc.TopK = &k
	}
	if req.MaxTokens > 0 {
		gc.MaxOutputTokens = &req.MaxTokens
	}
	if req.N > 1 {
		// Gemini would bill every candidate while the internal form, and so
		// the caller's translated answer, carries only the first.
		return nil, unsupported("n", "the gateway translates one answer per request, and Gemini would bill every candidate; ask for one answer")
	}
	if rf := req.ResponseFormat; rf != nil {
		gc.ResponseMimeType = "application/json"
		gc.ResponseJSONSchema = rf.Schema
		if rf.Strict {
			req.Omit("strict")
		}
	}
	if r := req.Reasoning; r != nil {
		gc.ThinkingConfig = thinkingConfig(r)
	}
	if b, _ := json.Marshal(gc); string(b) == "{}" {
		return nil, nil
	}
	return &gc, nil
}

// thinkingConfig is r as a thinking budget.
func thinkingConfig(r *protocol.Reasoning) *wireThinking {
	var budget int64
	switch {
	case r.Disabled:
		return &wireThinking{ThinkingBudget: &budget}
	case r.BudgetTokens > 0:
		budget = r.BudgetTokens
	default:
		budget = protocol.EffortBudget(r.Effort)
	}
	return &wireThinking{IncludeThoughts: true, ThinkingBudget: &budget}
}
