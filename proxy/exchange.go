package proxy

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/sluicehq/sluice/accesslog"
	"github.com/sluicehq/sluice/bodycapture"
	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/ent/schema"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/usage"
	"github.com/sluicehq/sluice/traceid"
	"github.com/sluicehq/sluice/usagelog"
)

// exchange is one proxied request from key check to usage record.
type exchange struct {
	p *Proxy
	w http.ResponseWriter
	r *http.Request
	// protocol is the caller's API family: its error shape, and the
	// providers its requests pass through to untranslated.
	protocol providers.Protocol
	// api is how the caller's requests are translated for other providers.
	api      clientAPI
	endpoint string
	start    time.Time
	reqID    string
	e        *keyEntry
	model    string
	info     modelInfo
	body     []byte // as forwarded
	bodyBuf  *bytes.Buffer
	// bodyHeld is what the request body holds of the buffer budget.
	bodyHeld int64
	fields   fields
	// geminiAction, set on Gemini routes, puts the model into the
	// upstream path (generateContent or streamGenerateContent).
	geminiAction string
	// up is the upstream of the current attempt: the service's single
	// credential or the chosen target's.
	up *upstreamConf
	// room is what the current attempt's credential said of its provider
	// windows for the model it was asked for; nil without a credential.
	room *headroom
	// attempts lists the tries of a routed request, for its record.
	attempts []schema.Attempt
	// late sends a stream's headers if its first event is slow.
	late lateHeaders
	// worst is the request's worst case, reserved before it is sent; its
	// output cap and input ceiling bound what it is charged.
	worst worstCase
	// cut is set when a non-streamed answer being relayed broke off.
	cut bool
	// upProto is the protocol of the current attempt's upstream.
	upProto providers.Protocol
	// req is the request in the internal form, decoded when some upstream
	// of the service speaks another API than the caller; nil otherwise.
	req *protocol.Request
	// tr is set while the current attempt is translated.
	tr *translation
	// prepared are the request's translations, encoded before its
	// reservation; nil when it is not translated.
	prepared []*preparedCall
	// excluded marks the targets (by index) that cannot serve the request:
	// they speak another API than the caller's and it is not translated.
	excluded uint64
	// serviceInfo is the model's price at the service; info is replaced by
	// the price at each attempt's target.
	serviceInfo modelInfo
	// tried marks the targets (by index) tried so far, and the excluded.
	tried uint64
	// path and extraQuery are the upstream path and query of every
	// attempt; stripUsage drops from a stream the usage-only chunk that the
	// gateway, not the client, asked for.
	path, extraQuery string
	stripUsage       bool

	// provider is the catalog name of the current attempt's provider.
	provider string
	// span is the request's server span; nil when tracing is off.
	span trace.Span
	// traceID is the request's trace id: its span's, else the client's
	// traceparent's; zero when neither.
	traceID traceid.ID
	// facts are what the answer said of its model and finish, read only
	// while the span records.
	facts *answerFacts
	// bodies, when set, is the client's writer keeping a copy of the
	// answer for body capture; nil for a request not captured.
	bodies *bodycapture.Recorder

	// modelEnabled is set once model is found among the service's enabled
	// models: only then may the metrics name it.
	modelEnabled bool
}

// serve handles the fixed-path provider routes.
func (p *Proxy) serve(w http.ResponseWriter, r *http.Request, rt *route) {
	x := p.begin(w, r, rt.protocol, rt.api, rt.path)
	if x == nil {
		return
	}
	defer x.release()
	f := x.fields
	if aerr := x.pickModel(f.Model); aerr != nil {
		x.fail(aerr)
		return
	}
	if aerr := x.prepareTranslation(); aerr != nil {
		x.fail(aerr)
		return
	}
	stripUsage := false
	if rt.includeUsage && f.Stream {
		body, asked, err := withIncludeUsage(x.body, f.StreamOptions)
		if err != nil {
			x.fail(refuse(http.StatusBadRequest, "invalid_stream_options", err.Error()))
			return
		}
		x.body, stripUsage = body, !asked
	}
	x.forward(rt.upstream, "", stripUsage)
}

