package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAccessLogFile: with --access-log set to a file, the binary appends
// one JSON line per proxied request, written by the time it has stopped,
// and the line names the key without holding it.
func TestAccessLogFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "access.log")
	base, stop := startBinary(t, env("SLUICE_DATA_DIR", dir, "SLUICE_ADMIN_PASSWORD", "pw-access", "SLUICE_ACCESS_LOG", file))
	upstream, _ := fakeOpenAI(t)
	token := dig(gql(t, base, "", `mutation { login(username: "admin", password: "pw-access") { token } }`, nil), "login", "token").(string)
	svc := gql(t, base, token, `mutation($u: String!) { createService(input: {serviceName: "chat", provider: "openai", baseUrl: $u,
		providerApiKey: "sk-upstream-secret", modelsEnabled: ["gpt-4o-mini"]}) { id } }`, map[string]any{"u": upstream.URL + "/v1"})
	key := dig(gql(t, base, token, `mutation($s: ID!) { createAPIKey(input: {name: "app", serviceId: $s}) { key } }`,
		map[string]any{"s": dig(svc, "createService", "id")}), "createAPIKey", "key").(string)
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if code, _ := stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(raw, &line); err != nil {
		t.Fatalf("not one JSON line: %q", raw)
	}
	if line["key_name"] != "app" || line["service"] != "chat" || line["status"] != 200.0 || line["cost_usd"] != 0.00135 ||
		line["request_id"] != resp.Header.Get("X-Request-Id") {
		t.Fatalf("line %s", raw)
	}
	if strings.Contains(string(raw), key) || strings.Contains(string(raw), "sk-upstream-secret") {
		t.Fatal("a key reached the access log")
	}
}
