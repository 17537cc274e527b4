package proxy

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/changefeed"
	"github.com/sluicehq/sluice/clientkey"
	"github.com/sluicehq/sluice/credentials"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/apistandard"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/ent/usagerecord"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/secrets"
	"github.com/sluicehq/sluice/usagelog"
)

// logBuffer collects log output from concurrent goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// fixture is a proxy over a fresh database, served by an httptest server.
type fixture struct {
	t       testing.TB
	db      *database.DB
	keyring *secrets.Keyring
	feed    changefeed.Feed
	usage   *usagelog.Writer
	proxy   *Proxy
	srv     *httptest.Server
	logs    *logBuffer
	org     *ent.Organization
	// secrets lists every provider key created, for leak checks.
	secrets []string
	// failures are the written records' failure kinds, in order.
	failMu   sync.Mutex
	failures []string
}

type fixtureOption func(*Options)

func newFixture(t testing.TB, db *database.DB, opts ...fixtureOption) *fixture {
	t.Helper()
	master := bytes.Repeat([]byte{7}, 32)
	kr, err := secrets.NewKeyring(master)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, keyring: kr, logs: &logBuffer{}}
	log := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.feed = openFeed(t, db, log)
	f.usage = usagelog.New(db, usagelog.Options{Log: log, Interval: 10 * time.Millisecond, OnWrite: func(batch []usagelog.Record) {
		f.failMu.Lock()
		defer f.failMu.Unlock()
		for _, r := range batch {
			f.failures = append(f.failures, r.Failure)
		}
	}})
	o := Options{DB: db, Keyring: kr, Feed: f.feed, Usage: f.usage, Log: log, LastUsedInterval: 20 * time.Millisecond}
	for _, fn := range opts {
		fn(&o)
	}
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	f.proxy = p
	mux := http.NewServeMux()
	p.Mount(mux)
	f.srv = httptest.NewServer(CanonicalPaths(mux))
	t.Cleanup(func() {
		f.srv.Close()
		p.Close()
		_ = f.usage.Close(context.Background())
		_ = f.feed.Close()
	})
	ctx := context.Background()
	f.org = db.Client.Organization.Create().SetName("Acme").SaveX(ctx)
	return f
}

func openFeed(t testing.TB, db *database.DB, log *slog.Logger) changefeed.Feed {
	t.Helper()
	if db.Dialect != dialect.Postgres {
		return changefeed.NewLocal()
	}
	feed, err := changefeed.NewPostgres(context.Background(), db.SQL, db.DSN, log)
	if err != nil {
		t.Fatal(err)
	}
	return feed
}

// serviceSpec describes a service and its credential for a test.
type serviceSpec struct {
	name     string
	provider string
	baseURL  string
	secret   string // provider key; "" for none
	standard string // API standard handle; "" for the provider's default
	models   []string
}

// addService creates the credential, service and a client key; it
// returns the service and the key's plaintext.
func (f *fixture) addService(s serviceSpec) (*ent.Service, string) {
	f.t.Helper()
	ctx := context.Background()
	c := f.db.Client
	cc := c.ProviderCredential.Create().SetOrganizationID(f.org.ID).SetProvider(s.provider).
		SetAccountKey(s.name).SetDisplayName(s.name).SetBaseURL(s.baseURL)
	if s.standard != "" {
		std := c.APIStandard.Query().Where(apistandard.APIStandardHandle(s.standard)).OnlyX(ctx)
		cc.SetAPIStandardID(std.ID)
	}
	cred := cc.SaveX(ctx)
	if s.secret != "" {
		if err := credentials.SetKey(ctx, f.keyring, c.ProviderCredential.UpdateOneID(cred.ID), cred.ID, s.secret); err != nil {
			f.t.Fatal(err)
		}
		f.secrets = append(f.secrets, s.secret)
	}
	svc := c.Service.Create().SetOrganizationID(f.org.ID).SetServiceName(s.name).SetProvider(s.provider).
		SetCredentialID(cred.ID).SetModelsEnabled(s.models).SaveX(ctx)
	return svc, f.addKey(svc, s.name+"-key", nil)
}

