package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/sse"
	"github.com/sluicehq/sluice/proxy/usage"
	"github.com/sluicehq/sluice/tokens"
)

// Translation: a caller may reach a provider that speaks another API. Its
// request is decoded once into the internal form (package protocol) by
// the adapter of the caller's API, encoded for each attempt's provider,
// and the answer, stream or error is decoded from the provider's API and
// encoded back into the caller's. A request whose provider speaks the
// caller's API is passed through and never decoded.

// maxErrorBody bounds what is read of a provider's error answer to a
// translated request: its message is re-worded in the caller's shape.
const maxErrorBody = 64 << 10

// maxTranslatedAnswer bounds a complete answer held to be translated: far
// above any chat answer, room for a large batch of embeddings.
const maxTranslatedAnswer = 32 << 20

// translatable reports whether the caller's API can be translated to
// provider protocol p, and why not.
func (x *exchange) translatable(p providers.Protocol) (bool, string) {
	if x.api.client == nil {
		return false, fmt.Sprintf("the gateway does not translate %s %s to other providers' APIs", x.r.Method, x.endpoint)
	}
	if _, ok := providerAdapter(p, x.api.op); !ok && x.api.op != protocol.OpCountTokens {
		// A provider that counts no tokens gets an estimate instead.
		return false, fmt.Sprintf("the %s API has no counterpart of %s", p, x.endpoint)
	}
	return true, ""
}

// decodeForTranslation reads the caller's body into the internal form,
// once, when some upstream of the key's service speaks another API.
// Parameters the internal form cannot carry are refused here, before any
// budget is reserved.
func (x *exchange) decodeForTranslation() *apiError {
	req, err := x.api.client.DecodeRequest(x.api.op, x.body)
	if err != nil {
		return refuse(http.StatusBadRequest, "invalid_request", "the request could not be read for translation: "+err.Error())
	}
	if x.geminiAction != "" {
		req.Model, req.Stream = x.model, x.geminiAction == "streamGenerateContent"
	}
	if len(req.Unknown) > 0 {
		return refuse(http.StatusBadRequest, "untranslatable_parameter", fmt.Sprintf(
			"%s cannot be translated for the provider of service %q, which speaks another API; remove %s or use a service of a provider that speaks the %s API",
			quoteList(req.Unknown), x.e.svc.ServiceName, pronoun(len(req.Unknown)), x.protocol))
	}
	x.req = req
	return nil
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	if len(q) == 1 {
		return "parameter " + q[0]
	}
	return "parameters " + strings.Join(q, ", ")
}

