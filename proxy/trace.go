package proxy

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluicehq/sluice/traceid"
)

// Tracing: with Options.Tracer set, each proxied request is one server
// span named for its GenAI operation and model, with child spans for the
// key check, the budget reservation, each upstream attempt and the relay
// of a streamed answer. The client's traceparent and tracestate make the
// server span their child, and each attempt sends its own span's
// traceparent upstream. Spans carry names, ids, models, statuses and
// token counts: never a key, a prompt or an answer.
//
// Without a tracer nothing is started and nothing allocated: the client's
// traceparent reaches the upstream unchanged like any other header, and
// its trace id is still recorded on the usage record for correlation.

// Span names of the child spans.
const (
	spanKeyCheck    = "sluice.key_check"
	spanBudget      = "sluice.budget"
	spanAttempt     = "sluice.upstream_attempt"
	spanStreamRelay = "sluice.stream_relay"
)

// Attributes of Sluice's own, beside the semantic conventions'.
const (
	attrRequestID   = attribute.Key("sluice.request_id")
	attrService     = attribute.Key("sluice.service")
	attrKeyName     = attribute.Key("sluice.api_key.name")
	attrAttempt     = attribute.Key("sluice.attempt")
	attrTarget      = attribute.Key("sluice.target.id")
	attrCredential  = attribute.Key("sluice.credential.name")
	attrStreamEvent = attribute.Key("sluice.stream.events")
	attrPartial     = attribute.Key("sluice.partial")
)

var traceContext = propagation.TraceContext{}

// startTrace starts the request's server span, the child of the client's
// traceparent when it sent one; without a tracer it only notes the
// client's trace id.
func (x *exchange) startTrace() {
	tr := x.p.opts.Tracer
	if tr == nil {
		if v := x.r.Header.Get("Traceparent"); v != "" {
			x.traceID, _ = traceid.FromTraceparent(v)
		}
		return
	}
	ctx := traceContext.Extract(x.r.Context(), propagation.HeaderCarrier(x.r.Header))
	ctx, x.span = tr.Start(ctx, "POST "+x.endpoint, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(
			semconv.HTTPRequestMethodPost,
			semconv.HTTPRoute(x.endpoint),
			semconv.GenAIOperationNameKey.String(operationName(x.endpoint)),
			attrRequestID.String(x.reqID),
		))
	x.traceID = traceid.ID(x.span.SpanContext().TraceID())
	x.r = x.r.WithContext(ctx)
}

// maxTracedModel caps the requested model a span keeps.
const maxTracedModel = 256

// endTrace ends the server span with what o says of the request.
func (x *exchange) endTrace(o *outcome) {
	s := x.span
	if s == nil {
		return
	}
	if !s.IsRecording() { // sampled out: nothing to describe
		s.End()
		return
	}
	op := operationName(x.endpoint)
	if x.model != "" {
		// The name, which tracing back ends group spans by, carries only a
		// model the service enables; the attribute keeps what the client
		// asked for, cut to a length a model name never needs.
		if x.modelEnabled {
			s.SetName(op + " " + x.model)
		}
		s.SetAttributes(semconv.GenAIRequestModel(strings.ToValidUTF8(x.model[:min(len(x.model), maxTracedModel)], "")))
	}
	if x.e != nil && x.e.svc != nil {
		s.SetAttributes(attrService.String(x.e.svc.ServiceName), attrKeyName.String(x.e.key.Name))
	}
	if x.provider != "" {
		s.SetAttributes(semconv.GenAIProviderNameKey.String(genAIProvider(x.provider)))
	}
	s.SetAttributes(semconv.HTTPResponseStatusCode(o.status))
	if o.usage.InputTokens != 0 || o.usage.OutputTokens != 0 || o.usage.Found {
		s.SetAttributes(semconv.GenAIUsageInputTokens(int(o.usage.InputTokens)), semconv.GenAIUsageOutputTokens(int(o.usage.OutputTokens)))
	}
	if f := x.facts; f != nil {
		if f.model != "" {
			s.SetAttributes(semconv.GenAIResponseModel(f.model))
		}
		if len(f.finish) > 0 {
			s.SetAttributes(semconv.GenAIResponseFinishReasons(f.finish...))
		}
	}
	if o.streamed {
		s.SetAttributes(attrPartial.Bool(o.partial))
	}
	if o.status >= 400 {
		s.SetAttributes(semconv.ErrorTypeKey.String(errorType(o)))
	}
	if o.status >= 500 || o.broke {
		// A server span's 4xx is the client's error, not the gateway's.
		s.SetStatus(codes.Error, errorType(o))
	}
	s.End()
}