func (f *fixture) addKey(svc *ent.Service, name string, edit func(*ent.APIKeyCreate)) string {
	f.t.Helper()
	g, err := clientkey.New()
	if err != nil {
		f.t.Fatal(err)
	}
	kc := f.db.Client.APIKey.Create().SetOrganizationID(f.org.ID).SetName(name).
		SetKeyHash(g.Hash).SetKeyPrefix(g.Prefix).SetKeyLastFour(g.LastFour)
	if svc != nil {
		kc.SetServiceID(svc.ID)
	}
	if edit != nil {
		edit(kc)
	}
	kc.SaveX(context.Background())
	return g.Plaintext
}

// price sets a model's price in micro-USD per million tokens.
func (f *fixture) price(provider, model string, in, out, cached money.Micros, kind modelprice.Kind) {
	f.t.Helper()
	mc := f.db.Client.ModelPrice.Create().SetProvider(provider).SetModel(model).
		SetInputPerMtok(in).SetOutputPerMtok(out).SetKind(kind).SetMaxOutputTokens(4096).SetDescription(model + " for tests")
	if cached > 0 {
		mc.SetCachedInputPerMtok(cached)
	}
	mc.SaveX(context.Background())
}

// records flushes the usage writer and returns every record, oldest first.
func (f *fixture) records() []*ent.UsageRecord {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.usage.Flush(ctx); err != nil {
		f.t.Fatal(err)
	}
	return f.db.Client.UsageRecord.Query().Order(usagerecord.ByID()).AllX(ctx)
}

// lastRecord is the most recent usage record.
func (f *fixture) lastRecord() *ent.UsageRecord {
	f.t.Helper()
	recs := f.records()
	if len(recs) == 0 {
		f.t.Fatal("no usage record written")
	}
	return recs[len(recs)-1]
}

// lastFailure is the failure kind of the last record written.
func (f *fixture) lastFailure() string {
	f.t.Helper()
	f.lastRecord() // flushes
	f.failMu.Lock()
	defer f.failMu.Unlock()
	return f.failures[len(f.failures)-1]
}

// call sends a request to Sluice and returns the response with its body
// read.
func (f *fixture) call(method, path, key string, body string, header ...string) (*http.Response, string) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp, string(b)
}

// checkNoSecrets fails if a provider key appears in s.
func (f *fixture) checkNoSecrets(where, s string) {
	f.t.Helper()
	for _, sec := range f.secrets {
		if strings.Contains(s, sec) {
			f.t.Errorf("a provider key appears in %s", where)
		}
	}
}

// seen is one request an upstream received.
type seen struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// fakeUpstream is a fake provider: it records each request and answers with
// respond.
type fakeUpstream struct {
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []seen
	respond func(w http.ResponseWriter, r *http.Request, body []byte)
}

func newUpstream(t testing.TB, respond func(w http.ResponseWriter, r *http.Request, body []byte)) *fakeUpstream {
	u := &fakeUpstream{respond: respond}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.reqs = append(u.reqs, seen{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
		u.mu.Unlock()
		u.respond(w, r, body)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *fakeUpstream) last(t testing.TB) seen {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.reqs) == 0 {
		t.Fatal("the upstream received no request")
	}
	return u.reqs[len(u.reqs)-1]
}

func (u *fakeUpstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.reqs)
}

// sseEvents writes events as an SSE stream, flushing each.
func sseEvents(w http.ResponseWriter, events ...string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	for _, ev := range events {
		_, _ = io.WriteString(w, ev)
		w.(http.Flusher).Flush()
	}
}

// answerJSON writes a JSON body with the given extra headers.
func answerJSON(w http.ResponseWriter, status int, body string, header ...string) {
	for i := 0; i+1 < len(header); i += 2 {
		w.Header().Set(header[i], header[i+1])
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}