func pronoun(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// preparedCall is the request encoded for one upstream API, model and
// provider, kept for the attempt that sends it.
type preparedCall struct {
	proto           providers.Protocol
	model, provider string
	call            protocol.Call
	req             *protocol.Request // as encoded, with its omissions
	refusal         *apiError
}

// prepare encodes the request for provider p, which knows the model as
// model and prices it as info, once per request: a copy is encoded, so
// that one upstream's omissions and model do not leak into another's.
func (x *exchange) prepare(p providers.Provider, model string, info modelInfo) *preparedCall {
	for _, pc := range x.prepared {
		if pc.proto == p.Protocol && pc.model == model && pc.provider == p.Name {
			return pc
		}
	}
	pc := &preparedCall{proto: p.Protocol, model: model, provider: p.Name}
	x.prepared = append(x.prepared, pc)
	prov, ok := providerAdapter(p.Protocol, x.api.op)
	if !ok {
		return pc // a token count the gateway estimates itself: nothing to send
	}
	req := *x.req
	req.Model, req.Provider = model, p.Name
	// Anthropic requires an output cap: the model's largest at this upstream.
	req.DefaultMaxTokens = int64(info.price.MaxOutputTokens)
	call, err := prov.EncodeRequest(&req)
	var unsupported *protocol.Unsupported
	var bad *protocol.BadRequest
	switch {
	case errors.As(err, &unsupported):
		pc.refusal = refuse(http.StatusBadRequest, "unsupported_parameter", unsupported.Error())
	case errors.As(err, &bad):
		pc.refusal = refuse(http.StatusBadRequest, "invalid_request", bad.Error())
	case err != nil:
		pc.refusal = refuse(http.StatusBadRequest, "invalid_request",
			fmt.Sprintf("the request could not be translated to the %s API: %v", p.Protocol, err))
	default:
		if p.Protocol != providers.ProtocolAnthropic && x.r.Header.Get("Anthropic-Beta") != "" {
			req.Omit("anthropic-beta")
		}
		pc.call, pc.req = call, &req
	}
	return pc
}

// upstreamProvider is the provider of the current attempt's upstream: the
// service's, or that of the target whose credential is being called.
func (x *exchange) upstreamProvider() providers.Provider {
	for _, t := range x.e.targets {
		if &t.upstreamConf == x.up {
			return t.provider
		}
	}
	return x.e.provider
}

// translation is one attempt's translated exchange.
type translation struct {
	req      *protocol.Request // as encoded for the provider
	provider protocol.Provider
	client   protocol.Client
	// pair is "caller->provider", for X-Sluice-Translated.
	pair string
}

// markTranslated names the translation and what it left out in the
// answer's headers.
func (x *exchange) markTranslated(tr *translation) {
	h := x.w.Header()
	h.Set("X-Sluice-Translated", tr.pair)
	if om := tr.req.Omitted(); len(om) > 0 {
		h.Set("X-Sluice-Omitted", strings.Join(om, ", "))
	} else {
		h.Del("X-Sluice-Omitted")
	}
}

// relayTranslated answers a translated attempt: the provider's error, its
// complete answer, or its stream, each in the caller's API.
func (x *exchange) relayTranslated(ctx context.Context, resp *http.Response, body io.Reader, o *outcome) {
	x.markTranslated(x.tr)
	switch {
	case resp.StatusCode >= 300:
		x.relayTranslatedError(resp.StatusCode, body, o)
	case isEventStream(resp.Header):
		x.relayStream(ctx, resp.StatusCode, body, false, o)
	default:
		x.relayTranslatedBody(resp.StatusCode, body, resp.ContentLength, o)
	}
}

// relayTranslatedError re-words a provider's refusal in the caller's
// error shape, keeping its status and the provider's message.
func (x *exchange) relayTranslatedError(status int, body io.Reader, o *outcome) {
	b, _ := io.ReadAll(io.LimitReader(body, maxErrorBody))
	msg := x.tr.provider.ErrorMessage(b)
	if msg == "" {
		msg = strings.TrimSpace(string(b))
		if len(msg) > 512 {
			msg = msg[:512] + "…"
		}
	}
	text := fmt.Sprintf("the %s provider answered %d: %s", x.upProto, status, msg)
	o.priced = true
	o.err, o.failure = "upstream answered "+strconv.Itoa(status), statusFailure(status)
	aerr := refuse(status, "upstream_error", text)
	aerr.relayed = true
	if status == http.StatusTooManyRequests {
		aerr.code = "upstream_rate_limited"
	}
	writeError(x.w, x.protocol, aerr)
}

// relayTranslatedBody translates a complete answer. It must be held whole
// to be translated; one larger than maxTranslatedAnswer (or than the
// buffer budget has room for) is refused with 502 after its usage is read
// from it, since its tokens were spent.
func (x *exchange) relayTranslatedBody(status int, body io.Reader, size int64, o *outcome) {
	buf := getBuffer()
	defer putBuffer(buf)
	held, err := x.holdTranslated(buf, body, size)
	defer x.p.bufs.release(held)
	o.priced = x.info.priced
	if err != nil {
		// The provider answered, so its tokens were spent: they are read
		// from the answer as it goes by, and charged.
		scanner := usage.NewBodyScanner(string(x.upProto))
		_, _ = scanner.Write(buf.Bytes())
		broke := !errors.Is(err, errTooLarge) && !errors.Is(err, errNoRoom)
		if !broke {
			_, cerr := io.Copy(scanner, body)
			broke = cerr != nil
		}
		u, uerr := scanner.Usage()
		x.meterAnswer(u, uerr, broke, o)
		msg := fmt.Sprintf("the %s provider's answer %s", x.upProto, err.Error())
		if broke && !errors.Is(err, errTooLarge) && !errors.Is(err, errNoRoom) {
			msg = fmt.Sprintf("the %s provider's answer broke off: %s", x.upProto, x.scrub(err))
		}
		x.translationFailed(msg, o)
		return
	}
	x.meterTranslated(buf.Bytes(), o)
	if x.recording() {
		x.observe(buf.Bytes())
	}
	resp, err := x.tr.provider.DecodeResponse(x.tr.req, buf.Bytes())
	var out []byte
	if err == nil {
		out, err = x.tr.client.EncodeResponse(x.tr.req, resp)
	}
	if err != nil {
		x.translationFailed(fmt.Sprintf("the %s provider's answer could not be translated: %v", x.upProto, err), o)
		return
	}
	h := x.w.Header()
	h.Set("Content-Type", "application/json")
	if o.priced {
		h.Set("X-Sluice-Cost-USD", o.cost.Decimal())
	}
	h.Set("Content-Length", strconv.Itoa(len(out)))
	x.w.WriteHeader(status)
	if _, err := x.w.Write(out); err != nil {
		o.err = "client went away during the answer"
	}
}

// Why a complete answer could not be held to be translated.
var (
	errTooLarge = fmt.Errorf("is larger than this gateway translates (%d bytes)", maxTranslatedAnswer)
	errNoRoom   = errors.New("could not be held: the gateway's memory for answers stayed full; try again shortly")
)

// holdTranslated reads a complete answer (of size bytes, -1: unknown)
// into buf to translate it. Unlike a passed-through answer, which is
// relayed as it arrives when memory is short, it must be held whole, so
// it waits for room in the buffer budget (as a request body does, up to
// BufferWait) rather than giving up at once. held is the budget taken,
// to release after buf.
func (x *exchange) holdTranslated(buf *bytes.Buffer, body io.Reader, size int64) (held int64, err error) {
	if size > maxTranslatedAnswer {
		return 0, errTooLarge
	}
	for {
		if int64(buf.Len()) >= maxTranslatedAnswer {
			return held, errTooLarge
		}
		if err := x.p.bufs.acquire(x.r.Context(), bufferStep); err != nil {
			return held, errNoRoom
		}
		held += bufferStep
		buf.Grow(bufferStep)
		room := buf.AvailableBuffer()[:bufferStep]
		n, err := readFull(body, room)
		buf.Write(room[:n])
		switch {
		case err == io.EOF:
			return held, nil
		case err != nil:
			return held, err
		}
	}
}

// meterTranslated reads the usage of a complete translated answer from the
// provider's own body. A provider that reports no usage for embeddings
// (Gemini) is charged an estimate of the inputs, marked as such.
func (x *exchange) meterTranslated(body []byte, o *outcome) {
	u, err := usage.FromBody(string(x.upProto), body)
	if err == nil && !u.Found && x.api.op == protocol.OpEmbed {
		u = usage.Usage{Tokens: tokens.Tokens{InputTokens: usage.EstimateInputTokens(x.body)}, Found: true}
		x.meterAnswer(u, nil, false, o)
		o.partial = true
		o.err = strings.TrimPrefix(o.err+"; the provider reports no usage for embeddings: input tokens estimated from the request", "; ")
		return
	}
	x.meterAnswer(u, err, false, o)
}

// translationFailed answers 502 for an answer the gateway received but
// could not pass on; o keeps the charge already metered.
func (x *exchange) translationFailed(msg string, o *outcome) {
	x.p.log.Warn("a translated answer could not be passed on", "request_id", x.reqID, "service", x.e.svc.ServiceName, "err", msg)
	o.status, o.failure, o.broke = http.StatusBadGateway, FailureStream, true
	o.err = strings.TrimPrefix(o.err+"; "+msg, "; ")
	h := x.w.Header()
	h.Del("Content-Length")
	writeError(x.w, x.protocol, refuse(http.StatusBadGateway, "translation_failed", msg))
}

// streamTranslator turns a provider's SSE events into the caller's.
type streamTranslator struct {
	dec      protocol.StreamDecoder
	enc      protocol.StreamEncoder
	events   []protocol.Event
	out      []byte
	finished bool
	// closed is set once the caller's stream was closed with the
	// provider's last event, before the provider's connection ended.
	closed bool
}

func newStreamTranslator(tr *translation) *streamTranslator {
	return &streamTranslator{dec: tr.provider.NewStreamDecoder(tr.req), enc: tr.client.NewStreamEncoder(tr.req)}
}

// translate returns the caller's bytes for one provider event (perhaps
// none), valid until the next call. An error event of the provider comes
// back as *protocol.UpstreamError. The provider's last event, for a
// provider that has one, also closes the caller's stream, so that it goes
// out with the answer's last bytes rather than in a write of its own.
func (s *streamTranslator) translate(ev sse.Event) ([]byte, error) {
	var err error
	s.events, err = s.dec.Decode(s.events[:0], ev)
	s.out = s.out[:0]
	if s.closed {
		return s.out, err
	}
	for _, e := range s.events {
		s.out = s.enc.Encode(s.out, e)
		if e.Type == protocol.EventFinish {
			s.finished = true
		}
	}
	if ender, ok := s.dec.(protocol.StreamEnder); ok && err == nil && s.finished && ender.Ended() {
		s.out = s.enc.End(s.out)
		s.closed = true
	}
	return s.out, err
}

// end returns what closes a finished stream; nothing when the provider's
// last event closed it already.
func (s *streamTranslator) end() []byte {
	if s.closed {
		return nil
	}
	s.out = s.enc.End(s.out[:0])
	return s.out
}

// countTokensLocally answers a token count for a provider that has no
// counting endpoint, from the gateway's estimate of the request body (its
// size over four, the usual ratio of English text), marked as such in
// X-Sluice-Token-Count.
func (x *exchange) countTokensLocally() outcome {
	x.upProto, x.tr = "", nil // no upstream is called
	n := usage.EstimateInputTokens(x.body)
	out, err := x.api.client.EncodeResponse(x.req, &protocol.Response{Model: x.model, InputTokens: n})
	if err != nil {
		aerr := refuse(http.StatusInternalServerError, "translation_failed", "the token count could not be written: "+err.Error())
		writeError(x.w, x.protocol, aerr)
		return outcome{status: aerr.status, err: aerr.message, priced: true}
	}
	h := x.w.Header()
	h.Set("X-Sluice-Token-Count", "estimate")
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(out)))
	x.w.WriteHeader(http.StatusOK)
	_, _ = x.w.Write(out)
	return outcome{status: http.StatusOK, priced: true,
		err: "the provider has no token counting endpoint: the count is the gateway's estimate"}
}

