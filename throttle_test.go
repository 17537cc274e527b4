package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
)

// TestAnonymousTrafficIsThrottled: GraphQL requests without a valid
// credential and logins share a token bucket per address; past it they get
// 429 with Retry-After (a RATE_LIMITED GraphQL error, or the REST login's
// detail), while a logged-in admin from the same address is not limited.
func TestAnonymousTrafficIsThrottled(t *testing.T) {
	// A bucket of 4 refilled once in 100 s: nothing refills during the test.
	base, _ := startBinary(t, env("SLUICE_DATA_DIR", t.TempDir(), "SLUICE_ADMIN_PASSWORD", "pw"),
		"--anonymous-rate", "0.01", "--anonymous-burst", "4")
	post := func(path, token, body string) (int, http.Header, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader([]byte(body)))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var out map[string]any
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("POST %s = %d %q, not JSON", path, resp.StatusCode, raw)
		}
		return resp.StatusCode, resp.Header, out
	}
	// 1 of 4: the login.
	status, _, out := post("/graphql", "", `{"query":"mutation { login(username: \"admin\", password: \"pw\") { token } }"}`)
	token, _ := dig(out, "data", "login", "token").(string)
	if status != 200 || token == "" {
		t.Fatalf("login = %d %v", status, out)
	}
	anonymous := `{"query":"{ apiStandards { apiStandardHandle } }"}`
	for i := 2; i <= 4; i++ {
		if status, _, out := post("/graphql", "", anonymous); status != 200 || out["errors"] != nil {
			t.Fatalf("anonymous request %d of the burst = %d %v", i, status, out)
		}
	}
	cases := []struct {
		name, path, token, body string
		want                    int
		check                   func(map[string]any) bool
	}{
		{"anonymous GraphQL past the burst", "/graphql", "", anonymous, 429,
			func(o map[string]any) bool { return errCode(o) == "RATE_LIMITED" }},
		{"an invalid credential counts as none", "/graphql", "not-a-token", anonymous, 429,
			func(o map[string]any) bool { return errCode(o) == "RATE_LIMITED" }},
		{"GraphQL login", "/graphql", "", `{"query":"mutation { login(username: \"admin\", password: \"pw\") { token } }"}`, 429,
			func(o map[string]any) bool { return errCode(o) == "RATE_LIMITED" }},
		{"REST login", "/api/admin/auth/login", "", `{"username":"admin","password":"pw"}`, 429,
			func(o map[string]any) bool { d, _ := o["detail"].(string); return d != "" }},
		{"logged-in admin", "/graphql", token, `{"query":"{ viewer { username } }"}`, 200,
			func(o map[string]any) bool { return dig(o, "data", "viewer", "username") == "admin" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, h, out := post(c.path, c.token, c.body)
			if status != c.want || !c.check(out) {
				t.Fatalf("= %d %v, want %d", status, out, c.want)
			}
			if retry, err := strconv.Atoi(h.Get("Retry-After")); c.want == 429 && (err != nil || retry < 1 || retry > 100) {
				t.Fatalf("Retry-After %q, want 1 to 100 seconds", h.Get("Retry-After"))
			}
		})
	}
}

// errCode is the first GraphQL error's extensions.code.
func errCode(out map[string]any) string {
	errs, _ := out["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	code, _ := dig(errs[0], "extensions", "code").(string)
	return code
}
