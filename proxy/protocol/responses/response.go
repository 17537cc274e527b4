package responses

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/usage"
)

// redactedPrefix marks a reasoning item's encrypted_content that carries
// redacted thinking rather than a thinking part's signature, so that the
// caller sending it back gives the provider redacted thinking again.
const redactedPrefix = "sluice-redacted:"

// responseObject is the Response object, the answer of a request and the
// payload of the stream's lifecycle events. Members the API always sends
// are written even when empty or null.
type responseObject struct {
	ID                 string             `json:"id"`
	Object             string             `json:"object"`
	CreatedAt          int64              `json:"created_at"`
	Status             string             `json:"status"`
	Background         bool               `json:"background"`
	Error              *responseError     `json:"error"`
	IncompleteDetails  *incompleteDetails `json:"incomplete_details"`
	Instructions       *string            `json:"instructions"`
	MaxOutputTokens    *int64             `json:"max_output_tokens"`
	Model              string             `json:"model"`
	Output             []any              `json:"output"`
	ParallelToolCalls  bool               `json:"parallel_tool_calls"`
	PreviousResponseID *string            `json:"previous_response_id"`
	Reasoning          reasoningConfig    `json:"reasoning"`
	Store              bool               `json:"store"`
	Temperature        float64            `json:"temperature"`
	Text               textConfig         `json:"text"`
	ToolChoice         any                `json:"tool_choice"`
	Tools              []functionTool     `json:"tools"`
	TopP               float64            `json:"top_p"`
	Truncation         string             `json:"truncation"`
	Usage              *usageObject       `json:"usage"`
	User               *string            `json:"user"`
	Metadata           map[string]string  `json:"metadata"`
}

type responseError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type incompleteDetails struct {
	Reason string `json:"reason"`
}

type reasoningConfig struct {
	Effort  *string `json:"effort"`
	Summary *string `json:"summary"`
}

type textConfig struct {
	Format any `json:"format"`
}

type jsonSchemaFormat struct {
	Type   string          `json:"type"`
	Name   string          `json:"name"`
	Schema json.RawMessage `json:"schema"`
	Strict bool            `json:"strict"`
}

type formatType struct {
	Type string `json:"type"`
}

type functionTool struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters"`
	Strict      bool            `json:"strict"`
}

type namedToolChoice struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