// upstreamCall is what one attempt sends upstream.
type upstreamCall struct {
	path, query string
	// header holds headers the provider's API requires (translated calls).
	header map[string]string
	body   []byte
	// translated calls carry none of the caller's API-specific headers or
	// query parameters: they belong to another API.
	translated bool
}

// upstreamCall builds the attempt's request for an upstream of protocol p
// that knows the model as model: the caller's body (its model mapped)
// when p is the caller's protocol, else its translation.
func (x *exchange) upstreamCall(p providers.Protocol, model, path, query string) (upstreamCall, *apiError) {
	// upProto names the upstream only once a request for it exists: a
	// request refused before any was sent records none.
	x.upProto, x.tr = "", nil
	if p == x.protocol {
		x.upProto = p
		c := upstreamCall{path: path, query: query, body: x.body}
		switch {
		case x.geminiAction != "":
			c.path = "/models/" + url.PathEscape(model) + ":" + x.geminiAction
		case model != x.model:
			b, err := withModel(x.body, model)
			if err != nil {
				return c, refuse(http.StatusBadRequest, "invalid_body", "the model of the request could not be mapped for the upstream: "+err.Error())
			}
			c.body = b
		}
		return c, nil
	}
	pc := x.prepare(x.upstreamProvider(), model, x.info)
	if pc.refusal != nil {
		return upstreamCall{}, pc.refusal
	}
	call, req := pc.call, pc.req
	prov, _ := providerAdapter(p, x.api.op)
	x.upProto = p
	x.tr = &translation{req: req, provider: prov, client: x.api.client, pair: string(x.protocol) + "->" + string(p)}
	return upstreamCall{path: call.Path, query: call.Query, header: call.Header, body: call.Body, translated: true}, nil
}