// serveModelPath handles the paths below a Gemini models prefix: POST
// {model}:{action}, where the model and the method are in the path, and
// GET {model}, one model of the caller's list.
func (p *Proxy) serveModelPath(w http.ResponseWriter, r *http.Request, prefix string) {
	rest := strings.TrimPrefix(r.URL.Path, prefix)
	model, action, hasAction := cutLast(rest, ':')
	if model == "" {
		unknownRoute(w, r)
		return
	}
	if !hasAction && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		p.serveModel(w, r, model)
		return
	}
	api, ok := geminiActions[action]
	if !ok {
		w.Header().Set("X-Request-Id", requestID(r))
		writeRefusal(w, r, providers.ProtocolGemini, refuse(http.StatusNotFound, "unknown_route",
			fmt.Sprintf("Sluice serves %s for Gemini; %s is not one of them", routesOf(providers.ProtocolGemini), r.URL.Path)))
		return
	}
	x := p.begin(w, r, providers.ProtocolGemini, api, prefix+"{model}:"+action)
	if x == nil {
		return
	}
	defer x.release()
	if strings.Contains(model, "/") {
		x.fail(refuse(http.StatusBadRequest, "invalid_model", "the model in the path must be a plain model ID such as gemini-2.0-flash"))
		return
	}
	if aerr := x.pickModel(model); aerr != nil {
		x.fail(aerr)
		return
	}
	x.geminiAction = action // the path is built per attempt: a target may map the model
	if aerr := x.prepareTranslation(); aerr != nil {
		x.fail(aerr)
		return
	}
	extra := ""
	if action == "streamGenerateContent" {
		extra = "alt=sse" // SSE, not a JSON array, so events can be relayed and metered one by one
	}
	x.forward("", extra, false)
}

func cutLast(s string, sep byte) (before, after string, found bool) {
	if i := strings.LastIndexByte(s, sep); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// begin runs the checks common to every provider route and reads the
// body; nil when the request was answered already. The caller must
// release a non-nil exchange.
func (p *Proxy) begin(w http.ResponseWriter, r *http.Request, proto providers.Protocol, api clientAPI, endpoint string) *exchange {
	start := time.Now()
	x := &exchange{p: p, w: w, r: r, protocol: proto, api: api, endpoint: endpoint, start: start, reqID: requestID(r)}
	w.Header().Set("X-Request-Id", x.reqID)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeRefusal(w, r, proto, refuse(http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("%s takes POST, not %s", r.URL.Path, r.Method)))
		return nil
	}
	x.startTrace()
	check := x.childSpan(spanKeyCheck)
	e, aerr := p.authenticate(x.r, start)
	endChild(check, aerr)
	x.e = e
	if aerr != nil {
		x.fail(aerr)
		return nil
	}
	if e.capture != nil && e.capture.Sampled() {
		x.bodies = e.capture.Record(w)
		x.w = x.bodies
	}
	if aerr := x.checkReachable(); aerr != nil {
		x.fail(aerr)
		return nil
	}
	if e.misconfigured != nil {
		x.fail(e.misconfigured)
		return nil
	}
	if aerr := x.readBody(); aerr != nil {
		x.fail(aerr)
		return nil
	}
	if d := e.svc.RequestDefaults; len(d) > 0 {
		body, err := applyDefaults(proto, x.body, d, e.allowOverwrite)
		if err != nil {
			x.fail(refuse(http.StatusBadRequest, "invalid_json", "the request body is not a JSON object: "+err.Error()))
			x.release()
			return nil
		}
		x.body = body
	}
	f, aerr := parseFields(x.body)
	if aerr != nil {
		x.fail(aerr)
		x.release()
		return nil
	}
	x.fields = f
	return x
}

// readBody reads the request body into a pooled buffer; release returns it
// and its share of the buffer budget.
func (x *exchange) readBody() *apiError {
	buf := getBuffer()
	held, aerr := readBody(x.w, x.r, buf, x.p.opts.MaxBodyBytes, x.p.bufs)
	if aerr != nil {
		putBuffer(buf)
		x.p.bufs.release(held)
		return aerr
	}
	// Hold budget for the bytes kept, not the last step's room: a request
	// keeps its body until its answer (perhaps a long stream) ends.
	x.p.bufs.release(held - int64(buf.Len()))
	x.body, x.bodyBuf, x.bodyHeld = buf.Bytes(), buf, int64(buf.Len())
	return nil
}

func (x *exchange) release() {
	if x.bodyBuf != nil {
		putBuffer(x.bodyBuf)
		x.bodyBuf = nil
		x.p.bufs.release(x.bodyHeld)
		x.bodyHeld = 0
	}
}

// pickModel checks the requested model against the service's allow-list.
func (x *exchange) pickModel(model string) *apiError {
	if aerr := checkModel(model); aerr != nil {
		return aerr
	}
	x.model = model
	info, ok := x.e.models[model]
	if !ok {
		return refuse(http.StatusForbidden, "model_not_enabled", notEnabled(model, x.e))
	}
	x.modelEnabled = true
	x.info, x.serviceInfo = info, info
	return nil
}

