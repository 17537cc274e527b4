// Package headroom answers "how close is this provider account to its
// rate limits right now", from the provider's own rate-limit windows: it
// calls the provider's zero-cost model-list endpoint with the credential
// and reads the rate-limit headers (a probe), caches the answer for a
// minute, and prefers fresher headers the proxy saw on real traffic when
// there are any (passive capture).
package headroom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/ratelimits"
	"github.com/sluicehq/sluice/upstream"
)

// Source says where an answer's numbers come from.
type Source string

// The sources.
const (
	SourceProbe   Source = "PROBE"   // a call to the model-list endpoint
	SourceTraffic Source = "TRAFFIC" // headers of a request the proxy forwarded
)

// Target is what to probe: a provider account.
type Target struct {
	Provider   string
	AccountKey string
	BaseURL    *string
	Auth       upstream.Auth
}

// Result is one look at a provider account.
type Result struct {
	Provider        string
	AccountKey      string
	CheckedAt       time.Time
	Reachable       bool
	Error           string
	Limits          ratelimits.Snapshot
	Models          []string
	SampleLatencyMs *int
	Source          Source
}

// Prober probes provider accounts and remembers what it and the proxy saw.
type Prober struct {
	HTTP     *http.Client
	CacheTTL time.Duration
	// MinRefresh is the least time between two probes of one credential:
	// a refresh asked for sooner is answered from the last probe, so that
	// no caller can make the gateway call a provider without limit.
	MinRefresh time.Duration
	Now        func() time.Time
	// OnChange is called with a credential whose known limits changed
	// (new traffic headers or a new probe), for live subscriptions.
	OnChange func(credentialID int)

	mu      sync.Mutex
	probes  map[int]Result // by credential
	traffic map[int]Result
	probing map[int]*sync.Mutex
	// probed counts each credential's finished probes: a caller that
	// waited for a probe in flight sees it move and takes that probe's
	// answer, however long the probe took.
	probed map[int]uint64
}

// New returns a prober that connects to providers as outbound says, with a
// 60-second cache, at most one probe of a credential every 10 seconds, and
// a 10-second timeout.
func New(outbound upstream.Policy) *Prober {
	return &Prober{
		HTTP:       upstream.NewClient(outbound, 10*time.Second),
		CacheTTL:   time.Minute,
		MinRefresh: 10 * time.Second,
		Now:        time.Now,
		probes:     map[int]Result{},
		traffic:    map[int]Result{},
		probing:    map[int]*sync.Mutex{},
		probed:     map[int]uint64{},
	}
}

// Observe records rate-limit headers the proxy saw on a response from a
// credential's provider; a snapshot without any is ignored. It is cheap
// and never blocks: the proxy calls it on the request path.
func (p *Prober) Observe(credentialID int, snap ratelimits.Snapshot, at time.Time) {
	if snap.Family == ratelimits.FamilyNone {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.traffic[credentialID] = Result{CheckedAt: at, Reachable: true, Limits: snap, Source: SourceTraffic, Models: []string{}}
	if p.OnChange != nil {
		go p.OnChange(credentialID)
	}
}

// ForCredential answers for a saved credential: from traffic seen in the
// last minute, else from a probe cached for a minute, else a new probe.
// refresh probes unless the last probe is younger than MinRefresh. Probes
// of one credential are coalesced: callers that arrive while one is in
// flight wait for it and share its answer.
func (p *Prober) ForCredential(ctx context.Context, credentialID int, t Target, refresh bool) Result {
	now := p.Now()
	p.mu.Lock()
	lock := p.probing[credentialID]
	if lock == nil {
		lock = &sync.Mutex{}
		p.probing[credentialID] = lock
	}
	if !refresh {
		if tr, ok := p.traffic[credentialID]; ok && now.Sub(tr.CheckedAt) < p.CacheTTL {
			tr.Provider, tr.AccountKey = t.Provider, t.AccountKey
			if pr, ok := p.probes[credentialID]; ok {
				tr.Models = pr.Models
			}
			p.mu.Unlock()
			return tr
		}
	}
	if pr, ok := p.fresh(credentialID, refresh); ok {
		p.mu.Unlock()
		return pr
	}
	seen := p.probed[credentialID]
	p.mu.Unlock()

	// One probe per credential at a time; whoever waited for it takes its
	// answer. Its age does not matter: a probe counts as fresh from its
	// start, and one slower than MinRefresh would otherwise look stale to
	// each waiter in turn, which would probe again, one after another.
	lock.Lock()
	defer lock.Unlock()
	p.mu.Lock()
	pr, ok := p.probes[credentialID]
	if !ok || p.probed[credentialID] == seen {
		pr, ok = p.fresh(credentialID, refresh)
	}
	p.mu.Unlock()
	if ok {
		return pr
	}
	r := p.Probe(ctx, t)
	p.mu.Lock()
	p.probes[credentialID] = r
	p.probed[credentialID]++
	p.mu.Unlock()
	if p.OnChange != nil {
		go p.OnChange(credentialID)
	}
	return r
}

// fresh returns the last probe of a credential if it may answer instead of
// a new one: younger than CacheTTL, or than MinRefresh when refreshing.
// The caller holds p.mu.
func (p *Prober) fresh(credentialID int, refresh bool) (Result, bool) {
	pr, ok := p.probes[credentialID]
	if !ok {
		return Result{}, false
	}
	maxAge := p.CacheTTL
	if refresh {
		maxAge = p.MinRefresh
	}
	return pr, p.Now().Sub(pr.CheckedAt) < maxAge
}

// Forget drops what is known of a credential (after it changed).
func (p *Prober) Forget(credentialID int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.probes, credentialID)
	delete(p.traffic, credentialID)
}