// checkReachable refuses a request that no upstream of the key's service
// can serve: each speaks another API than the caller's, and the caller's
// is not translated to it. Targets that cannot serve it are marked in
// x.excluded, so that routing passes them over.
func (x *exchange) checkReachable() *apiError {
	e := x.e
	if len(e.targets) == 0 {
		if ok, why := x.reaches(e.provider); !ok {
			return x.wrongProtocol(e.provider, why)
		}
		return nil
	}
	var why string
	for _, t := range e.targets {
		if ok, w := x.reaches(t.provider); !ok {
			x.excluded |= 1 << t.index
			why = w
		}
	}
	if bits.OnesCount64(x.excluded) == len(e.targets) {
		return x.wrongProtocol(e.targets[0].provider, why)
	}
	return nil
}

// reaches reports whether the caller's request can be sent to provider p,
// and why not.
func (x *exchange) reaches(p providers.Provider) (bool, string) {
	if p.Protocol == x.protocol {
		return true, ""
	}
	return x.translatable(p.Protocol)
}

func (x *exchange) wrongProtocol(p providers.Provider, why string) *apiError {
	return refuse(http.StatusNotFound, "wrong_protocol", fmt.Sprintf(
		"this key's service %q uses provider %s, which speaks the %s API, and %s: call %s instead of %s",
		x.e.svc.ServiceName, p.Name, p.Protocol, why, routesOf(p.Protocol), x.r.URL.Path))
}

