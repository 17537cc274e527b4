package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/changefeed"
	"github.com/sluicehq/sluice/clientkey"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/apikey"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestCacheInvalidation: admin changes published on the feed take effect
// on the next request, with no TTL wait.
func TestCacheInvalidation(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, func(o *Options) { o.KeyCacheTTL = time.Hour; o.NegativeCacheTTL = time.Hour })
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { answerJSON(w, 200, openAIChatBody) })
		svc, key := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-CACHE", models: []string{"gpt-test"}})
		chat := `{"model":"gpt-test"}`
		if resp, body := f.call("POST", "/v1/chat/completions", key, chat); resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}

		// Disabled key: refused as soon as the change is published.
		db.Client.APIKey.Update().Where(apikey.KeyHash(clientkey.Hash(key))).SetIsActive(false).ExecX(ctx)
		if resp, _ := f.call("POST", "/v1/chat/completions", key, chat); resp.StatusCode != 200 {
			t.Fatal("the cache was bypassed: a cached key hit the database")
		}
		// Logins ended in the admin API leave the keys cached.
		if err := f.feed.Publish(ctx, changefeed.TopicSessions); err != nil {
			t.Fatal(err)
		}
		if resp, _ := f.call("POST", "/v1/chat/completions", key, chat); resp.StatusCode != 200 {
			t.Fatal("ending a login flushed the key cache")
		}
		if err := f.feed.Publish(ctx, changefeed.TopicAPIKeys); err != nil {
			t.Fatal(err)
		}
		if resp, _ := f.call("POST", "/v1/chat/completions", key, chat); resp.StatusCode != 403 {
			t.Fatalf("disabled key still works after publish: %d", resp.StatusCode)
		}

		// A key refused as unknown works at once after it is created.
		g, _ := clientkey.New()
		if resp, _ := f.call("POST", "/v1/chat/completions", g.Plaintext, chat); resp.StatusCode != 401 {
			t.Fatalf("unknown key: %d", resp.StatusCode)
		}
		db.Client.APIKey.Create().SetOrganizationID(f.org.ID).SetServiceID(svc.ID).SetName("new").
			SetKeyHash(g.Hash).SetKeyPrefix(g.Prefix).SetKeyLastFour(g.LastFour).ExecX(ctx)
		if err := f.feed.Publish(ctx, changefeed.TopicAPIKeys); err != nil {
			t.Fatal(err)
		}
		if resp, body := f.call("POST", "/v1/chat/completions", g.Plaintext, chat); resp.StatusCode != 200 {
			t.Fatalf("new key refused after publish: %d %s", resp.StatusCode, body)
		}

		// A model enabled on the service, a price change: both at once.
		db.Client.Service.UpdateOne(svc).SetModelsEnabled([]string{"gpt-test", "gpt-new"}).ExecX(ctx)
		if err := f.feed.Publish(ctx, changefeed.TopicServices); err != nil {
			t.Fatal(err)
		}
		if resp, body := f.call("POST", "/v1/chat/completions", g.Plaintext, `{"model":"gpt-new"}`); resp.StatusCode != 200 {
			t.Fatalf("newly enabled model refused: %d %s", resp.StatusCode, body)
		}
		f.price("openai", "gpt-new", 1_000_000, 1_000_000, 0, modelprice.KindText)
		if err := f.feed.Publish(ctx, changefeed.TopicPrices); err != nil {
			t.Fatal(err)
		}
		if resp, _ := f.call("POST", "/v1/chat/completions", g.Plaintext, `{"model":"gpt-new"}`); resp.Header.Get("X-Sluice-Cost-USD") != "0.001500" {
			t.Fatalf("new price not applied: cost %q", resp.Header.Get("X-Sluice-Cost-USD"))
		}

		// last_used_at is written off the request path without touching
		// updated_at.
		deadline := time.Now().Add(3 * time.Second)
		for {
			k := db.Client.APIKey.Query().Where(apikey.KeyHash(g.Hash)).OnlyX(ctx)
			if k.LastUsedAt != nil {
				if !k.UpdatedAt.Equal(k.CreatedAt) && k.UpdatedAt.After(*k.LastUsedAt) {
					t.Errorf("updated_at %v moved with last_used_at %v", k.UpdatedAt, *k.LastUsedAt)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("last_used_at never written")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// TestInvalidationAcrossReplicas: two proxies with their own feeds on one
// PostgreSQL database; a key disabled through one is refused by the other
// within a second.
func TestInvalidationAcrossReplicas(t *testing.T) {
	testenv.RequirePostgres(t)
	ctx := context.Background()
	db := testenv.New(t, dialect.Postgres)
	a := newFixture(t, db, func(o *Options) { o.KeyCacheTTL = time.Hour })
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { answerJSON(w, 200, openAIChatBody) })
	_, key := a.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-REPLICA", models: []string{"gpt-test"}})
	// Replica B: its own proxy and feed on the same database and org.
	b := newFixture(t, db, func(o *Options) { o.KeyCacheTTL = time.Hour })
	chat := `{"model":"gpt-test"}`
	for _, f := range []*fixture{a, b} {
		if resp, body := f.call("POST", "/v1/chat/completions", key, chat); resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
	}
	db.Client.APIKey.Update().Where(apikey.KeyHash(clientkey.Hash(key))).SetIsActive(false).ExecX(ctx)
	if err := a.feed.Publish(ctx, changefeed.TopicAPIKeys); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for {
		resp, _ := b.call("POST", "/v1/chat/completions", key, chat)
		if resp.StatusCode == 403 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica B still accepts the disabled key a second later (%d)", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestModelsAndServices: the Sluice-local listings answer from the cache
// in OpenAI's and the /services shapes.
func TestModelsAndServices(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db, func(o *Options) {
			o.Browser = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>dashboard</html>")) })
		})
		f.price("openai", "gpt-test", 1, 1, 0, modelprice.KindText)
		up := newUpstream(t, func(http.ResponseWriter, *http.Request, []byte) {})
		_, key := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-LIST", models: []string{"gpt-test", "gpt-b"}})
		resp, body := f.call("GET", "/v1/models", key, "")
		var list struct {
			Object string
			Data   []struct {
				ID, Object string
				OwnedBy    string `json:"owned_by"`
			}
		}
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &list) != nil || list.Object != "list" || len(list.Data) != 2 ||
			list.Data[0].ID != "gpt-b" || list.Data[1].Object != "model" || list.Data[1].OwnedBy != "openai" {
			t.Errorf("/v1/models: %d %s", resp.StatusCode, body)
		}
		resp, body = f.call("GET", "/services", key, "")
		var svcs servicesAnswer
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &svcs) != nil || len(svcs.Services) != 1 || svcs.Services[0].Name != "oa" ||
			len(svcs.Services[0].Models) != 2 || svcs.Services[0].Models[1].Description != "gpt-test for tests" {
			t.Errorf("/services: %d %s", resp.StatusCode, body)
		}
		if _, body := f.call("GET", "/services", "", "", "Accept", "text/html,application/xhtml+xml"); body != "<html>dashboard</html>" {
			t.Errorf("a browser reloading the dashboard's /services page got %q", body)
		}
		if resp, _ := f.call("GET", "/v1/models", "", ""); resp.StatusCode != 401 {
			t.Errorf("/v1/models without a key: %d", resp.StatusCode)
		}
		if up.count() != 0 {
			t.Error("listing models called the upstream")
		}
	})
}