// Probe calls the provider's model-list endpoint and reads the answer. It
// never fails: an unreachable provider, a refused key or a timeout is an
// answer with Reachable false and an Error a person can act on, and never
// one that contains the key.
func (p *Prober) Probe(ctx context.Context, t Target) Result {
	start := p.Now()
	r := Result{Provider: t.Provider, AccountKey: t.AccountKey, CheckedAt: start.UTC(), Source: SourceProbe, Models: []string{},
		Limits: ratelimits.Snapshot{Family: ratelimits.FamilyNone}}
	prov, ok := providers.Lookup(t.Provider)
	if !ok {
		r.Error = fmt.Sprintf("unsupported provider %q", t.Provider)
		return r
	}
	base := upstream.BaseURL(t.Provider, t.BaseURL)
	if base == "" {
		r.Error = "no base URL: set one on the credential"
		return r
	}
	u, err := url.Parse(base + prov.ModelsPath)
	if err != nil {
		r.Error = "the base URL is not valid"
		return r
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		r.Error = "the base URL is not valid"
		return r
	}
	t.Auth.Apply(req.Header, req.URL)
	if prov.Protocol == providers.ProtocolAnthropic {
		req.Header.Set("anthropic-version", "2023-06-01")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := p.HTTP.Do(req)
	if err != nil {
		r.Error = describe(err, upstream.Redact(u))
		return r
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	ms := int(p.Now().Sub(start).Milliseconds())
	r.SampleLatencyMs = &ms
	r.Limits = ratelimits.Parse(resp.Header, p.Now())
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		r.Error = fmt.Sprintf("the provider refused the key (%s); check the key and its permissions", resp.Status)
		return r
	case resp.StatusCode == http.StatusTooManyRequests:
		// Rate limited is reachable: the headers are the point.
		r.Reachable = true
		r.Error = "the provider answered 429: the account is at its rate limit"
		return r
	case resp.StatusCode >= 300:
		r.Error = fmt.Sprintf("the provider answered %s to %s", resp.Status, upstream.Redact(u))
		return r
	}
	r.Reachable = true
	r.Models = modelIDs(body)
	return r
}

// describe turns a transport error into a sentence without the URL's
// query (where a query_param key would be).
func describe(err error, where string) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return fmt.Sprintf("the provider did not answer in time (%s)", where)
	case strings.Contains(err.Error(), "connection refused"):
		return fmt.Sprintf("connection refused by %s", where)
	case strings.Contains(err.Error(), "no such host"):
		return fmt.Sprintf("unknown host in %s", where)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Sprintf("could not reach %s: %v", where, err)
}

// modelIDs reads a model list in any of the providers' shapes: OpenAI and
// Anthropic {"data":[{"id"}]}, Gemini {"models":[{"name":"models/x"}]},
// Cohere {"models":[{"name"}]}.
func modelIDs(body []byte) []string {
	var v struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
		Models []struct {
			Name string `json:"name"`
		} `json:"models"`
	}
	out := []string{}
	if json.Unmarshal(body, &v) != nil {
		return out
	}
	for _, d := range v.Data {
		if d.ID != "" {
			out = append(out, d.ID)
		}
	}
	for _, m := range v.Models {
		if m.Name != "" {
			out = append(out, strings.TrimPrefix(m.Name, "models/"))
		}
	}
	sort.Strings(out)
	return out
}