// errorType is a failed request's error.type: its failure kind, else its
// status.
func errorType(o *outcome) string {
	if o.failure != "" {
		return o.failure
	}
	return strconv.Itoa(o.status)
}

// childSpan starts an internal child of the server span; nil without a
// tracer.
func (x *exchange) childSpan(name string) trace.Span {
	if x.span == nil {
		return nil
	}
	_, s := x.p.opts.Tracer.Start(x.r.Context(), name)
	return s
}

// endChild ends a child span, marking it failed with code when aerr is
// a refusal.
func endChild(s trace.Span, aerr *apiError) {
	if s == nil {
		return
	}
	if aerr != nil {
		s.SetAttributes(semconv.ErrorTypeKey.String(aerr.code), semconv.HTTPResponseStatusCode(aerr.status))
		s.SetStatus(codes.Error, aerr.code)
	}
	s.End()
}

// attemptSpan is one upstream attempt's client span; its zero value (no
// tracer) does nothing.
type attemptSpan struct{ s trace.Span }

// startAttempt starts the nth attempt's span below the server span, at t
// (nil: the service's single credential) with model, and returns ctx
// carrying it, for the upstream's traceparent.
func (x *exchange) startAttempt(ctx context.Context, t *target, n int, model string) (context.Context, attemptSpan) {
	if x.span == nil {
		return ctx, attemptSpan{}
	}
	kind := trace.WithSpanKind(trace.SpanKindClient)
	if !x.span.IsRecording() {
		// Sampled out, the span still carries the traceparent upstream;
		// it has nothing to describe.
		ctx, s := x.p.opts.Tracer.Start(ctx, spanAttempt, kind)
		return ctx, attemptSpan{s}
	}
	attrs := []attribute.KeyValue{
		attrAttempt.Int(n),
		semconv.GenAIOperationNameKey.String(operationName(x.endpoint)),
		semconv.GenAIRequestModel(model),
		semconv.GenAIProviderNameKey.String(genAIProvider(x.provider)),
		attrCredential.String(x.up.credName),
		semconv.ServerAddress(x.up.base.Hostname()),
	}
	if t != nil {
		attrs = append(attrs, attrTarget.Int(t.id))
	}
	ctx, s := x.p.opts.Tracer.Start(ctx, spanAttempt, kind, trace.WithAttributes(attrs...))
	return ctx, attemptSpan{s}
}

// answered notes the upstream's status; a status that calls for another
// target, or any 5xx, fails the attempt.
func (a attemptSpan) answered(status int) {
	if a.s == nil {
		return
	}
	a.s.SetAttributes(semconv.HTTPResponseStatusCode(status))
	if status >= 500 || failoverStatus(status) {
		a.s.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(status)))
		a.s.SetStatus(codes.Error, "upstream answered "+strconv.Itoa(status))
	}
}

// failed marks an attempt that got no answer; why is already scrubbed
// of the provider key.
func (a attemptSpan) failed(why string) {
	if a.s == nil {
		return
	}
	a.s.SetAttributes(semconv.ErrorTypeKey.String("unreachable"))
	a.s.SetStatus(codes.Error, why)
}

func (a attemptSpan) end() {
	if a.s != nil {
		a.s.End()
	}
}

// injectTrace sets the upstream request's traceparent (and tracestate)
// to ctx's attempt span, replacing the client's; without a tracer the
// client's pass through.
func (x *exchange) injectTrace(ctx context.Context, h http.Header) {
	if x.span == nil {
		return
	}
	h.Del("Traceparent")
	h.Del("Tracestate")
	traceContext.Inject(ctx, propagation.HeaderCarrier(h))
}

// recording reports whether the server span wants the answer's facts.
func (x *exchange) recording() bool { return x.span != nil && x.span.IsRecording() }

// operationName is the GenAI operation of a proxy route.
func operationName(endpoint string) string {
	switch {
	case strings.HasSuffix(endpoint, "count_tokens"), strings.HasSuffix(endpoint, ":countTokens"):
		return "count_tokens"
	case strings.HasSuffix(endpoint, "/embeddings"), strings.HasSuffix(endpoint, "/embed"),
		strings.HasSuffix(endpoint, ":embedContent"), strings.HasSuffix(endpoint, ":batchEmbedContents"):
		return "embeddings"
	case strings.HasSuffix(endpoint, ":generateContent"), strings.HasSuffix(endpoint, ":streamGenerateContent"):
		return "generate_content"
	case endpoint == "/v1/completions":
		return "text_completion"
	}
	return "chat"
}

// genAIProvider is gen_ai.provider.name of a provider in Sluice's
// catalog: the convention's well-known value where it has one, else the
// catalog's name.
func genAIProvider(name string) string {
	switch name {
	case "google":
		return "gcp.gemini"
	case "mistral":
		return "mistral_ai"
	}
	return name
}

