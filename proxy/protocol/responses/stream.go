package responses

import (
	"encoding/json"
	"strconv"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/usage"
)

// streamEncoder writes the internal events of one answer as the Responses
// stream: response.created and response.in_progress, then per output item
// its added event, content events and done event, then the response
// carrying the whole answer (response.completed, .incomplete or .failed).
// Consecutive text parts are content parts of one message item; each
// thinking part is a reasoning item with one summary part; each tool call
// a function_call item. Every event is numbered by sequence_number.
type streamEncoder struct {
	req *protocol.Request
	seq int64
	// obj is the answer so far, written whole by the lifecycle events.
	obj *responseObject
	// msg is the open message item, nil between runs of text.
	msg      *messageItem
	msgIndex int
	// open is the type of the part being streamed; ok says one is open.
	open      protocol.PartType
	partOpen  bool
	itemIndex int // output_index of the open part's item
	reasoning *reasoningItem
	call      *functionCallItem
	// text accumulates the open part's text or arguments; sig a thinking
	// part's signature or a redacted part's data.
	text, sig   []byte
	summaryOpen bool
	// usage is the latest usage reported; finished says EventFinish came,
	// done that the closing response was written.
	usage    usage.Usage
	finished bool
	done     bool
	scratch  []byte
}

// Encode appends the Responses events for ev.
func (e *streamEncoder) Encode(dst []byte, ev protocol.Event) []byte {
	if e.done {
		return dst
	}
	if e.obj == nil {
		dst = e.start(dst, ev)
		if ev.Type == protocol.EventStart {
			return dst
		}
	}
	switch ev.Type {
	case protocol.EventPartStart:
		if e.finished {
			return dst
		}
		dst = e.closePart(dst)
		dst = e.openPart(dst, ev.Part)
	case protocol.EventDelta:
		if e.partOpen {
			dst = e.delta(dst, ev.Part)
		}
	case protocol.EventPartEnd:
		dst = e.closePart(dst)
	case protocol.EventFinish:
		if e.finished {
			return dst
		}
		dst = e.closePart(dst)
		dst = e.closeMessage(dst)
		e.finished = true
		e.obj.finish(ev.Finish, usage.Usage{})
		if ev.Usage != nil {
			e.usage = *ev.Usage
			dst = e.complete(dst)
		}
	case protocol.EventUsage:
		if ev.Usage != nil {
			e.usage = *ev.Usage
		}
		if e.finished {
			dst = e.complete(dst)
		}
	}
	return dst
}

// End writes the closing response when it still waits for usage.
func (e *streamEncoder) End(dst []byte) []byte {
	if e.finished && !e.done {
		dst = e.complete(dst)
	}
	return dst
}

// start writes response.created and response.in_progress.
func (e *streamEncoder) start(dst []byte, ev protocol.Event) []byte {
	e.obj = newResponseObject(e.req, ev.ID, ev.Model, 0)
	if ev.Usage != nil {
		e.usage = *ev.Usage
	}
	dst = e.emit(dst, &lifecycleEvent{eventHead: head("response.created"), Response: e.obj})
	return e.emit(dst, &lifecycleEvent{eventHead: head("response.in_progress"), Response: e.obj})
}

// complete writes the closing response with the whole answer and usage.
func (e *streamEncoder) complete(dst []byte) []byte {
	if e.usage.Found {
		e.obj.Usage = newUsage(e.usage)
	}
	e.done = true
	return e.emit(dst, &lifecycleEvent{eventHead: head(e.obj.event()), Response: e.obj})
}

// openPart writes the events that open part p: a new output item, or a
// new content part of the open message item.
func (e *streamEncoder) openPart(dst []byte, p protocol.Part) []byte {
	e.text, e.sig = e.text[:0], e.sig[:0]
	switch p.Type {
	case protocol.PartText:
		if e.msg == nil {
			e.msg = newMessageItem()
			e.msgIndex = len(e.obj.Output)
			e.obj.Output = append(e.obj.Output, e.msg)
			e.msg.Status = "in_progress"
			dst = e.emit(dst, &itemEvent{eventHead: head("response.output_item.added"), OutputIndex: e.msgIndex, Item: e.msg})
		}
		e.msg.Content = append(e.msg.Content, newOutputText(""))
		dst = e.emit(dst, &contentPartEvent{eventHead: head("response.content_part.added"), ItemID: e.msg.ID,
			OutputIndex: e.msgIndex, ContentIndex: len(e.msg.Content) - 1, Part: newOutputText("")})
	case protocol.PartThinking, protocol.PartRedactedThinking:
		dst = e.closeMessage(dst)
		e.reasoning = newReasoningItem("", "")
		e.sig = append(e.sig, p.Data...)
		dst = e.openItem(dst, e.reasoning)
	case protocol.PartToolCall:
		dst = e.closeMessage(dst)
		e.call = newFunctionCallItem(p, "in_progress")
		dst = e.openItem(dst, e.call)
	default:
		// Other content (images) has no place in a Responses answer.
		return dst
	}
	e.open, e.partOpen = p.Type, true
	return dst
}

