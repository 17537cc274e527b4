package upstream

import (
	"net/http"
	"net/url"
	"testing"
)

func TestApply(t *testing.T) {
	cases := []struct {
		auth              Auth
		header, value, qs string
	}{
		{Auth{"auth_bearer", "Authorization", "k1"}, "Authorization", "Bearer k1", ""},
		{Auth{"auth_apikey", "x-api-key", "k2"}, "X-Api-Key", "k2", ""},
		{Auth{"query_param", "key", "k3"}, "", "", "a=1&key=k3"},
		{Auth{"none", "", "k4"}, "", "", "a=1"},
		{Auth{"auth_bearer", "Authorization", ""}, "", "", "a=1"},
	}
	for _, c := range cases {
		h := http.Header{}
		u, _ := url.Parse("https://api.example.com/v1/models?a=1")
		c.auth.Apply(h, u)
		if c.header != "" && h.Get(c.header) != c.value {
			t.Errorf("%s: header %s = %q, want %q", c.auth.Method, c.header, h.Get(c.header), c.value)
		}
		if c.header == "" && len(h) != 0 {
			t.Errorf("%s: set headers %v", c.auth.Method, h)
		}
		if c.qs != "" && u.RawQuery != c.qs {
			t.Errorf("%s: query %q, want %q", c.auth.Method, u.RawQuery, c.qs)
		}
	}
}

func TestBaseURLAndRedact(t *testing.T) {
	custom := "https://llm.example.com/v1/"
	if got := BaseURL("openai", &custom); got != "https://llm.example.com/v1" {
		t.Errorf("BaseURL custom = %q", got)
	}
	if got := BaseURL("anthropic", nil); got != "https://api.anthropic.com/v1" {
		t.Errorf("BaseURL default = %q", got)
	}
	u, _ := url.Parse("https://u:p@generativelanguage.googleapis.com/v1beta/models?key=SECRET")
	if got := Redact(u); got != "https://generativelanguage.googleapis.com/v1beta/models" {
		t.Errorf("Redact = %q", got)
	}
}