func notEnabled(model string, e *keyEntry) string {
	if len(e.enabled) == 0 {
		return fmt.Sprintf("model %q is not enabled: service %q has no models enabled; an admin must enable some", model, e.svc.ServiceName)
	}
	list := e.enabled
	more := ""
	if len(list) > 20 {
		more = fmt.Sprintf(" and %d more (see GET /v1/models)", len(list)-20)
		list = list[:20]
	}
	return fmt.Sprintf("model %q is not enabled for service %q; enabled: %s%s", model, e.svc.ServiceName, strings.Join(list, ", "), more)
}

// fail answers aerr and records the refusal when a key and service are
// known.
func (x *exchange) fail(aerr *apiError) { x.failReserved(aerr, nil) }

// failReserved is fail for a request whose budget reservation res (nil:
// none) was taken: nothing went upstream, so it goes back whole.
func (x *exchange) failReserved(aerr *apiError, res Reservation) {
	aerr = redacted(x.r, aerr)
	writeError(x.w, x.protocol, aerr)
	o := outcome{status: aerr.status, err: aerr.message, priced: true, failure: failureOf(aerr.code)}
	o.spend = x.settleBudget(res, outcome{priced: true})
	x.record(o)
}

// outcome is what happened to a request, for its usage record.
type outcome struct {
	status   int
	usage    usage.Usage
	cost     money.Micros
	priced   bool
	ttfb     time.Duration
	streamed bool
	partial  bool
	err      string
	// failure classifies a failed request (Failure*) for the metrics.
	failure string
	// broke is set when the upstream failed after the answer had begun.
	broke bool
	// spend is the settled budget spend the record carries to the database.
	spend *budget.Settlement
}

func (x *exchange) record(o outcome) {
	x.endTrace(&o)
	e := x.e
	if e == nil || e.svc == nil {
		return
	}
	rec := usagelog.Record{
		CreatedAt: x.start, RequestID: x.reqID,
		OrganizationID: e.key.OrganizationID, ServiceID: e.svc.ID, APIKeyID: e.key.ID, CredentialID: e.credID,
		Attempts: x.attempts,
		Protocol: string(x.protocol), ProviderProtocol: string(x.upProto), Endpoint: x.endpoint, Model: x.model, ModelEnabled: x.modelEnabled,
		Tokens: o.usage.Tokens, Cost: o.cost, Priced: o.priced, Status: o.status, Error: o.err, Failure: o.failure,
		LatencyUs: time.Since(x.start).Microseconds(), Streamed: o.streamed, Partial: o.partial,
		Spend: o.spend, TraceID: x.traceID,
	}
	if x.up != nil {
		rec.CredentialID = x.up.credID // the target that answered
	}
	if o.ttfb > 0 {
		us := o.ttfb.Microseconds()
		rec.TTFBUs = &us
	}
	if a := x.p.opts.AccessLog; a != nil {
		a.Add(accessEntry(&rec, e))
	}
	x.p.usage.Add(rec)
	if x.bodies != nil {
		x.captureBodies(o.status)
	}
}

// captureBodies hands the request's bodies to the capture writer when its
// service's policy keeps a request answered status: the request body as
// the client sent it (before defaults or translation), the answer as
// relayed.
func (x *exchange) captureBodies(status int) {
	var body []byte
	if x.bodyBuf != nil {
		body = x.bodyBuf.Bytes()
	}
	c, ok := x.bodies.Capture(bodycapture.Request{
		CreatedAt: x.start, RequestID: x.reqID, OrganizationID: x.e.key.OrganizationID, ServiceID: x.e.svc.ID,
		Status: status, Body: body,
	})
	if ok {
		x.p.opts.Bodies.Add(c)
	}
}

// accessEntry is the access log's line of a record: names where the
// record has ids, and nothing it does not say.
func accessEntry(rec *usagelog.Record, e *keyEntry) accesslog.Entry {
	a := accesslog.Entry{
		At: rec.CreatedAt, RequestID: rec.RequestID, TraceID: rec.TraceID, OrganizationID: rec.OrganizationID,
		Service: e.svc.ServiceName, Key: e.key.Name,
		Protocol: rec.Protocol, Endpoint: rec.Endpoint, Model: rec.Model, Status: rec.Status, Failure: rec.Failure,
		Tokens: rec.Tokens, Cost: rec.Cost, Priced: rec.Priced,
		Latency: time.Duration(rec.LatencyUs) * time.Microsecond, Streamed: rec.Streamed, Partial: rec.Partial,
	}
	if rec.TTFBUs != nil {
		a.TTFB = time.Duration(*rec.TTFBUs) * time.Microsecond
	}
	return a
}
