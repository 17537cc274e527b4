package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/proxy/protocol"
)

// DecodeRequest reads a Gemini caller's request body: a generateContent
// request (OpGenerate), a countTokens request (OpCountTokens) or a
// batchEmbedContents request (OpEmbed). The gateway sets Model and Stream
// from the path.
func (Adapter) DecodeRequest(op protocol.Op, body []byte) (*protocol.Request, error) {
	body, err := normalizeKeys(body)
	if err != nil {
		return nil, &protocol.BadRequest{Err: fmt.Errorf("invalid JSON: %w", err)}
	}
	req := &protocol.Request{Op: op}
	switch op {
	case protocol.OpEmbed:
		return req, decodeEmbedRequest(req, body)
	case protocol.OpCountTokens:
		var count struct {
			GenerateContentRequest json.RawMessage `json:"generateContentRequest"`
		}
		if err := json.Unmarshal(body, &count); err != nil {
			return nil, badJSON("", err)
		}
		if len(count.GenerateContentRequest) > 0 && string(count.GenerateContentRequest) != "null" {
			return req, decodeGenerate(req, count.GenerateContentRequest, "generateContentRequest.")
		}
	}
	return req, decodeGenerate(req, body, "")
}

// badJSON wraps a JSON error as the caller's BadRequest, naming the member
// it is about.
func badJSON(param string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		if param != "" {
			param += "."
		}
		param += te.Field
	}
	return &protocol.BadRequest{Param: param, Err: err}
}

// decodeGenerate reads a generateContent request's members into req;
// prefix names where the request sits in the body.
func decodeGenerate(req *protocol.Request, body []byte, prefix string) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		return badJSON(strings.TrimSuffix(prefix, "."), err)
	}
	names := make([]string, 0, len(members))
	for name, raw := range members {
		if string(raw) == "null" {
			continue
		}
		switch name {
		case "contents", "systemInstruction", "tools", "toolConfig", "generationConfig":
		case "labels", "model":
			// Bookkeeping only: labels tag the caller's billing and model
			// repeats the path.
		default:
			names = append(names, prefix+name)
		}
	}
	slices.Sort(names)
	req.Unknown = append(req.Unknown, names...)

	d := requestDecoder{req: req, prefix: prefix}
	steps := []struct {
		name string
		fn   func(json.RawMessage) error
	}{
		{"contents", d.contents},
		{"systemInstruction", d.system},
		{"tools", d.tools},
		{"toolConfig", d.toolConfig},
		{"generationConfig", d.generationConfig},
	}
	for _, s := range steps {
		raw, ok := members[s.name]
		if !ok || string(raw) == "null" {
			continue
		}
		if err := s.fn(raw); err != nil {
			return err
		}
	}
	return nil
}

// requestDecoder reads one request's members, remembering the tool calls
// without ids so that their results can be paired with them.
type requestDecoder struct {
	req    *protocol.Request
	prefix string
	calls  int
	// pending are calls with synthesized ids not yet answered, in order.
	pending []pendingCall
}

type pendingCall struct{ name, id string }

func (d *requestDecoder) unknown(name string) { d.req.Unknown = append(d.req.Unknown, d.prefix+name) }

func (d *requestDecoder) bad(param string, err error) error {
	return badJSON(d.prefix+param, err)
}

func (d *requestDecoder) contents(raw json.RawMessage) error {
	var contents []wireContent
	if err := json.Unmarshal(raw, &contents); err != nil {
		return d.bad("contents", err)
	}
	d.req.Messages = make([]protocol.Message, 0, len(contents))
	for i, c := range contents {
		msg := protocol.Message{Role: protocol.RoleUser, Parts: make([]protocol.Part, 0, len(c.Parts))}
		switch c.Role {
		case "", "user", "function":
		case "model":
			msg.Role = protocol.RoleAssistant
		default:
			return &protocol.BadRequest{Param: fmt.Sprintf("%scontents[%d].role", d.prefix, i), Err: fmt.Errorf("unknown role %q", c.Role)}
		}
		for j, p := range c.Parts {
			param := fmt.Sprintf("contents[%d].parts[%d]", i, j)
			part, ok, err := d.part(p, param)
			if err != nil {
				return err
			}
			if ok {
				msg.Parts = append(msg.Parts, part)
			}
		}
		d.req.Messages = append(d.req.Messages, msg)
	}
	return nil
}

