package graph_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/clientkey"
	"github.com/sluicehq/sluice/credentials"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/apikey"
	"github.com/sluicehq/sluice/ent/auditevent"
	"github.com/sluicehq/sluice/ent/providercredential"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestResourceRules: each rule of seeds 000–004 answers with its code and
// a message that says what is wrong, and changes nothing.
func TestResourceRules(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		f := makeFixtures(t, h)
		n := strings.TrimPrefix(f.unique, "x")
		cases := []struct {
			name, query string
			vars        map[string]any
			code, msg   string
		}{
			{"standard: bad key method", `mutation { createAPIStandard(input: {apiStandardHandle: "z", description: "d", keyMethod: "basic", keyField: "X"}) { id } }`, nil,
				"BAD_USER_INPUT", "auth_bearer, auth_apikey, query_param, none"},
			{"standard: key field missing", `mutation { createAPIStandard(input: {apiStandardHandle: "z", description: "d", keyMethod: "auth_apikey"}) { id } }`, nil,
				"BAD_USER_INPUT", "keyField is required"},
			{"standard: duplicate handle", `mutation { createAPIStandard(input: {apiStandardHandle: "openai", description: "d", keyMethod: "none"}) { id } }`, nil,
				"CONFLICT", `"openai" already exists`},
			{"standard: put with another handle", `mutation { putAPIStandard(handle: "a", input: {apiStandardHandle: "b", description: "d", keyMethod: "none"}) { id } }`, nil,
				"BAD_USER_INPUT", "differs"},
			{"standard: update unknown", `mutation { updateAPIStandard(handle: "nope", input: {description: "d"}) { id } }`, nil, "NOT_FOUND", "nope"},
			{"credential: unknown provider", `mutation { createProviderCredential(input: {provider: "acme", accountKey: "a"}) { id } }`, nil,
				"BAD_USER_INPUT", "supported: anthropic, cohere, custom, deepseek, google, groq, mistral, ollama, openai, openrouter, together"},
			{"credential: duplicate", `mutation { createProviderCredential(input: {provider: "openai", accountKey: "acct-` + n + `"}) { id } }`, nil,
				"CONFLICT", `credential with account key "acct-` + n + `" already exists`},
			{"credential: custom without base URL", `mutation { createProviderCredential(input: {provider: "custom", accountKey: "c"}) { id } }`, nil,
				"BAD_USER_INPUT", "baseUrl is required"},
			{"credential: base URL with credentials", `mutation { createProviderCredential(input: {provider: "openai", accountKey: "c", baseUrl: "https://u:p@api.example.com/v1"}) { id } }`, nil,
				"BAD_USER_INPUT", "baseUrl"},
			{"credential: base URL not http", `mutation { createProviderCredential(input: {provider: "openai", accountKey: "c", baseUrl: "file:///etc/passwd"}) { id } }`, nil,
				"BAD_USER_INPUT", "baseUrl"},
			{"credential: unknown standard", `mutation { createProviderCredential(input: {provider: "openai", accountKey: "c", apiStandardHandle: "nope"}) { id } }`, nil,
				"BAD_USER_INPUT", `no API standard "nope"`},
			{"credential: delete while used", `mutation($id: ID!) { deleteProviderCredential(id: $id) }`, nil, "CONFLICT", "used by 1 service"},
			{"service: unknown model", `mutation { createService(input: {serviceName: "s", provider: "openai", modelsEnabled: ["gpt-9-ultra"]}) { id } }`, nil,
				"BAD_USER_INPUT", `no openai model "gpt-9-ultra"`},
			{"service: warn above block", `mutation { createService(input: {serviceName: "s", provider: "openai", modelsEnabled: [], limitCostHourWarn: 10, limitCostHourBlock: 5}) { id } }`, nil,
				"BAD_USER_INPUT", "limitCostHourWarn ($10.00) is above limitCostHourBlock ($5.00)"},
			{"service: hour block above day block", `mutation { createService(input: {serviceName: "s", provider: "openai", modelsEnabled: [], limitCostHourBlock: 10, limitCostDayBlock: 5}) { id } }`, nil,
				"BAD_USER_INPUT", "limitCostHourBlock ($10.00) is above limitCostDayBlock ($5.00)"},
			{"service: negative limit", `mutation { createService(input: {serviceName: "s", provider: "openai", modelsEnabled: [], limitCostDayBlock: -1}) { id } }`, nil,
				"BAD_USER_INPUT", "negative"},
			{"service: duplicate name", `mutation { createService(input: {serviceName: "svc-` + n + `", provider: "openai", modelsEnabled: []}) { id } }`, nil,
				"CONFLICT", `service named "svc-` + n + `" already exists`},
			{"service: credential of another provider", `mutation($id: ID!) { createService(input: {serviceName: "s", provider: "anthropic", modelsEnabled: [], credentialId: $id}) { id } }`, nil,
				"BAD_USER_INPUT", "is for openai, not anthropic"},
			{"service: model with path characters", `mutation { createService(input: {serviceName: "s", provider: "custom", baseUrl: "https://x.example/v1", allowUnpricedModels: true, modelsEnabled: ["../admin"]}) { id } }`, nil,
				"BAD_USER_INPUT", "not a valid model name"},
			{"service: model with a percent escape", `mutation { createService(input: {serviceName: "s", provider: "custom", baseUrl: "https://x.example/v1", allowUnpricedModels: true, modelsEnabled: ["gpt%2F4o"]}) { id } }`, nil,
				"BAD_USER_INPUT", "not a valid model name: the model name contains a character not allowed"},
			{"service: model with a quote", `mutation { createService(input: {serviceName: "s", provider: "custom", baseUrl: "https://x.example/v1", allowUnpricedModels: true, modelsEnabled: ["gpt\"4o"]}) { id } }`, nil,
				"BAD_USER_INPUT", "not a valid model name"},
			{"key: no service", `mutation { createAPIKey(input: {name: "k"}) { key } }`, nil, "BAD_USER_INPUT", "serviceId is required"},
			{"key: expiry in the past", `mutation($id: ID!) { createAPIKey(input: {name: "k", serviceId: $id, expiresAt: "2020-01-01T00:00:00Z"}) { key } }`, nil,
				"BAD_USER_INPUT", "in the past"},
			{"key: duplicate name", `mutation($id: ID!) { createAPIKey(input: {name: "key-` + n + `", serviceId: $id}) { key } }`, nil, "CONFLICT", `"key-` + n + `" already exists`},
			{"key: delete unknown", `mutation { deleteAPIKey(name: "nope") }`, nil, "NOT_FOUND", "nope"},
			{"price: duplicate", `mutation { createModelPrice(input: {provider: "openai", model: "gpt-4o", inputPerMtok: 1, outputPerMtok: 1}) { id } }`, nil,
				"CONFLICT", "already has a price"},
			{"settings: bad webhook", `mutation { updateProjectSettings(input: {alertWebhookUrl: "ftp://x"}) { allowOverwrite } }`, nil, "BAD_USER_INPUT", "alertWebhookUrl"},
		}
		// Link the fixture credential to the fixture service (delete-while-used).
		h.client.Service.UpdateOneID(f.serviceID).SetCredentialID(f.credentialID).ExecX(context.Background())
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := h.counts()
				vars := c.vars
				if vars == nil && strings.Contains(c.query, "$id") {
					id := f.serviceID
					if strings.Contains(c.query, "Credential") || strings.Contains(c.query, "credentialId") {
						id = f.credentialID
					}
					vars = map[string]any{"id": id}
				}
				res := h.as(admin, c.query, vars)
				if len(res.Errors) == 0 {
					t.Fatalf("no error: %s", res.raw)
				}
				if c.code != "" && res.code() != c.code {
					t.Fatalf("code %q, want %q: %s", res.code(), c.code, res.raw)
				}
				if !strings.Contains(res.Errors[0].Message, c.msg) {
					t.Fatalf("message %q does not contain %q", res.Errors[0].Message, c.msg)
				}
				if after := h.counts(); after != before {
					t.Fatalf("a refused mutation changed the database: %v → %v", before, after)
				}
			})
		}
		_ = f
	})
}