// answerFacts are what the server span says of the answer beyond its
// usage: the model that answered and why it stopped.
type answerFacts struct {
	model  string
	finish []string
}

// factsWire is the members of every provider's answer (or stream event)
// that name the model that answered or why it stopped.
type factsWire struct {
	Model        string          `json:"model"`
	ModelVersion string          `json:"modelVersion"`
	StopReason   string          `json:"stop_reason"`
	FinishReason string          `json:"finish_reason"`
	Choices      []finishWire    `json:"choices"`
	Candidates   []finishWire    `json:"candidates"`
	Message      *factsWire      `json:"message"`  // Anthropic's message_start
	Delta        *factsWire      `json:"delta"`    // Anthropic's message_delta, Cohere's message-end
	Response     *responsesFacts `json:"response"` // the Responses API's events
}

type finishWire struct {
	FinishReason  string `json:"finish_reason"`
	FinishReason2 string `json:"finishReason"`
}

type responsesFacts struct {
	Model             string `json:"model"`
	Status            string `json:"status"`
	IncompleteDetails *struct {
		Reason string `json:"reason"`
	} `json:"incomplete_details"`
}

// observe reads the facts in data, a JSON answer or one stream event's
// data; what is not JSON is passed over. Once the model is known, a
// stream event is decoded only when it names a reason or a status: most
// events (content deltas) carry neither, and decoding each cost a
// streamed span a JSON decode per token.
func (x *exchange) observe(data []byte) {
	if len(data) == 0 || data[0] != '{' {
		return
	}
	if x.facts != nil && x.facts.model != "" && !namesFact(data) {
		return
	}
	var w factsWire
	if json.Unmarshal(data, &w) != nil {
		return
	}
	if x.facts == nil {
		x.facts = &answerFacts{}
	}
	x.facts.take(&w)
}

// namesFact reports whether data may hold a fact besides the model: a
// key ending in "reason" with a string value (finish_reason, stop_reason,
// finishReason, an incomplete response's reason; not OpenAI's
// "finish_reason":null on every chunk), or a "status" (the Responses
// API's).
func namesFact(data []byte) bool {
	if bytes.Contains(data, []byte(`"status"`)) {
		return true
	}
	for rest := data; ; {
		i := bytes.Index(rest, []byte(`eason"`))
		if i < 0 {
			return false
		}
		rest = bytes.TrimLeft(rest[i+len(`eason"`):], " \t\r\n")
		if len(rest) > 0 && rest[0] == ':' {
			if v := bytes.TrimLeft(rest[1:], " \t\r\n"); len(v) > 0 && v[0] == '"' {
				return true
			}
		}
	}
}

func (f *answerFacts) take(w *factsWire) {
	if m := cmp.Or(w.Model, w.ModelVersion); m != "" {
		f.model = m
	}
	for _, r := range []string{w.StopReason, w.FinishReason} {
		f.addFinish(r)
	}
	for _, c := range w.Choices {
		f.addFinish(cmp.Or(c.FinishReason, c.FinishReason2))
	}
	for _, c := range w.Candidates {
		f.addFinish(cmp.Or(c.FinishReason2, c.FinishReason))
	}
	for _, sub := range []*factsWire{w.Message, w.Delta} {
		if sub != nil {
			f.take(sub)
		}
	}
	if r := w.Response; r != nil {
		if r.Model != "" {
			f.model = r.Model
		}
		switch {
		case r.IncompleteDetails != nil && r.IncompleteDetails.Reason != "":
			f.addFinish(r.IncompleteDetails.Reason)
		case r.Status == "completed":
			f.addFinish("stop")
		}
	}
}

// addFinish adds a finish reason once; streams repeat them.
func (f *answerFacts) addFinish(r string) {
	if r == "" {
		return
	}
	if !slices.Contains(f.finish, r) {
		f.finish = append(f.finish, r)
	}
}

// streamSpan is the relay of a streamed answer, below its attempt's span.
type streamSpan struct{ s trace.Span }

func (x *exchange) startStreamSpan(ctx context.Context) streamSpan {
	if x.span == nil {
		return streamSpan{}
	}
	_, s := x.p.opts.Tracer.Start(ctx, spanStreamRelay)
	return streamSpan{s: s}
}

// end ends the relay of events events, which o says how it went.
func (s streamSpan) end(o *outcome, events int) {
	if s.s == nil {
		return
	}
	s.s.SetAttributes(attrStreamEvent.Int(events), attrPartial.Bool(o.partial))
	if o.broke {
		s.s.SetStatus(codes.Error, "the upstream's stream broke off")
	}
	s.s.End()
}