// part reads one content part; ok is false for a part the form cannot hold,
// which is then listed in Unknown.
func (d *requestDecoder) part(p wirePart, param string) (protocol.Part, bool, error) {
	switch {
	case p.FunctionCall != nil:
		return d.call(p, param)
	case p.FunctionResponse != nil:
		return d.result(p.FunctionResponse, param)
	case p.Text != nil:
		if p.Thought {
			return protocol.Part{Type: protocol.PartThinking, Text: *p.Text, Signature: p.ThoughtSignature}, true, nil
		}
		return protocol.Part{Type: protocol.PartText, Text: *p.Text, Signature: p.ThoughtSignature}, true, nil
	case p.InlineData != nil:
		t, ok := mediaPart(p.InlineData.MimeType, "")
		if !ok {
			d.unknown(param + ".inlineData (" + p.InlineData.MimeType + ")")
			return protocol.Part{}, false, nil
		}
		return protocol.Part{Type: t, MediaType: p.InlineData.MimeType, Data: p.InlineData.Data}, true, nil
	case p.FileData != nil:
		t, ok := mediaPart(p.FileData.MimeType, p.FileData.FileURI)
		if !ok || t == protocol.PartAudio {
			d.unknown(param + ".fileData (" + p.FileData.MimeType + ")")
			return protocol.Part{}, false, nil
		}
		return protocol.Part{Type: t, MediaType: p.FileData.MimeType, URL: p.FileData.FileURI}, true, nil
	case p.ExecutableCode != nil:
		d.unknown(param + ".executableCode")
	case p.CodeExecutionResult != nil:
		d.unknown(param + ".codeExecutionResult")
	default:
		return protocol.Part{}, false, &protocol.BadRequest{Param: d.prefix + param, Err: errors.New("the part has no data")}
	}
	return protocol.Part{}, false, nil
}

func (d *requestDecoder) call(p wirePart, param string) (protocol.Part, bool, error) {
	fc := p.FunctionCall
	args, err := objectText(fc.Args)
	if err != nil {
		return protocol.Part{}, false, &protocol.BadRequest{Param: d.prefix + param + ".functionCall.args", Err: err}
	}
	id := fc.ID
	if id == "" {
		id = fmt.Sprintf("call_%d", d.calls)
		d.pending = append(d.pending, pendingCall{name: fc.Name, id: id})
	}
	d.calls++
	return protocol.Part{Type: protocol.PartToolCall, ID: id, Name: fc.Name, Arguments: args, Signature: p.ThoughtSignature}, true, nil
}

func (d *requestDecoder) result(fr *wireFuncResponse, param string) (protocol.Part, bool, error) {
	id := fr.ID
	if id == "" {
		i := slices.IndexFunc(d.pending, func(c pendingCall) bool { return c.name == fr.Name })
		if i < 0 {
			id = fmt.Sprintf("call_%d", d.calls)
			d.calls++
		} else {
			id = d.pending[i].id
			d.pending = slices.Delete(d.pending, i, i+1)
		}
	}
	text, isErr := resultText(fr.Response)
	return protocol.Part{
		Type:    protocol.PartToolResult,
		ID:      id,
		Name:    fr.Name,
		Content: []protocol.Part{{Type: protocol.PartText, Text: text}},
		IsError: isErr,
	}, true, nil
}

// objectText is a call's args as JSON text: "{}" when absent, an error when
// they are not an object.
func objectText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "{}", nil
	}
	if raw[0] != '{' {
		return "", errors.New("args must be a JSON object")
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return "", err
	}
	return b.String(), nil
}

// resultText reads a functionResponse.response: an object whose only
// member is a "result", "output" or "error" string is that text ("error"
// marks a failure); anything else is its JSON text.
func resultText(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) == nil && len(m) == 1 {
		for k, v := range m {
			var s string
			if (k == "result" || k == "output" || k == "error") && json.Unmarshal(v, &s) == nil {
				return s, k == "error"
			}
		}
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw), false
	}
	return b.String(), false
}

// mediaPart is the part type of media with MIME type mime (or, when that
// is empty, the file name in uri); ok is false for media the form has no
// part for (video).
func mediaPart(mime, uri string) (protocol.PartType, bool) {
	if mime == "" {
		mime = mimeFromName(uri)
	}
	switch {
	case strings.HasPrefix(mime, "image/"):
		return protocol.PartImage, true
	case strings.HasPrefix(mime, "audio/"):
		return protocol.PartAudio, true
	case strings.HasPrefix(mime, "video/"):
		return 0, false
	}
	return protocol.PartDocument, true
}