// openItem appends item to the output and writes its added event.
func (e *streamEncoder) openItem(dst []byte, item any) []byte {
	e.itemIndex = len(e.obj.Output)
	e.obj.Output = append(e.obj.Output, item)
	return e.emit(dst, &itemEvent{eventHead: head("response.output_item.added"), OutputIndex: e.itemIndex, Item: item})
}

// delta writes the open part's delta event.
func (e *streamEncoder) delta(dst []byte, p protocol.Part) []byte {
	switch e.open {
	case protocol.PartText:
		if p.Text == "" {
			return dst
		}
		e.text = append(e.text, p.Text...)
		return e.appendDelta(dst, "response.output_text.delta", e.msg.ID, e.msgIndex, len(e.msg.Content)-1, p.Text)
	case protocol.PartThinking:
		e.sig = append(e.sig, p.Signature...)
		if p.Text == "" {
			return dst
		}
		if !e.summaryOpen {
			e.summaryOpen = true
			dst = e.emit(dst, &summaryPartEvent{eventHead: head("response.reasoning_summary_part.added"), ItemID: e.reasoning.ID,
				OutputIndex: e.itemIndex, Part: summaryText{Type: "summary_text"}})
		}
		e.text = append(e.text, p.Text...)
		return e.appendDelta(dst, "response.reasoning_summary_text.delta", e.reasoning.ID, e.itemIndex, 0, p.Text)
	case protocol.PartRedactedThinking:
		e.sig = append(e.sig, p.Data...)
	case protocol.PartToolCall:
		if p.Arguments == "" {
			return dst
		}
		e.text = append(e.text, p.Arguments...)
		return e.appendDelta(dst, "response.function_call_arguments.delta", e.call.ID, e.itemIndex, -1, p.Arguments)
	}
	return dst
}

// closePart writes the events that close the open part, if any. A text
// part leaves its message item open for the text that may follow.
func (e *streamEncoder) closePart(dst []byte) []byte {
	if !e.partOpen {
		return dst
	}
	e.partOpen = false
	switch e.open {
	case protocol.PartText:
		ci := len(e.msg.Content) - 1
		text := string(e.text)
		e.msg.Content[ci].Text = text
		dst = e.emit(dst, &textDoneEvent{eventHead: head("response.output_text.done"), ItemID: e.msg.ID, OutputIndex: e.msgIndex,
			ContentIndex: ci, Text: text, Logprobs: []any{}})
		return e.emit(dst, &contentPartEvent{eventHead: head("response.content_part.done"), ItemID: e.msg.ID, OutputIndex: e.msgIndex,
			ContentIndex: ci, Part: e.msg.Content[ci]})
	case protocol.PartThinking, protocol.PartRedactedThinking:
		item := e.reasoning
		if e.summaryOpen {
			e.summaryOpen = false
			part := summaryText{Type: "summary_text", Text: string(e.text)}
			item.Summary = append(item.Summary, part)
			dst = e.emit(dst, &summaryTextDoneEvent{eventHead: head("response.reasoning_summary_text.done"), ItemID: item.ID,
				OutputIndex: e.itemIndex, Text: part.Text})
			dst = e.emit(dst, &summaryPartEvent{eventHead: head("response.reasoning_summary_part.done"), ItemID: item.ID,
				OutputIndex: e.itemIndex, Part: part})
		}
		item.EncryptedContent = string(e.sig)
		if e.open == protocol.PartRedactedThinking {
			item.EncryptedContent = redactedPrefix + item.EncryptedContent
		}
		e.reasoning = nil
		return e.emit(dst, &itemEvent{eventHead: head("response.output_item.done"), OutputIndex: e.itemIndex, Item: item})
	case protocol.PartToolCall:
		item := e.call
		item.Arguments, item.Status = string(e.text), "completed"
		if item.Arguments == "" {
			item.Arguments = "{}"
		}
		e.call = nil
		dst = e.emit(dst, &argsDoneEvent{eventHead: head("response.function_call_arguments.done"), ItemID: item.ID,
			OutputIndex: e.itemIndex, Name: item.Name, Arguments: item.Arguments})
		return e.emit(dst, &itemEvent{eventHead: head("response.output_item.done"), OutputIndex: e.itemIndex, Item: item})
	}
	return dst
}