// counts is a fingerprint of the resource tables, to check that refused
// mutations change nothing.
func (h *harness) counts() [6]int {
	ctx := context.Background()
	return [6]int{
		h.client.APIStandard.Query().CountX(ctx), h.client.ProviderCredential.Query().CountX(ctx),
		h.client.Service.Query().CountX(ctx), h.client.APIKey.Query().CountX(ctx),
		h.client.ModelPrice.Query().CountX(ctx), h.client.SpendWindow.Query().CountX(ctx),
	}
}

// TestProviderKeyNeverLeaves creates a credential and a service with provider
// keys, reads everything that can reach them, the audit log and the server
// log, and finds no 8-character piece of either key; the database holds only
// ciphertext, which opens to the key.
func TestProviderKeyNeverLeaves(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		credKey := "sk-proj-CREDSECRETabcdefghijklmnop0123456789"
		svcKey := "AIzaSyServiceSecretKey0123456789abcdefg"
		cred := h.as(admin, `mutation($k: String!) { createProviderCredential(input: {provider: "openai", accountKey: "main", providerApiKey: $k}) { id apiKeyLastFour hasApiKey } }`,
			map[string]any{"k": credKey}).ok(t)
		if cred.str("createProviderCredential.apiKeyLastFour") != "6789" || cred.get("createProviderCredential.hasApiKey") != true {
			t.Fatalf("credential answer: %s", cred.raw)
		}
		h.as(admin, `mutation($k: String!) { createService(input: {serviceName: "gem", provider: "google", modelsEnabled: ["gemini-2.0-flash"], providerApiKey: $k}) { id } }`,
			map[string]any{"k": svcKey}).ok(t)
		h.as(admin, `mutation($id: ID!, $k: String!) { updateProviderCredential(id: $id, input: {providerApiKey: $k}) { id } }`,
			map[string]any{"id": cred.get("createProviderCredential.id"), "k": credKey + "X"}).ok(t)

		var seen strings.Builder
		for _, role := range []string{admin, member, mgmtKey} {
			for _, q := range []string{
				`{ providerCredentials { edges { node { id provider accountKey displayName apiKeyLastFour hasApiKey baseUrl active apiStandardHandle apiStandard { apiStandardHandle } services { edges { node { serviceName } } } } } } }`,
				`{ services { edges { node { id serviceName provider modelsEnabled credential { id displayName apiKeyLastFour } } } } }`,
				`{ auditEvents { edges { node { action targetName changes { field value } error } } } }`,
			} {
				seen.WriteString(h.as(role, q, nil).raw)
			}
		}
		seen.WriteString(h.logs.String())
		out := seen.String()
		for _, key := range []string{credKey, credKey + "X", svcKey} {
			for i := 0; i+8 <= len(key); i++ {
				if strings.Contains(out, key[i:i+8]) {
					t.Fatalf("a piece of a provider key (%q) reached a response or log", key[i:i+8])
				}
			}
		}
		if !strings.Contains(out, `"providerApiKey","value":"changed"`) && !strings.Contains(out, `"field":"input.providerApiKey","value":"changed"`) {
			t.Fatalf("the audit log does not record the provider key as changed")
		}
		// A refused base URL with a password is audited without it.
		h.as(admin, `mutation { createProviderCredential(input: {provider: "openai", accountKey: "u", baseUrl: "https://user:hunter2secret@api.example.com/v1"}) { id } }`, nil).wantCode(t, "BAD_USER_INPUT")
		if audit := h.as(admin, `{ auditEvents { edges { node { changes { value } } } } }`, nil).ok(t); strings.Contains(audit.raw, "hunter2secret") {
			t.Fatal("a password in a refused base URL reached the audit log")
		}
		rows := h.client.ProviderCredential.Query().Where(providercredential.OrganizationID(h.org.ID)).AllX(context.Background())
		opened := 0
		for _, r := range rows {
			if r.APIKeyCiphertext == nil {
				continue
			}
			if strings.Contains(string(*r.APIKeyCiphertext), "SECRET") || strings.Contains(string(*r.APIKeyCiphertext), "Secret") {
				t.Fatal("the database row holds the key in clear")
			}
			k, err := credentials.Key(h.keyring, r)
			if err != nil {
				t.Fatal(err)
			}
			if k != credKey+"X" && k != svcKey {
				t.Fatalf("ciphertext opens to %d chars that are not a stored key", len(k))
			}
			opened++
		}
		if opened != 2 {
			t.Fatalf("opened %d stored keys, want 2", opened)
		}
		// providerApiKey "" clears the key.
		res := h.as(admin, `mutation($id: ID!) { updateProviderCredential(id: $id, input: {providerApiKey: ""}) { hasApiKey apiKeyLastFour } }`,
			map[string]any{"id": cred.get("createProviderCredential.id")}).ok(t)
		if res.get("updateProviderCredential.hasApiKey") != false || res.get("updateProviderCredential.apiKeyLastFour") != nil {
			t.Fatalf("clearing the key: %s", res.raw)
		}
	})
}