// mimeFromName guesses a MIME type from a URL's file extension; "" when
// it is none the adapter knows.
func mimeFromName(uri string) string {
	if i := strings.IndexAny(uri, "?#"); i >= 0 {
		uri = uri[:i]
	}
	ext := strings.ToLower(uri[strings.LastIndexByte(uri, '.')+1:])
	switch ext {
	case "png":
		return "image/png"
	case "jpg", "jpeg":
		return "image/jpeg"
	case "webp":
		return "image/webp"
	case "gif":
		return "image/gif"
	case "heic":
		return "image/heic"
	case "pdf":
		return "application/pdf"
	case "txt":
		return "text/plain"
	}
	return ""
}

func (d *requestDecoder) system(raw json.RawMessage) error {
	var c wireContent
	if err := json.Unmarshal(raw, &c); err != nil {
		return d.bad("systemInstruction", err)
	}
	for j, p := range c.Parts {
		if p.Text == nil {
			d.unknown(fmt.Sprintf("systemInstruction.parts[%d]", j))
			continue
		}
		d.req.System = append(d.req.System, protocol.Part{Type: protocol.PartText, Text: *p.Text})
	}
	return nil
}

func (d *requestDecoder) tools(raw json.RawMessage) error {
	var tools []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &tools); err != nil {
		return d.bad("tools", err)
	}
	for i, t := range tools {
		names := make([]string, 0, len(t))
		for name := range t {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			if name != "functionDeclarations" {
				d.unknown(fmt.Sprintf("tools[%d].%s", i, name))
				continue
			}
			var fns []wireFunc
			if err := json.Unmarshal(t[name], &fns); err != nil {
				return d.bad(fmt.Sprintf("tools[%d].functionDeclarations", i), err)
			}
			for _, fn := range fns {
				tool := protocol.Tool{Name: fn.Name, Description: fn.Description}
				switch {
				case isSet(fn.ParametersJSONSchema):
					tool.Parameters = fn.ParametersJSONSchema
				case isSet(fn.Parameters):
					tool.Parameters = lowerTypes(fn.Parameters)
				}
				d.req.Tools = append(d.req.Tools, tool)
			}
		}
	}
	return nil
}

func isSet(raw json.RawMessage) bool { return len(raw) > 0 && string(raw) != "null" }

func (d *requestDecoder) toolConfig(raw json.RawMessage) error {
	var tc wireToolConfig
	if err := json.Unmarshal(raw, &tc); err != nil {
		return d.bad("toolConfig", err)
	}
	fc := tc.FunctionCallingConfig
	if fc == nil {
		return nil
	}
	choice := &d.req.ToolChoice
	switch strings.ToUpper(fc.Mode) {
	case "", "MODE_UNSPECIFIED":
		return nil
	case "AUTO":
		*choice = protocol.ToolChoice{Mode: protocol.ToolAuto, Set: true}
	case "NONE":
		*choice = protocol.ToolChoice{Mode: protocol.ToolNone, Set: true}
	case "ANY":
		*choice = protocol.ToolChoice{Mode: protocol.ToolRequired, Set: true}
		switch {
		case len(fc.AllowedFunctionNames) == 1:
			*choice = protocol.ToolChoice{Mode: protocol.ToolNamed, Name: fc.AllowedFunctionNames[0], Set: true}
		case len(fc.AllowedFunctionNames) > 1 && !d.allTools(fc.AllowedFunctionNames):
			// A subset of several tools has no counterpart.
			d.unknown("toolConfig.functionCallingConfig.allowedFunctionNames")
		}
	default:
		d.unknown("toolConfig.functionCallingConfig.mode")
	}
	return nil
}

// allTools reports whether names cover every declared tool.
func (d *requestDecoder) allTools(names []string) bool {
	for _, t := range d.req.Tools {
		if !slices.Contains(names, t.Name) {
			return false
		}
	}
	return true
}

// knownGenConfig are the generationConfig members the form holds.
var knownGenConfig = map[string]bool{
	"temperature": true, "topP": true, "topK": true, "candidateCount": true, "maxOutputTokens": true,
	"stopSequences": true, "seed": true, "presencePenalty": true, "frequencyPenalty": true,
	"responseMimeType": true, "responseSchema": true, "responseJsonSchema": true, "thinkingConfig": true,
}

