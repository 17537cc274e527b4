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

// Apply attaches the key to an outgoing request as the standard says:
// auth_bearer as "Bearer <key>" in key_field (Authorization by default),
// auth_apikey as the bare key in key_field (X-Api-Key by default),
// query_param as the parameter key_field (key by default), none not at all.
// It appends to the raw query rather than re-encoding it, so the client's
// parameters reach the upstream as they were sent.
func (a Auth) Apply(h http.Header, u *url.URL) {
	if a.Key == "" {
		return
	}
	switch a.Method {
	case "auth_bearer":
		h.Set(orDefault(a.Field, "Authorization"), "Bearer "+a.Key)
	case "auth_apikey":
		h.Set(orDefault(a.Field, "X-Api-Key"), a.Key)
	case "query_param":
		q := url.QueryEscape(orDefault(a.Field, "key")) + "=" + url.QueryEscape(a.Key)
		if u.RawQuery == "" {
			u.RawQuery = q
		} else {
			u.RawQuery += "&" + q
		}
	}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
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