// TestClientKeyLifecycle: a created key is stored as its hash, shown once,
// rotation replaces the hash at once, and the plaintext is in no later
// response.
func TestClientKeyLifecycle(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		ctx := context.Background()
		svc := h.as(admin, `mutation { createService(input: {serviceName: "s", provider: "openai", modelsEnabled: ["gpt-4o-mini"]}) { id } }`, nil).ok(t)
		created := h.as(admin, `mutation($s: ID!) { createAPIKey(input: {name: "frontend", serviceId: $s}) { key apiKey { id keyPrefix keyLastFour isActive } } }`,
			map[string]any{"s": svc.get("createService.id")}).ok(t)
		key := created.str("createAPIKey.key")
		if !clientkey.LooksValid(key) || created.str("createAPIKey.apiKey.keyPrefix") != key[:7] || created.str("createAPIKey.apiKey.keyLastFour") != key[len(key)-4:] {
			t.Fatalf("created key: %s", created.raw)
		}
		row := h.client.APIKey.Query().Where(apikey.KeyHash(clientkey.Hash(key))).OnlyX(ctx)
		if row.Name != "frontend" {
			t.Fatalf("key does not authenticate by its hash")
		}
		rotated := h.as(admin, `mutation($id: ID!) { rotateAPIKey(id: $id) { key apiKey { id name } } }`,
			map[string]any{"id": created.get("createAPIKey.apiKey.id")}).ok(t)
		newKey := rotated.str("rotateAPIKey.key")
		if newKey == key || rotated.str("rotateAPIKey.apiKey.name") != "frontend" {
			t.Fatalf("rotate: %s", rotated.raw)
		}
		if n := h.client.APIKey.Query().Where(apikey.KeyHash(clientkey.Hash(key))).CountX(ctx); n != 0 {
			t.Fatal("the old secret still matches a key after rotation")
		}
		if n := h.client.APIKey.Query().Where(apikey.KeyHash(clientkey.Hash(newKey))).CountX(ctx); n != 1 {
			t.Fatal("the new secret matches no key")
		}
		later := h.as(admin, `{ apiKeys { edges { node { id name description keyPrefix keyLastFour isActive expiresAt } } } auditEvents { edges { node { changes { value } targetName } } } }`, nil).ok(t)
		for _, k := range []string{key, newKey} {
			if strings.Contains(later.raw, k[3:]) || strings.Contains(h.logs.String(), k[3:]) {
				t.Fatal("a key's plaintext appears in a later response or the log")
			}
		}
	})
}