func (d *requestDecoder) generationConfig(raw json.RawMessage) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return d.bad("generationConfig", err)
	}
	var names []string
	for name, v := range members {
		if !knownGenConfig[name] && string(v) != "null" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		d.unknown("generationConfig." + name)
	}
	var gc wireGenConfig
	if err := json.Unmarshal(raw, &gc); err != nil {
		return d.bad("generationConfig", err)
	}
	r := d.req
	r.Temperature, r.TopP = gc.Temperature, gc.TopP
	r.PresencePenalty, r.FrequencyPenalty = gc.PresencePenalty, gc.FrequencyPenalty
	r.Seed = gc.Seed
	if gc.TopK != nil {
		k := int64(*gc.TopK)
		r.TopK = &k
	}
	if gc.CandidateCount != nil {
		r.N = *gc.CandidateCount
	}
	if gc.MaxOutputTokens != nil {
		r.MaxTokens = *gc.MaxOutputTokens
	}
	r.Stop = gc.StopSequences
	switch gc.ResponseMimeType {
	case "", "text/plain":
	case "application/json":
		r.ResponseFormat = &protocol.ResponseFormat{}
		switch {
		case isSet(gc.ResponseJSONSchema):
			r.ResponseFormat.Schema = gc.ResponseJSONSchema
		case isSet(gc.ResponseSchema):
			r.ResponseFormat.Schema = lowerTypes(gc.ResponseSchema)
		}
	default:
		d.unknown("generationConfig.responseMimeType")
	}
	if tc := gc.ThinkingConfig; tc != nil {
		r.Reasoning = reasoning(tc)
	}
	return nil
}

// reasoning reads a thinkingConfig; nil when it asks for nothing.
func reasoning(tc *wireThinking) *protocol.Reasoning {
	switch {
	case tc.ThinkingBudget != nil && *tc.ThinkingBudget == 0:
		return &protocol.Reasoning{Disabled: true}
	case tc.ThinkingBudget != nil && *tc.ThinkingBudget > 0:
		return &protocol.Reasoning{BudgetTokens: *tc.ThinkingBudget}
	case tc.ThinkingLevel != "" && tc.ThinkingLevel != "THINKING_LEVEL_UNSPECIFIED":
		return &protocol.Reasoning{Effort: strings.ToLower(tc.ThinkingLevel)}
	case tc.ThinkingBudget != nil || tc.IncludeThoughts:
		// Dynamic thinking: the model decides how much.
		return &protocol.Reasoning{Effort: "medium"}
	}
	return nil
}

// lowerTypes turns an OpenAPI-style schema (Gemini's parameters and
// responseSchema, where SDKs write "type": "OBJECT") into JSON Schema's
// lower-case type names; a schema that needs no change is returned as it
// is.
func lowerTypes(raw json.RawMessage) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil || !lowerTypesIn(v, 0) {
		return raw
	}
	b, err := json.Marshal(v)
	if err != nil {
		return raw
	}
	return b
}

func lowerTypesIn(v any, depth int) bool {
	if depth > maxDepth {
		return false
	}
	changed := false
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if s, ok := e.(string); ok && k == "type" && s != strings.ToLower(s) {
				t[k] = strings.ToLower(s)
				changed = true
				continue
			}
			changed = lowerTypesIn(e, depth+1) || changed
		}
	case []any:
		for _, e := range t {
			changed = lowerTypesIn(e, depth+1) || changed
		}
	}
	return changed
}

// decodeEmbedRequest reads a batchEmbedContents request: one input per
// request, its parts' texts joined.
func decodeEmbedRequest(req *protocol.Request, body []byte) error {
	var er wireEmbedRequest
	if err := json.Unmarshal(body, &er); err != nil {
		return badJSON("", err)
	}
	req.Inputs = make([]string, 0, len(er.Requests))
	for i, r := range er.Requests {
		var b strings.Builder
		for j, p := range r.Content.Parts {
			if p.Text == nil {
				return &protocol.BadRequest{Param: fmt.Sprintf("requests[%d].content.parts[%d]", i, j), Err: errors.New("only text can be embedded")}
			}
			b.WriteString(*p.Text)
		}
		req.Inputs = append(req.Inputs, b.String())
		if i == 0 {
			req.Dimensions = r.OutputDimensionality
			req.InputType = inputType(r.TaskType)
		}
	}
	return nil
}

// taskTypes pairs Cohere's input types (the form's terms) with Gemini's
// task types.
var taskTypes = [][2]string{
	{"search_document", "RETRIEVAL_DOCUMENT"},
	{"search_query", "RETRIEVAL_QUERY"},
	{"classification", "CLASSIFICATION"},
	{"clustering", "CLUSTERING"},
}

func inputType(taskType string) string {
	for _, t := range taskTypes {
		if t[1] == taskType {
			return t[0]
		}
	}
	return ""
}

func taskType(inputType string) string {
	for _, t := range taskTypes {
		if t[0] == inputType {
			return t[1]
		}
	}
	return ""
}
