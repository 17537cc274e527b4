package providers

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
)

// ValidateBaseURL checks an admin-supplied upstream base URL before it is
// stored. The proxy appends paths to it and sends provider keys to it, so it
// must be a plain http(s) origin plus optional path: credentials in the URL
// would leak into logs, a query or fragment would break path joining, and
// control characters or white space could smuggle extra headers into the
// upstream request. Error messages never repeat the URL, because it may hold a
// password.
func ValidateBaseURL(raw string) error {
	if raw == "" {
		return errors.New("base URL is empty")
	}
	if i := strings.IndexFunc(raw, func(r rune) bool {
		return unicode.IsControl(r) || unicode.IsSpace(r)
	}); i >= 0 {
		return fmt.Errorf("base URL contains white space or a control character at byte %d", i)
	}
	u, err := url.Parse(raw)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // url.Error repeats the URL, which may hold a password
		}
		return fmt.Errorf("base URL is not a valid URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return errors.New("base URL has no scheme; it must start with http:// or https://")
		}
		return fmt.Errorf("base URL scheme %q is not allowed; use http or https", u.Scheme)
	}
	if u.User != nil {
		return errors.New("base URL must not contain a user name or password; store the key in the credential instead")
	}
	if u.Host == "" || u.Hostname() == "" {
		return errors.New("base URL has no host")
	}
	if u.RawQuery != "" || u.ForceQuery {
		return errors.New("base URL must not contain a query (?...)")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return errors.New("base URL must not contain a fragment (#...)")
	}
	return nil
}