// TestManagementKeyCannotDeleteItself and a member's refused mutation:
// nothing changes and the refusal is audited.
func TestManagementKeyCannotDeleteItself(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		res := h.as(mgmtKey, `mutation { deleteAPIKey(name: "ops-mgmt") }`, nil).wantCode(t, "BAD_USER_INPUT")
		if !strings.Contains(res.Errors[0].Message, "management key making this call") {
			t.Fatalf("message: %q", res.Errors[0].Message)
		}
		if n := h.client.APIKey.Query().Where(apikey.Name("ops-mgmt")).CountX(context.Background()); n != 1 {
			t.Fatal("the management key deleted itself")
		}
		// Another management key, or an admin, may delete it.
		other := h.as(mgmtKey, `mutation { createAPIKey(input: {name: "ops-2", isManagementKey: true}) { key } }`, nil).ok(t)
		h.do(other.str("createAPIKey.key"), `mutation { deleteAPIKey(name: "ops-mgmt") }`, nil).ok(t)
		h.as(mgmtKey, `{ services { totalCount } }`, nil).wantCode(t, "UNAUTHENTICATED")
	})
}

func TestMemberMutationChangesNothingAndIsAudited(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		f := makeFixtures(t, h)
		before := h.counts()
		h.as(member, `mutation($id: ID!) { deleteService(id: $id) }`, map[string]any{"id": f.serviceID}).wantCode(t, "FORBIDDEN")
		h.as(member, `mutation { createService(input: {serviceName: "m", provider: "openai", modelsEnabled: []}) { id } }`, nil).wantCode(t, "FORBIDDEN")
		if after := h.counts(); after != before {
			t.Fatalf("member's mutations changed the database: %v → %v", before, after)
		}
		evs := h.client.AuditEvent.Query().Where(auditevent.ActorName("mia"), auditevent.OutcomeEQ(auditevent.OutcomeDenied)).AllX(context.Background())
		if len(evs) != 2 || evs[0].Action != "deleteService" || evs[0].TargetID == "" || evs[1].Action != "createService" {
			t.Fatalf("denied audit events: %+v", evs)
		}
	})
}