// closeMessage writes the open message item's done event, if one is open.
func (e *streamEncoder) closeMessage(dst []byte) []byte {
	if e.msg == nil {
		return dst
	}
	e.msg.Status = "completed"
	dst = e.emit(dst, &itemEvent{eventHead: head("response.output_item.done"), OutputIndex: e.msgIndex, Item: e.msg})
	e.msg = nil
	return dst
}

// emit writes ev, numbered, as one SSE event named by its type.
func (e *streamEncoder) emit(dst []byte, ev streamEvent) []byte {
	ev.number(e.seq)
	e.seq++
	b, err := json.Marshal(ev)
	if err != nil {
		// Every event is built from strings, numbers and JSON the
		// decoders checked; a failure is a bug, reported in the stream.
		return append(dst, StreamError(500, "server_error", "the gateway could not write an event: "+err.Error())...)
	}
	return protocol.AppendEvent(dst, ev.eventType(), b)
}

// appendDelta writes a delta event by hand: it is the most frequent event
// of a stream. contentIndex < 0 leaves content_index out; the reasoning
// summary delta's summary_index is written in its place.
func (e *streamEncoder) appendDelta(dst []byte, typ, itemID string, outputIndex, contentIndex int, delta string) []byte {
	b := e.scratch[:0]
	b = append(b, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, `","sequence_number":`...)
	b = strconv.AppendInt(b, e.seq, 10)
	e.seq++
	b = append(b, `,"item_id":`...)
	b = protocol.AppendJSONString(b, itemID)
	b = append(b, `,"output_index":`...)
	b = strconv.AppendInt(b, int64(outputIndex), 10)
	switch typ {
	case "response.output_text.delta":
		b = append(b, `,"content_index":`...)
		b = strconv.AppendInt(b, int64(contentIndex), 10)
		b = append(b, `,"logprobs":[]`...)
	case "response.reasoning_summary_text.delta":
		b = append(b, `,"summary_index":`...)
		b = strconv.AppendInt(b, int64(contentIndex), 10)
	}
	b = append(b, `,"delta":`...)
	b = protocol.AppendJSONString(b, delta)
	b = append(b, '}')
	e.scratch = b
	return protocol.AppendEvent(dst, typ, b)
}

// streamEvent is one of the event payloads below: each has its type and
// takes its sequence number when written.
type streamEvent interface {
	eventType() string
	number(seq int64)
}

type eventHead struct {
	Type           string `json:"type"`
	SequenceNumber int64  `json:"sequence_number"`
}

func (h *eventHead) eventType() string { return h.Type }
func (h *eventHead) number(seq int64)  { h.SequenceNumber = seq }

type lifecycleEvent struct {
	eventHead
	Response *responseObject `json:"response"`
}

type itemEvent struct {
	eventHead
	OutputIndex int `json:"output_index"`
	Item        any `json:"item"`
}

type contentPartEvent struct {
	eventHead
	ItemID       string     `json:"item_id"`
	OutputIndex  int        `json:"output_index"`
	ContentIndex int        `json:"content_index"`
	Part         outputText `json:"part"`
}

type textDoneEvent struct {
	eventHead
	ItemID       string `json:"item_id"`
	OutputIndex  int    `json:"output_index"`
	ContentIndex int    `json:"content_index"`
	Text         string `json:"text"`
	Logprobs     []any  `json:"logprobs"`
}

type summaryPartEvent struct {
	eventHead
	ItemID       string      `json:"item_id"`
	OutputIndex  int         `json:"output_index"`
	SummaryIndex int         `json:"summary_index"`
	Part         summaryText `json:"part"`
}

type summaryTextDoneEvent struct {
	eventHead
	ItemID       string `json:"item_id"`
	OutputIndex  int    `json:"output_index"`
	SummaryIndex int    `json:"summary_index"`
	Text         string `json:"text"`
}

type argsDoneEvent struct {
	eventHead
	ItemID      string `json:"item_id"`
	OutputIndex int    `json:"output_index"`
	Name        string `json:"name"`
	Arguments   string `json:"arguments"`
}

func head(typ string) eventHead { return eventHead{Type: typ} }
