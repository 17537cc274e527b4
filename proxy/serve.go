package proxy

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/clientkey"
	"github.com/sluicehq/sluice/ent/schema"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/pricing"
	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/sse"
	"github.com/sluicehq/sluice/proxy/usage"
	"github.com/sluicehq/sluice/ratelimits"
	"github.com/sluicehq/sluice/usagelog"
)

// errStreamIdle is the cause of cancelling an upstream that went quiet.
var errStreamIdle = errors.New("the upstream sent nothing within the stream idle timeout")

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
	// excluded marks the targets (by index) that cannot serve the request:
	// they speak another API than the caller's and it is not translated.
	excluded uint64
	// serviceInfo is the model's price at the service; info is replaced by
	// the price at each attempt's target.
	serviceInfo modelInfo
}

// authenticate finds the request's key and checks everything that does not
// depend on the route: the key is a known, active, unexpired client key of
// an active service. The entry is returned with a refusal too when the key
// is known, so that the refusal can be recorded against it.
func (p *Proxy) authenticate(r *http.Request, now time.Time) (*keyEntry, *apiError) {
	k, ok := clientkey.FromRequest(r)
	if !ok {
		return nil, refuse(http.StatusUnauthorized, "missing_api_key",
			"no API key: send your Sluice key (sk_…) as Authorization: Bearer, x-api-key, x-goog-api-key or ?key=")
	}
	if !clientkey.LooksValid(k) {
		return nil, refuse(http.StatusUnauthorized, "invalid_api_key",
			"invalid API key: Sluice keys start with sk_ and have 46 characters; check that this is not a provider's key or a truncated copy")
	}
	e, err := p.keys.get(r.Context(), clientkey.Hash(k), now)
	if err != nil {
		p.log.Error("client key look-up failed", "err", err)
		return nil, refuse(http.StatusServiceUnavailable, "key_check_unavailable",
			"the gateway could not check the API key (its database did not answer); try again shortly")
	}
	if e == nil {
		return nil, refuse(http.StatusUnauthorized, "invalid_api_key",
			"invalid API key: no such key; it may have been deleted or rotated, ask an admin for the current one")
	}
	key := e.key
	if key.IsManagementKey {
		return nil, refuse(http.StatusForbidden, "management_key",
			fmt.Sprintf("%q is a management key: it works on the admin API (/graphql), not on the proxy; use a client key of a service", key.Name))
	}
	if e.svc == nil {
		return nil, refuse(http.StatusForbidden, "key_without_service",
			fmt.Sprintf("API key %q belongs to no service; create a key for a service", key.Name))
	}
	if !key.IsActive {
		return e, refuse(http.StatusForbidden, "key_disabled",
			fmt.Sprintf("API key %q is disabled; an admin can enable it again", key.Name))
	}
	if key.ExpiresAt != nil && !now.Before(*key.ExpiresAt) {
		return e, refuse(http.StatusUnauthorized, "key_expired",
			fmt.Sprintf("API key %q expired at %s; ask an admin for a new key or a later expiry", key.Name, key.ExpiresAt.UTC().Format(time.RFC3339)))
	}
	if !e.svc.Active {
		return e, refuse(http.StatusForbidden, "service_disabled",
			fmt.Sprintf("service %q is disabled; an admin can enable it again", e.svc.ServiceName))
	}
	p.lastUsed.touch(key.ID, now)
	return e, nil
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
	e, aerr := p.authenticate(r, start)
	x.e = e
	if aerr != nil {
		x.fail(aerr)
		return nil
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
			x.release()
			x.fail(refuse(http.StatusBadRequest, "invalid_json", "the request body is not a JSON object: "+err.Error()))
			return nil
		}
		x.body = body
	}
	f, aerr := parseFields(x.body)
	if aerr != nil {
		x.release()
		x.fail(aerr)
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
func (x *exchange) fail(aerr *apiError) {
	aerr = redacted(x.r, aerr)
	writeError(x.w, x.protocol, aerr)
	x.record(outcome{status: aerr.status, err: aerr.message, priced: true, failure: failureOf(aerr.code)})
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
	e := x.e
	if e == nil || e.svc == nil {
		return
	}
	rec := usagelog.Record{
		CreatedAt: x.start, RequestID: x.reqID,
		OrganizationID: e.key.OrganizationID, ServiceID: e.svc.ID, APIKeyID: e.key.ID, CredentialID: e.credID,
		Attempts: x.attempts,
		Protocol: string(x.protocol), ProviderProtocol: string(x.upProto), Endpoint: x.endpoint, Model: x.model,
		InputTokens: o.usage.InputTokens, OutputTokens: o.usage.OutputTokens, CachedInputTokens: o.usage.CachedInputTokens,
		CacheWriteTokens: o.usage.CacheWriteTokens, CacheWrite1hTokens: o.usage.CacheWrite1hTokens,
		Cost: o.cost, Priced: o.priced, Status: o.status, Error: o.err, Failure: o.failure,
		LatencyUs: time.Since(x.start).Microseconds(), Streamed: o.streamed, Partial: o.partial,
		Spend: o.spend,
	}
	if x.up != nil {
		rec.CredentialID = x.up.credID // the target that answered
	}
	if o.ttfb > 0 {
		us := o.ttfb.Microseconds()
		rec.TTFBUs = &us
	}
	x.p.usage.Add(rec)
}

// costUsage is what pricing needs of the usage a provider reported.
func costUsage(u usage.Usage) pricing.Usage {
	return pricing.Usage{
		InputTokens: u.InputTokens, OutputTokens: u.OutputTokens, CachedInputTokens: u.CachedInputTokens,
		CacheWriteTokens: u.CacheWriteTokens, CacheWrite1hTokens: u.CacheWrite1hTokens,
	}
}

// reserve asks the budget; nil reservation and no error when there is no
// budget or it failed open.
func (x *exchange) reserve() (Reservation, *apiError) {
	b := x.p.budget
	if b == nil {
		return nil, nil
	}
	e := x.e
	res, err := b.Reserve(x.r.Context(), BudgetRequest{
		OrgID: e.key.OrganizationID, OrgName: e.orgName, Key: e.key, Service: e.svc, Model: x.model,
		Amount: x.worst.cost, Unbounded: x.worst.unbounded, EnforceBalance: e.enforceBalance,
	})
	var refusal *Refusal
	switch {
	case errors.As(err, &refusal):
		if refusal.Code == "budget_busy" {
			// Not the client's doing: a window this contended is worth an
			// operator's look (more replicas than its headroom serves well).
			x.p.log.Warn("budget window too contended; refusing the request", "request_id", x.reqID, "err", err)
		}
		return nil, &apiError{status: refusal.Status, code: cmp.Or(refusal.Code, "budget_exceeded"), message: refusal.Message, retryAfter: refusal.RetryAfter}
	case err != nil && x.p.opts.BudgetFailOpen:
		x.p.log.Warn("budget check failed; admitting the request (fail open)", "request_id", x.reqID, "err", err)
		return nil, nil
	case err != nil:
		x.p.log.Error("budget check failed; refusing the request", "request_id", x.reqID, "err", err)
		return nil, refuse(http.StatusServiceUnavailable, "budget_unavailable",
			"the gateway could not check the budget (its database did not answer); try again shortly")
	}
	return res, nil
}

// forward sends the request upstream and relays the answer. A request of
// a routed service may try several targets before the first byte of an
// answer reaches the client; the budget reservation is taken once, before
// the first, and settled to the cost of the answer the client got.
func (x *exchange) forward(path, extraQuery string, stripUsage bool) {
	x.worst = x.dearestWorstCase()
	var res Reservation
	if x.api.op != protocol.OpCountTokens { // counting tokens is free
		var aerr *apiError
		if res, aerr = x.reserve(); aerr != nil {
			x.fail(aerr)
			return
		}
	}
	defer func() {
		// After the record: a JSON answer cut short cannot be ended with
		// an error the client understands, so its connection is dropped,
		// and the client sees the answer incomplete rather than complete.
		if x.cut {
			// What was relayed goes first, so the client sees where it broke.
			_ = http.NewResponseController(x.w).Flush()
			panic(http.ErrAbortHandler)
		}
	}()
	var o outcome
	defer func() {
		if res != nil {
			cost := o.cost
			if !o.priced {
				cost = 0
			}
			var err error
			if o.spend, err = settle(context.WithoutCancel(x.r.Context()), res, cost); err != nil {
				x.p.log.Error("settling a budget reservation failed", "request_id", x.reqID, "err", err)
			}
		}
		x.record(o)
	}()
	if res != nil {
		for _, w := range res.Warnings() {
			x.w.Header().Add("X-Sluice-Budget-Warning", w)
		}
	}

	x.up = &x.e.upstreamConf
	var t *target
	if len(x.e.targets) > 0 {
		if t = x.e.pickTarget(x.excluded, x.p.opts.Now()); t == nil {
			o = x.noTarget()
			return
		}
	}
	tried := x.excluded
	for n := 1; ; n++ {
		if t = x.attempt(t, n, &tried, path, extraQuery, stripUsage, &o); t == nil {
			return
		}
	}
}

// attempt tries the request once, at t (nil: the service's single
// credential). When t failed before anything reached the client and
// another target may be tried, it returns that target; otherwise it has
// answered the client (relayed the answer or the failure) into o and
// returns nil.
func (x *exchange) attempt(t *target, n int, tried *uint64, path, extraQuery string, stripUsage bool, o *outcome) *target {
	model, proto := x.model, x.e.provider.Protocol
	if t != nil {
		*tried |= 1 << t.index
		x.up = &t.upstreamConf
		model, proto = t.upstreamModel(x.model), t.provider.Protocol
		x.info = t.info(x.model, x.serviceInfo)
	}
	if x.api.op == protocol.OpCountTokens && proto != x.protocol {
		if _, ok := providerAdapter(proto, protocol.OpCountTokens); !ok {
			*o = x.countTokensLocally()
			return nil
		}
	}
	call, aerr := x.upstreamCall(proto, model, path, extraQuery)
	if aerr != nil {
		aerr = redacted(x.r, aerr)
		writeError(x.w, x.protocol, aerr)
		*o = outcome{status: aerr.status, err: aerr.message, priced: true}
		return nil
	}
	ctx, cancel := context.WithCancelCause(x.r.Context())
	defer cancel(nil)
	began := time.Now()
	req, err := upstreamRequest(ctx, x.r, proto, x.up, call)
	var resp *http.Response
	if err == nil {
		resp, err = x.p.rt.RoundTrip(req)
	}
	if err != nil {
		if t != nil {
			if next := x.failover(t, n, *tried, 0, began, err, nil); next != nil {
				return next
			}
		}
		*o = x.upstreamFailed(ctx, err)
		return nil
	}
	o.ttfb = time.Since(x.start)
	o.status = resp.StatusCode
	snap := x.p.noteRateLimits(x.up.credID, resp.Header, resp.StatusCode, x.p.opts.Now())
	if t != nil {
		if failoverStatus(resp.StatusCode) {
			if next := x.failover(t, n, *tried, resp.StatusCode, began, nil, &snap); next != nil {
				discard(resp.Body)
				return next
			}
		} else {
			t.health.succeeded()
			x.attempts = append(x.attempts, schema.Attempt{TargetID: t.id, CredentialID: derefID(t.credID),
				Status: resp.StatusCode, LatencyMs: time.Since(began).Milliseconds()})
		}
	}
	rb := newIdleBody(resp.Body, x.p.opts.StreamIdleTimeout, cancel)
	defer rb.Close()
	copyResponseHeaders(x.w.Header(), resp.Header, x.up.secret)
	var answer io.Reader = rb
	if resp.StatusCode >= 300 {
		// Error bodies are where providers echo what they were sent.
		answer = newMaskReader(rb, x.up.secret)
	}
	switch {
	case x.tr != nil:
		x.relayTranslated(ctx, resp, answer, o)
	case isEventStream(resp.Header):
		x.relayStream(ctx, resp.StatusCode, answer, stripUsage, o)
	default:
		x.relayBody(ctx, resp.StatusCode, answer, resp.ContentLength, o)
	}
	if x.api.op == protocol.OpCountTokens && o.status < 300 {
		// Counting tokens is free: nothing was generated or charged.
		o.usage, o.cost, o.partial, o.err = usage.Usage{}, 0, false, ""
	}
	if t != nil && o.broke {
		// Too late for another target, but the next requests avoid it.
		t.health.failed(x.p.opts.Now(), o.err)
		x.attempts[len(x.attempts)-1].Error = o.err
	}
	return nil
}

// failover records a failed attempt at t (status 0 and err for no answer,
// else the status that calls for another target), takes t out of rotation
// for its back-off or rate-limit reset, and returns the next target to
// try: nil when the attempts are used up, the client left, or every other
// target is unavailable.
func (x *exchange) failover(t *target, n int, tried uint64, status int, began time.Time, err error, snap *ratelimits.Snapshot) *target {
	now := x.p.opts.Now()
	a := schema.Attempt{TargetID: t.id, CredentialID: derefID(t.credID), Status: status, LatencyMs: time.Since(began).Milliseconds()}
	switch {
	case err != nil && x.r.Context().Err() != nil:
		// The client left, or the gateway is shutting down: no verdict on
		// the target.
		t.health.release()
		a.Error = "client closed the request before the upstream answered"
		if cutAtShutdown(x.r) {
			a.Error = "cut at gateway shutdown before the upstream answered"
		}
		x.attempts = append(x.attempts, a)
		return nil
	case err != nil:
		a.Error = "could not reach the upstream: " + x.scrub(err)
		t.health.failed(now, a.Error)
	case status == http.StatusTooManyRequests:
		a.Error = "upstream answered 429"
		until := rateLimitReset(*snap, now)
		t.health.rateLimited(until, rateLimitReason+" until "+until.UTC().Format(time.RFC3339))
	default:
		a.Error = "upstream answered " + strconv.Itoa(status)
		t.health.failed(now, a.Error)
	}
	x.attempts = append(x.attempts, a)
	if n >= x.p.opts.MaxAttempts || x.r.Context().Err() != nil {
		return nil
	}
	next := x.e.pickTarget(tried, now)
	if next != nil {
		x.p.log.Info("failing over to another target", "request_id", x.reqID, "service", x.e.svc.ServiceName,
			"from_target", t.id, "to_target", next.id, "reason", a.Error)
	}
	return next
}

// noTarget answers a routed request none of whose targets may be called
// now: 429 when they are all rate-limited, else 503, with Retry-After for
// the first one back.
func (x *exchange) noTarget() outcome {
	wait, limited := x.e.nextAvailable(x.p.opts.Now())
	secs := int64((wait + time.Second - 1) / time.Second)
	aerr := &apiError{status: http.StatusServiceUnavailable, code: "no_healthy_target", retryAfter: wait,
		message: fmt.Sprintf("every target of service %q is backing off after failures; the first is tried again in %d s", x.e.svc.ServiceName, secs)}
	if limited {
		aerr.status, aerr.code = http.StatusTooManyRequests, "upstream_rate_limited"
		aerr.message = fmt.Sprintf("every target of service %q is rate-limited by its provider; the first resets in %d s", x.e.svc.ServiceName, secs)
	}
	writeError(x.w, x.protocol, aerr)
	return outcome{status: aerr.status, err: aerr.message, priced: true, failure: failureOf(aerr.code)}
}

func derefID(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func isEventStream(h http.Header) bool {
	ct := h.Get("Content-Type")
	return len(ct) >= 17 && strings.EqualFold(ct[:17], "text/event-stream")
}

// upstreamFailed answers a request whose upstream could not be reached or
// did not answer in time.
func (x *exchange) upstreamFailed(ctx context.Context, err error) outcome {
	if cutAtShutdown(x.r) {
		msg := "the gateway shut down before the upstream answered; the request was cut and is not charged"
		writeError(x.w, x.protocol, refuse(http.StatusServiceUnavailable, "shutting_down", msg))
		return outcome{status: http.StatusServiceUnavailable, err: msg, priced: true}
	}
	if x.r.Context().Err() != nil {
		// The client left before the upstream answered; nobody to tell.
		return outcome{status: 499, err: "client closed the request before the upstream answered", priced: true}
	}
	status, what, failure := http.StatusBadGateway, "could not reach the upstream provider", FailureUnreachable
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(context.Cause(ctx), errStreamIdle) {
		status, what, failure = http.StatusGatewayTimeout, "the upstream provider did not answer in time", FailureTimeout
	}
	msg := fmt.Sprintf("%s (%s): %s", what, x.up.base.Host, x.scrub(err))
	x.p.log.Warn("upstream request failed", "request_id", x.reqID, "service", x.e.svc.ServiceName, "status", status, "err", x.scrub(err))
	writeError(x.w, x.protocol, refuse(status, "upstream_unavailable", msg))
	return outcome{status: status, err: msg, priced: true, failure: failure}
}

// scrub renders err without anything that could carry the provider key: a
// url.Error repeats the URL, whose query may hold it.
func (x *exchange) scrub(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	s := err.Error()
	if x.up != nil && x.up.secret != "" {
		s = strings.ReplaceAll(s, x.up.secret, "[redacted]")
	}
	return s
}

// relayBody passes a non-streamed answer of size bytes (-1: unknown)
// through. One smaller than MaxResponseBytes, when it fits in the first
// step or the buffer budget has room for it, is held whole so that its
// cost header can precede it; a larger one is relayed as it arrives by
// relayLarge.
func (x *exchange) relayBody(ctx context.Context, status int, body io.Reader, size int64, o *outcome) {
	buf := getBuffer()
	defer putBuffer(buf)
	var held int64
	var whole bool
	var err error
	if size < x.p.opts.MaxResponseBytes {
		held, whole, err = x.holdAnswer(buf, body, size, x.p.opts.MaxResponseBytes)
	}
	defer x.p.bufs.release(held)
	if err != nil {
		// The upstream answered and broke off (or the gateway's shutdown
		// cut it): its tokens were spent, so it is relayed and charged as
		// a cut answer, as one too large to hold would be.
		x.relayLarge(ctx, status, buf.Bytes(), failedReader{err}, o)
		return
	}
	if !whole {
		x.relayLarge(ctx, status, buf.Bytes(), body, o)
		return
	}
	h := x.w.Header()
	o.priced = x.info.priced
	if status < 300 {
		u, err := usage.FromBody(string(x.protocol), buf.Bytes())
		x.meterAnswer(u, err, false, o)
	} else {
		o.err, o.failure = "upstream answered "+strconv.Itoa(status), statusFailure(status)
	}
	if o.priced {
		h.Set("X-Sluice-Cost-USD", usd(o.cost))
	}
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	x.w.WriteHeader(status)
	if _, err := x.w.Write(buf.Bytes()); err != nil {
		o.err = "client went away during the answer"
	}
}

// holdAnswer reads the answer (of size bytes, -1: unknown) into buf a
// step at a time while it is smaller than limit and the buffer
// budget has room; whole reports that buf holds all of it. held is the
// budget taken, to release after buf. The first step (up to bufferStep
// bytes, and one more to see the end) is held without the budget: most
// answers are that small, and the budget, which admits no one while
// anyone waits on it, must not under load strip them of their cost
// header. Each step is read into room grown for it beforehand, so a
// buffer never outgrows limit (and the pool keeps it) on the
// way to finding an answer too large to hold.
func (x *exchange) holdAnswer(buf *bytes.Buffer, body io.Reader, size, limit int64) (held int64, whole bool, err error) {
	if size >= 0 {
		buf.Grow(int(size) + 1) // one allocation, and room to see the end
	}
	for int64(buf.Len()) < limit {
		want := int64(bufferStep)
		if buf.Len() == 0 {
			want++ // the free first step
		} else {
			if !x.p.bufs.tryAcquire(bufferStep) {
				return held, false, nil
			}
			held += bufferStep
		}
		step := int(min(want, limit-int64(buf.Len())))
		buf.Grow(step)
		room := buf.AvailableBuffer()[:step]
		n, err := readFull(body, room)
		buf.Write(room[:n])
		switch {
		case err == io.EOF:
			return held, true, nil
		case err != nil:
			return held, false, err
		}
	}
	return held, false, nil
}

// readFull reads into p until it is full or r ends: io.EOF only at the
// answer's end. Unlike io.ReadFull it passes on io.ErrUnexpectedEOF, with
// which an HTTP body reports an answer cut short, as the failure it is.
func readFull(r io.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// failedReader is an answer whose reading failed with err.
type failedReader struct{ err error }

func (f failedReader) Read([]byte) (int, error) { return 0, f.err }

// relayLarge passes on an answer, whose first bytes are in head, as it
// arrives, while a usage.BodyScanner reads its usage on the way: memory
// stays constant whatever the answer's size. The cost, known only at the
// end, is sent as the trailer X-Sluice-Cost-USD.
func (x *exchange) relayLarge(ctx context.Context, status int, head []byte, body io.Reader, o *outcome) {
	h := x.w.Header()
	h.Del("Content-Length")
	o.priced = x.info.priced
	if o.priced {
		h.Set("Trailer", "X-Sluice-Cost-USD")
	}
	x.w.WriteHeader(status)
	scanner := usage.NewBodyScanner(string(x.protocol))
	relay := func(p []byte) bool {
		_, _ = scanner.Write(p)
		_, err := x.w.Write(p)
		return err == nil
	}
	chunk := copyPool.Get().(*[]byte)
	defer copyPool.Put(chunk)
	clientOK := relay(head)
	var readErr error
	for clientOK {
		n, err := body.Read(*chunk)
		if n > 0 {
			clientOK = relay((*chunk)[:n])
		}
		if err != nil {
			if err != io.EOF {
				readErr = err
			}
			break
		}
	}
	if status < 300 {
		u, err := scanner.Usage()
		x.meterAnswer(u, err, !clientOK || readErr != nil, o)
	} else {
		o.err, o.failure = "upstream answered "+strconv.Itoa(status), statusFailure(status)
	}
	switch {
	case !clientOK:
		o.err = strings.TrimSuffix("client went away during the answer; "+o.err, "; ")
		return
	case readErr != nil && status < 300:
		// Too late for another target or a clean error: the client sees
		// the answer cut short.
		o.broke, o.failure, x.cut = true, FailureStream, true
		what := "the upstream failed during the answer: " + x.scrub(readErr)
		switch {
		case errors.Is(context.Cause(ctx), errStreamIdle):
			what = "the upstream went idle during the answer and was cut"
		case cutAtShutdown(x.r):
			what = "the gateway shut down during the answer and cut it"
		}
		o.err = strings.TrimSuffix(what+"; "+o.err, "; ")
	}
	if o.priced {
		h.Set("X-Sluice-Cost-USD", usd(o.cost))
	}
}

// copyPool holds relayLarge's read buffers.
var copyPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// meterAnswer prices a non-streamed answer's usage as read (u, err). An
// answer whose usage was there but could not be read (a count that is not
// one, members too large to keep), or that was cut before its usage, is
// charged the request's worst case, what its reservation held: the tokens
// were spent. A complete answer that reports no usage, or is not JSON, is
// the upstream's fault and is recorded with no charge, as it says.
func (x *exchange) meterAnswer(u usage.Usage, err error, cut bool, o *outcome) {
	if err == nil && u.Found {
		var note string
		o.usage, o.cost, note = x.charge(u)
		if note != "" {
			o.err, o.partial = note, true
		}
		return
	}
	why := "the answer reported no usage"
	switch {
	case errors.Is(err, usage.ErrUnreadableUsage):
		why = err.Error()
	case cut:
		why = "the answer was cut before its usage"
	case errors.Is(err, usage.ErrInvalidJSON):
		o.err = "could not read usage from the answer: " + err.Error()
		return
	case err != nil:
		why = "usage could not be read: " + err.Error()
	default:
		o.err = why
		return
	}
	o.usage = usage.Usage{InputTokens: x.worst.in, OutputTokens: x.worst.out}
	o.cost = x.worst.cost
	o.partial = true
	o.err = why + "; charged the request's worst case"
}

// relayStream passes an SSE answer through event by event, each flushed as
// soon as its blank line arrives, while a meter reads its usage. The cost,
// known only at the end, is sent as the trailer X-Sluice-Cost-USD.
func (x *exchange) relayStream(ctx context.Context, status int, body io.Reader, stripUsage bool, o *outcome) {
	h := x.w.Header()
	h.Del("Content-Length")
	o.streamed = true
	o.priced = x.info.priced
	if o.priced {
		h.Set("Trailer", "X-Sluice-Cost-USD")
	}
	rc := http.NewResponseController(x.w)
	x.w.WriteHeader(status)
	// The headers leave with the first event, in one write, unless that
	// event is slow to come.
	late := &x.late
	late.start(rc)
	clientGone := x.r.Context().Err() != nil
	rd := readerPool.Get().(*sse.Reader)
	rd.Reset(body)
	defer func() { rd.Reset(nil); readerPool.Put(rd) }()
	meter := usage.NewStreamMeter(string(x.upProto))
	var st *streamTranslator
	if x.tr != nil {
		st = newStreamTranslator(x.tr)
	}
	var upstreamErr error
	unflushed := false
	for !clientGone {
		// Flush before waiting on the upstream, not after every event: each
		// flush is a write to the client's socket, and events that arrived
		// in one read (common under load) can share it. No event waits in
		// the buffer while the relay waits for the next one.
		if unflushed && !rd.Buffered() {
			if err := rc.Flush(); err != nil {
				clientGone = true
				break
			}
			unflushed = false
		}
		ev, err := rd.Next()
		if late != nil {
			// The first event (or the end) is here; the headers go with it
			// unless the timer sent them already.
			clientGone = late.stop() != nil
			late = nil
		}
		if err != nil {
			if err != io.EOF {
				upstreamErr = err
			}
			break
		}
		if clientGone {
			break
		}
		meter.Observe(ev)
		out := ev.Raw
		if st != nil {
			var terr error
			if out, terr = st.translate(ev); terr != nil {
				upstreamErr = terr
			}
		} else if stripUsage && meter.IsUsageOnlyChunk(ev) {
			continue
		}
		if len(out) > 0 {
			if _, err := x.w.Write(out); err != nil {
				clientGone = true
				break
			}
			unflushed = true
		}
		if upstreamErr != nil {
			break
		}
	}
	if st != nil && upstreamErr == nil && !clientGone && !cutAtShutdown(x.r) {
		if st.finished {
			if end := st.end(); len(end) > 0 {
				if _, err := x.w.Write(end); err != nil {
					clientGone = true
				}
				unflushed = true
			}
		} else if x.r.Context().Err() == nil && status < 300 {
			upstreamErr = errors.New("the provider's stream ended before the answer finished")
		}
	}
	if late != nil { // the client left before the loop began
		_ = late.stop()
	}
	if unflushed && !clientGone && rc.Flush() != nil {
		clientGone = true
	}
	u := meter.Usage()
	cut := cutAtShutdown(x.r)
	if x.r.Context().Err() != nil && !cut {
		clientGone = true
	}
	if cut && !clientGone {
		// The upstream read ended because the gateway is shutting down:
		// the client is told why its answer stops here.
		if _, err := x.w.Write(x.streamError(refuse(http.StatusServiceUnavailable, "shutting_down", shutdownMessage))); err == nil {
			_ = rc.Flush()
		}
	} else if upstreamErr != nil && !clientGone && status < 300 {
		// The answer has begun, so no other target may take over: end the
		// stream with an error the client's SDK raises, not a silent cut.
		o.broke = true
		what := "the upstream stream failed after the answer began: " + x.scrub(upstreamErr)
		var ue *protocol.UpstreamError
		switch {
		case errors.Is(context.Cause(ctx), errStreamIdle):
			what = "the upstream stream went idle after the answer began and was cut"
		case errors.As(upstreamErr, &ue):
			what = fmt.Sprintf("the %s provider ended the stream with an error: %s", x.upProto, x.scrub(upstreamErr))
		}
		if _, err := x.w.Write(x.streamError(refuse(http.StatusBadGateway, "upstream_stream_failed", what+"; the answer is incomplete"))); err == nil {
			_ = rc.Flush()
		}
	}
	if status < 300 && meter.Partial() {
		o.partial = true
		if u.InputTokens == 0 {
			u.InputTokens = usage.EstimateInputTokens(x.body)
		}
		switch {
		case cut:
			o.err = "stream cut at gateway shutdown; tokens estimated from what was streamed"
		case meter.Err() != nil:
			o.err = meter.Err().Error() + "; tokens estimated from what was streamed"
		case clientGone:
			o.err = "client disconnected mid-stream; tokens estimated from what was streamed"
		case errors.Is(context.Cause(ctx), errStreamIdle):
			o.err, o.failure = "upstream stream went idle and was cut; tokens estimated from what was streamed", FailureStream
		case upstreamErr != nil:
			o.err, o.failure = "upstream stream failed: "+x.scrub(upstreamErr)+"; tokens estimated from what was streamed", FailureStream
		default:
			o.err = "stream ended without reporting usage; tokens estimated from what was streamed"
		}
	} else if status >= 300 {
		o.err, o.failure = "upstream answered "+strconv.Itoa(status), statusFailure(status)
	}
	var note string
	o.usage, o.cost, note = x.charge(u)
	if note != "" {
		o.partial = true
		o.err = strings.TrimPrefix(o.err+"; "+note, "; ")
	}
	if o.priced && !clientGone {
		h.Set("X-Sluice-Cost-USD", usd(o.cost))
	}
}

// readerPool keeps SSE readers (and their 4 KiB buffers) across streams:
// Reset drops a buffer a huge event grew.
var readerPool = sync.Pool{New: func() any { return sse.NewReader(nil) }}

// headerFlushDelay is how long a stream's response headers may wait for
// its first event, so that both reach the client in one write (one syscall
// and one packet fewer per stream). Upstreams usually send the first event
// with their headers; one that takes longer still has its headers relayed
// this soon after they arrived.
const headerFlushDelay = 10 * time.Millisecond

// lateHeaders flushes a stream's response headers from a timer when the
// first event is slower than headerFlushDelay. The timer and the relay
// never use the ResponseWriter at once: the relay only reads the upstream
// until stop has returned.
type lateHeaders struct {
	mu   sync.Mutex
	rc   *http.ResponseController
	t    *time.Timer
	done bool  // flushed by the timer, or stopped
	err  error // of the timer's flush: the client is gone
}

// start arms the timer. h lives in the exchange, which is on the heap
// anyway, so only the timer is allocated per stream.
func (h *lateHeaders) start(rc *http.ResponseController) {
	h.rc = rc
	h.t = time.AfterFunc(headerFlushDelay, h.fire)
}

func (h *lateHeaders) fire() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.done {
		h.done = true
		h.err = h.rc.Flush()
	}
}

// stop cancels the timer, or waits for its flush to end; the caller owns
// the ResponseWriter again. The error is the timer's failed flush.
func (h *lateHeaders) stop() error {
	h.t.Stop()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.done = true
	return h.err
}

// usd renders micro-USD as a decimal dollar amount with six places.
func usd(m money.Micros) string {
	neg := m < 0
	if neg {
		m = -m
	}
	var buf [32]byte
	b := buf[:0]
	if neg {
		b = append(b, '-')
	}
	b = strconv.AppendInt(b, int64(m/money.PerUSD), 10)
	b = append(b, '.')
	frac := int64(m % money.PerUSD)
	for d := int64(100_000); d > 0; d /= 10 {
		b = append(b, byte('0'+frac/d%10))
	}
	return string(b)
}