// TestSeed000Walkthrough is the first-use walkthrough as a Go test: log in,
// create a service, create a key, patch limits, disable and re-enable the
// key, rotate the provider key.
func TestSeed000Walkthrough(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		status, body := postJSON(t, h.srv.URL+"/api/admin/auth/login", `{"username": "admin", "password": "`+adminPassword+`"}`)
		if status != 200 {
			t.Fatalf("login: %d", status)
		}
		token := body["access_token"].(string)

		svc := h.do(token, `mutation { createService(input: {
			serviceName: "google-gemini", description: "Google Gemini API for text and image generation", provider: "google",
			modelsEnabled: ["gemini-2.0-flash", "gemini-2.0-flash-lite", "gemini-3-pro-preview", "gemini-3-pro-image-preview"],
			providerApiKey: "AIzaSy-first-key-0001",
			limitCostHourWarn: 5.0, limitCostHourBlock: 10.0, limitCostDayWarn: 50.0, limitCostDayBlock: 100.0,
			limitCostMonthWarn: 500.0, limitCostMonthBlock: 1000.0 }) { id serviceName limitCostDayBlock credential { apiKeyLastFour } } }`, nil).ok(t)
		if svc.str("createService.serviceName") != "google-gemini" || svc.num("createService.limitCostDayBlock") != 100 ||
			svc.str("createService.credential.apiKeyLastFour") != "0001" {
			t.Fatalf("service: %s", svc.raw)
		}
		sid := svc.get("createService.id")

		key := h.do(token, `mutation($s: ID!) { createAPIKey(input: {name: "image-workflow-prod", description: "API key for image workflow production",
			serviceId: $s, limitCostHourWarn: 2.0, limitCostHourBlock: 5.0, limitCostDayWarn: 20.0, limitCostDayBlock: 50.0}) { key apiKey { id name limitCostHourBlock } } }`,
			map[string]any{"s": sid}).ok(t)
		if !strings.HasPrefix(key.str("createAPIKey.key"), "sk_") || key.num("createAPIKey.apiKey.limitCostHourBlock") != 5 {
			t.Fatalf("key: %s", key.raw)
		}
		kid := key.get("createAPIKey.apiKey.id")

		patched := h.do(token, `mutation($s: ID!) { updateService(id: $s, input: {modelsEnabled: ["gemini-2.0-flash", "gemini-3-pro-preview"], limitCostDayBlock: 200.0}) {
			modelsEnabled limitCostDayBlock limitCostHourBlock description } }`, map[string]any{"s": sid}).ok(t)
		if patched.num("updateService.limitCostDayBlock") != 200 || patched.num("updateService.limitCostHourBlock") != 10 ||
			len(patched.get("updateService.modelsEnabled").([]any)) != 2 || patched.str("updateService.description") == "" {
			t.Fatalf("patch changed more or less than given: %s", patched.raw)
		}

		rotated := h.do(token, `mutation($s: ID!) { updateService(id: $s, input: {providerApiKey: "AIzaSy_new_key_0002"}) { credential { apiKeyLastFour } } }`,
			map[string]any{"s": sid}).ok(t)
		if rotated.str("updateService.credential.apiKeyLastFour") != "0002" {
			t.Fatalf("provider key rotation: %s", rotated.raw)
		}

		for _, active := range []bool{false, true} {
			res := h.do(token, `mutation($k: ID!, $a: Boolean!) { updateAPIKey(id: $k, input: {isActive: $a}) { isActive limitCostHourBlock } }`,
				map[string]any{"k": kid, "a": active}).ok(t)
			if res.get("updateAPIKey.isActive") != active || res.num("updateAPIKey.limitCostHourBlock") != 5 {
				t.Fatalf("set isActive %v: %s", active, res.raw)
			}
		}

		cleared := h.do(token, `mutation($k: ID!) { updateAPIKey(id: $k, input: {limitCostHourWarn: null, limitCostHourBlock: null}) { limitCostHourWarn limitCostHourBlock limitCostDayBlock } }`,
			map[string]any{"k": kid}).ok(t)
		if cleared.get("updateAPIKey.limitCostHourBlock") != nil || cleared.num("updateAPIKey.limitCostDayBlock") != 50 {
			t.Fatalf("null should remove a key limit (inherit the service's) and keep the others: %s", cleared.raw)
		}
		_ = time.Now
	})
}

