package proxy

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/changefeed"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/providers"
)

func TestApplyDefaults(t *testing.T) {
	defaults := map[string]any{"max_tokens": 100, "temperature": 0.2}
	cases := []struct {
		name      string
		proto     providers.Protocol
		body      string
		overwrite bool
		want      string
	}{
		{"client wins when allowed", providers.ProtocolOpenAI, `{"model":"m","max_tokens":500}`, true,
			`{"max_tokens":500,"model":"m","temperature":0.2}`},
		{"service wins when not allowed", providers.ProtocolOpenAI, `{"model":"m","max_tokens":500}`, false,
			`{"max_tokens":100,"model":"m","temperature":0.2}`},
		{"gemini under generationConfig", providers.ProtocolGemini, `{"contents":[],"generationConfig":{"temperature":1}}`, false,
			`{"contents":[],"generationConfig":{"max_tokens":100,"temperature":0.2}}`},
		{"gemini without generationConfig", providers.ProtocolGemini, `{"contents":[]}`, true,
			`{"contents":[],"generationConfig":{"max_tokens":100,"temperature":0.2}}`},
	}
	for _, c := range cases {
		got, err := applyDefaults(c.proto, []byte(c.body), defaults, c.overwrite)
		if err != nil || string(got) != c.want {
			t.Errorf("%s: %s, %v; want %s", c.name, got, err, c.want)
		}
	}
	for _, bad := range []string{`[1,2]`, `null`, `not json`} {
		if _, err := applyDefaults(providers.ProtocolOpenAI, []byte(bad), defaults, true); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// TestRequestDefaultsReachUpstream: with allowOverwrite off, the service's
// max_tokens replaces the client's in what the upstream receives; with it
// on, the client's stays.
func TestRequestDefaultsReachUpstream(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { answerJSON(w, 200, openAIChatBody) })
		svc, key := f.addService(serviceSpec{name: "d", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-DEFAULTS", models: []string{"gpt-test"}})
		db.Client.Service.UpdateOne(svc).SetRequestDefaults(map[string]any{"max_tokens": 64}).ExecX(ctx)
		if n := db.Client.ProjectSettings.Query().CountX(ctx); n == 0 {
			db.Client.ProjectSettings.Create().SetOrganizationID(f.org.ID).ExecX(ctx)
		}
		for _, c := range []struct {
			overwrite bool
			want      string
		}{{false, `"max_tokens":64`}, {true, `"max_tokens":999`}} {
			db.Client.ProjectSettings.Update().SetAllowOverwrite(c.overwrite).ExecX(ctx)
			f.feed.Publish(ctx, changefeed.TopicSettings)
			if resp, body := f.call("POST", "/v1/chat/completions", key, `{"model":"gpt-test","max_tokens":999}`); resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if got := string(up.last(t).Body); !strings.Contains(got, c.want) {
				t.Errorf("allowOverwrite %v: upstream got %s, want %s", c.overwrite, got, c.want)
			}
		}
	})
}