// passOverTranslated excludes every target that would need a
// translation, and reports whether a target that speaks the caller's API
// is left to serve the request.
func (x *exchange) passOverTranslated() bool {
	for _, t := range x.e.targets {
		if t.provider.Protocol != x.protocol {
			x.excluded |= 1 << t.index
		}
	}
	return bits.OnesCount64(x.excluded) < len(x.e.targets)
}

// translates reports whether some upstream that may serve the request
// speaks another API than the caller.
func (x *exchange) translates() bool {
	e := x.e
	if len(e.targets) == 0 {
		return e.provider.Protocol != x.protocol
	}
	for _, t := range e.targets {
		if x.excluded&(1<<t.index) == 0 && t.provider.Protocol != x.protocol {
			return true
		}
	}
	return false
}

// prepareTranslation decodes the request when an upstream that may serve
// it speaks another API than the caller, and encodes it for each such
// upstream before any budget is reserved: a target that cannot take it
// (a parameter its API lacks) is passed over by routing, and the request
// is refused only when no upstream can serve it, the same way each time.
func (x *exchange) prepareTranslation() *apiError {
	if !x.translates() {
		return nil
	}
	if aerr := x.decodeForTranslation(); aerr != nil {
		// Targets that speak the caller's API may still pass it through.
		if len(x.e.targets) == 0 || !x.passOverTranslated() {
			return aerr
		}
		return nil
	}
	if len(x.e.targets) == 0 {
		return x.prepare(x.e.provider, x.model, x.serviceInfo).refusal
	}
	var first *apiError
	for _, t := range x.e.targets {
		if x.excluded&(1<<t.index) != 0 || t.provider.Protocol == x.protocol {
			continue
		}
		if pc := x.prepare(t.provider, t.upstreamModel(x.model), t.info(x.model, x.serviceInfo)); pc.refusal != nil {
			x.excluded |= 1 << t.index
			if first == nil {
				first = pc.refusal
			}
		}
	}
	if first != nil && bits.OnesCount64(x.excluded) == len(x.e.targets) {
		return first
	}
	return nil
}

// streamError is the event that ends the caller's stream with e.
func (x *exchange) streamError(e *apiError) []byte {
	if x.api.streamError != nil {
		return x.api.streamError(e.status, e.code, e.message)
	}
	return streamError(x.protocol, e)
}