// TestModelPriceCacheWrites: an admin can set, keep and remove the
// cache-write prices; the catalog's Anthropic models come with them.
func TestModelPriceCacheWrites(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		created := h.as(admin, `mutation { createModelPrice(input: {provider: "anthropic", model: "claude-house", inputPerMtok: 2, outputPerMtok: 10,
			cachedInputPerMtok: 0.2, cacheWritePerMtok: 2.5, cacheWrite1hPerMtok: 4}) { id cacheWritePerMtok cacheWrite1hPerMtok } }`, nil).ok(t)
		if created.num("createModelPrice.cacheWritePerMtok") != 2.5 || created.num("createModelPrice.cacheWrite1hPerMtok") != 4 {
			t.Fatalf("created: %s", created.raw)
		}
		id := created.get("createModelPrice.id")
		kept := h.as(admin, `mutation($id: ID!) { updateModelPrice(id: $id, input: {inputPerMtok: 3}) { inputPerMtok cacheWritePerMtok cacheWrite1hPerMtok } }`,
			map[string]any{"id": id}).ok(t)
		if kept.num("updateModelPrice.inputPerMtok") != 3 || kept.num("updateModelPrice.cacheWritePerMtok") != 2.5 || kept.num("updateModelPrice.cacheWrite1hPerMtok") != 4 {
			t.Fatalf("an update that names no cache-write price changed one: %s", kept.raw)
		}
		removed := h.as(admin, `mutation($id: ID!) { updateModelPrice(id: $id, input: {cacheWritePerMtok: 3.75, cacheWrite1hPerMtok: null}) { cacheWritePerMtok cacheWrite1hPerMtok } }`,
			map[string]any{"id": id}).ok(t)
		if removed.num("updateModelPrice.cacheWritePerMtok") != 3.75 || removed.get("updateModelPrice.cacheWrite1hPerMtok") != nil {
			t.Fatalf("set one and remove the other: %s", removed.raw)
		}
		h.as(admin, `mutation($id: ID!) { updateModelPrice(id: $id, input: {cacheWritePerMtok: -1}) { id } }`, map[string]any{"id": id}).wantCode(t, "BAD_USER_INPUT")
		zero := h.as(admin, `mutation($id: ID!) { updateModelPrice(id: $id, input: {cacheWrite1hPerMtok: 0}) { id } }`, map[string]any{"id": id})
		if !strings.Contains(zero.wantCode(t, "BAD_USER_INPUT").raw, "above zero") {
			t.Errorf("a zero price, which pricing reads as none: %s", zero.raw)
		}
		h.as(admin, `mutation { createModelPrice(input: {provider: "anthropic", model: "claude-zero", inputPerMtok: 1, outputPerMtok: 1, cacheWritePerMtok: 0}) { id } }`, nil).wantCode(t, "BAD_USER_INPUT")
		catalog := h.as(admin, `{ modelPrices(where: {provider: "anthropic", model: "claude-sonnet-4-5"}) { edges { node { cacheWritePerMtok cacheWrite1hPerMtok } } } }`, nil).ok(t)
		if !strings.Contains(catalog.raw, `"cacheWritePerMtok":3.75`) || !strings.Contains(catalog.raw, `"cacheWrite1hPerMtok":6`) {
			t.Fatalf("claude-sonnet-4-5 from the catalog: %s", catalog.raw)
		}
	})
}