type usageObject struct {
	InputTokens        int64 `json:"input_tokens"`
	InputTokensDetails struct {
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokens        int64 `json:"output_tokens"`
	OutputTokensDetails struct {
		ReasoningTokens int64 `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
	TotalTokens int64 `json:"total_tokens"`
}

// messageItem is an output message: the answer's text.
type messageItem struct {
	ID      string       `json:"id"`
	Type    string       `json:"type"`
	Status  string       `json:"status"`
	Role    string       `json:"role"`
	Content []outputText `json:"content"`
}

type outputText struct {
	Type        string `json:"type"`
	Text        string `json:"text"`
	Annotations []any  `json:"annotations"`
	Logprobs    []any  `json:"logprobs"`
}

// reasoningItem is the model's reasoning: a summary and, for sending it
// back, its encrypted content.
type reasoningItem struct {
	ID               string        `json:"id"`
	Type             string        `json:"type"`
	Summary          []summaryText `json:"summary"`
	EncryptedContent string        `json:"encrypted_content,omitempty"`
}

// functionCallItem is a call of a function tool.
type functionCallItem struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Status    string `json:"status"`
	Arguments string `json:"arguments"`
	CallID    string `json:"call_id"`
	Name      string `json:"name"`
}

// EncodeResponse writes resp as a Response object.
func (api) EncodeResponse(req *protocol.Request, resp *protocol.Response) ([]byte, error) {
	obj := newResponseObject(req, resp.ID, resp.Model, resp.Created)
	var msg *messageItem
	for _, p := range resp.Parts {
		if p.Type == protocol.PartText {
			if msg == nil {
				msg = newMessageItem()
				obj.Output = append(obj.Output, msg)
			}
			msg.Content = append(msg.Content, newOutputText(p.Text))
			continue
		}
		msg = nil
		switch p.Type {
		case protocol.PartThinking:
			obj.Output = append(obj.Output, newReasoningItem(p.Text, p.Signature))
		case protocol.PartRedactedThinking:
			obj.Output = append(obj.Output, newReasoningItem("", redactedPrefix+p.Data))
		case protocol.PartToolCall:
			obj.Output = append(obj.Output, newFunctionCallItem(p, "completed"))
		}
	}
	obj.finish(resp.Finish, resp.Usage)
	return json.Marshal(obj)
}

// newResponseObject is the Response object of an answer to req that has
// not yet finished: status in_progress, no output, no usage. It echoes the
// request's settings as the API does, with the API's defaults.
func newResponseObject(req *protocol.Request, id, model string, created int64) *responseObject {
	if created == 0 {
		created = time.Now().Unix()
	}
	if model == "" {
		model = req.Model
	}
	obj := &responseObject{
		ID: responseID(id), Object: "response", CreatedAt: created, Status: "in_progress",
		Model: model, Output: []any{}, ParallelToolCalls: true, Temperature: 1, TopP: 1,
		Text: textConfig{Format: formatType{Type: "text"}}, ToolChoice: "auto",
		Tools: make([]functionTool, 0, len(req.Tools)), Truncation: "disabled", Metadata: map[string]string{},
	}
	if req.ParallelToolCalls != nil {
		obj.ParallelToolCalls = *req.ParallelToolCalls
	}
	if req.Temperature != nil {
		obj.Temperature = *req.Temperature
	}
	if req.TopP != nil {
		obj.TopP = *req.TopP
	}
	if req.MaxTokens > 0 {
		obj.MaxOutputTokens = &req.MaxTokens
	}
	if req.User != "" {
		obj.User = &req.User
	}
	if len(req.System) > 0 {
		texts := make([]string, len(req.System))
		for i, p := range req.System {
			texts[i] = p.Text
		}
		instructions := strings.Join(texts, "\n\n")
		obj.Instructions = &instructions
	}
	if r := req.Reasoning; r != nil {
		effort := r.Effort
		switch {
		case r.Disabled:
			effort = "none"
		case effort == "":
			effort = protocol.BudgetEffort(r.BudgetTokens)
		}
		obj.Reasoning.Effort = &effort
	}
	if f := req.ResponseFormat; f != nil {
		if f.Schema == nil {
			obj.Text.Format = formatType{Type: "json_object"}
		} else {
			obj.Text.Format = jsonSchemaFormat{Type: "json_schema", Name: f.Name, Schema: f.Schema, Strict: f.Strict}
		}
	}
	switch tc := req.ToolChoice; tc.Mode {
	case protocol.ToolNone:
		obj.ToolChoice = "none"
	case protocol.ToolRequired:
		obj.ToolChoice = "required"
	case protocol.ToolNamed:
		obj.ToolChoice = namedToolChoice{Type: "function", Name: tc.Name}
	}
	for _, t := range req.Tools {
		params := t.Parameters
		if params == nil {
			params = json.RawMessage("null")
		}
		obj.Tools = append(obj.Tools, functionTool{Type: "function", Name: t.Name, Description: t.Description, Parameters: params, Strict: t.Strict})
	}
	return obj
}

// finish sets the status the finish reason stands for and the usage.
func (obj *responseObject) finish(f protocol.Finish, u usage.Usage) {
	obj.Status = "completed"
	switch f {
	case protocol.FinishLength:
		obj.Status = "incomplete"
		obj.IncompleteDetails = &incompleteDetails{Reason: "max_output_tokens"}
	case protocol.FinishContentFilter:
		obj.Status = "incomplete"
		obj.IncompleteDetails = &incompleteDetails{Reason: "content_filter"}
	case protocol.FinishError:
		obj.Status = "failed"
		obj.Error = &responseError{Code: "server_error", Message: "the provider ended the answer with an error"}
	}
	if obj.Status != "completed" {
		for _, item := range obj.Output {
			if m, ok := item.(*messageItem); ok {
				m.Status = "incomplete"
			}
		}
	}
	if u.Found {
		obj.Usage = newUsage(u)
	}
}

// event is the stream event that ends the answer with obj's status.
func (obj *responseObject) event() string {
	switch obj.Status {
	case "incomplete":
		return "response.incomplete"
	case "failed":
		return "response.failed"
	}
	return "response.completed"
}

// newUsage is u in the Responses API's terms: input_tokens is the whole
// input, cached_tokens the part read from the cache; output_tokens
// includes reasoning.
func newUsage(u usage.Usage) *usageObject {
	out := &usageObject{InputTokens: u.InputTokens, OutputTokens: u.OutputTokens, TotalTokens: u.InputTokens + u.OutputTokens}
	out.InputTokensDetails.CachedTokens = u.CachedInputTokens
	out.OutputTokensDetails.ReasoningTokens = u.ReasoningTokens
	return out
}

func newMessageItem() *messageItem {
	return &messageItem{ID: newID("msg_"), Type: "message", Status: "completed", Role: "assistant", Content: []outputText{}}
}

func newOutputText(text string) outputText {
	return outputText{Type: "output_text", Text: text, Annotations: []any{}, Logprobs: []any{}}
}

func newReasoningItem(text, encrypted string) *reasoningItem {
	item := &reasoningItem{ID: newID("rs_"), Type: "reasoning", Summary: []summaryText{}, EncryptedContent: encrypted}
	if text != "" {
		item.Summary = append(item.Summary, summaryText{Type: "summary_text", Text: text})
	}
	return item
}

// newFunctionCallItem is the output item of tool call p; its arguments
// are "{}" when the call has none.
func newFunctionCallItem(p protocol.Part, status string) *functionCallItem {
	args := p.Arguments
	if args == "" && status == "completed" {
		args = "{}"
	}
	callID := p.ID
	if callID == "" {
		callID = newID("call_")
	}
	return &functionCallItem{ID: newID("fc_"), Type: "function_call", Status: status, Arguments: args, CallID: callID, Name: p.Name}
}

// responseID is the answer's id in the API's form, "resp_…": the
// provider's id, prefixed when it lacks the prefix, or a new one.
func responseID(id string) string {
	switch {
	case id == "":
		return newID("resp_")
	case strings.HasPrefix(id, "resp_"):
		return id
	}
	return "resp_" + id
}

// newID is prefix followed by 24 random hex digits.
func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// EncodeModels writes OpenAI's model list.
func (api) EncodeModels(ids []string) []byte {
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	list := struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{Object: "list", Data: make([]model, len(ids))}
	for i, id := range ids {
		list.Data[i] = model{ID: id, Object: "model", OwnedBy: "sluice"}
	}
	b, _ := json.Marshal(list)
	return b
}
