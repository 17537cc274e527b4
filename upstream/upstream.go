// Package upstream knows how to address a provider credential's API: its
// base URL and the authentication its API standard prescribes. The proxy
// and the live-usage probe both go through it, so a key is attached in
// exactly one way.
package upstream

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/sluicehq/sluice/providers"
)

// Auth is how a request authenticates upstream: an API standard's key
// method and field, and the provider key.
type Auth struct {
	Method string // auth_bearer, auth_apikey, query_param or none
	Field  string
	Key    string
}

// Apply attaches the key to an outgoing request as the standard says.
// auth_bearer always uses the Authorization header (seed 001: "Bearer
// token in Authorization header"), whatever the field says.
func (a Auth) Apply(h http.Header, u *url.URL) {
	if a.Key == "" {
		return
	}
	switch a.Method {
	case "auth_bearer":
		h.Set("Authorization", "Bearer "+a.Key)
	case "auth_apikey":
		field := a.Field
		if field == "" {
			field = "X-API-Key"
		}
		h.Set(field, a.Key)
	case "query_param":
		field := a.Field
		if field == "" {
			field = "key"
		}
		q := u.Query()
		q.Set(field, a.Key)
		u.RawQuery = q.Encode()
	}
}

// BaseURL is the credential's base URL if it sets one, else the provider's
// default, without a trailing slash.
func BaseURL(provider string, credentialBaseURL *string) string {
	if credentialBaseURL != nil && *credentialBaseURL != "" {
		return strings.TrimRight(*credentialBaseURL, "/")
	}
	if p, ok := providers.Lookup(provider); ok {
		return strings.TrimRight(p.DefaultBaseURL, "/")
	}
	return ""
}

// Redact removes a URL's query string, where query_param standards carry
// the provider key, from text bound for an error message or a log.
func Redact(u *url.URL) string {
	c := *u
	c.RawQuery = ""
	c.User = nil
	return c.String()
}
