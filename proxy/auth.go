package proxy

import (
	"fmt"
	"net/http"
	"time"

	"github.com/sluicehq/sluice/clientkey"
)

// authenticate finds the request's key and checks everything that does not
// depend on the route: the key is a known, active, unexpired client key of
// an active service. The entry is returned with a refusal too when the key
// is known, so that the refusal can be recorded against it.
func (p *Proxy) authenticate(r *http.Request, now time.Time) (*keyEntry, *apiError) {
	k, ok := clientkey.FromRequest(r)
	if !ok {
		return nil, refuse(http.StatusUnauthorized, "missing_api_key",
			"no API key: send your Sluice key (sk_…) as Authorization: Bearer, x-api-key, x-goog-api-key or ?key=")
	}
	if !clientkey.LooksValid(k) {
		return nil, refuse(http.StatusUnauthorized, "invalid_api_key",
			"invalid API key: Sluice keys start with sk_ and have 46 characters; check that this is not a provider's key or a truncated copy")
	}
	e, err := p.keys.get(r.Context(), clientkey.Hash(k), now)
	if err != nil {
		p.log.Error("client key look-up failed", "err", err)
		return nil, refuse(http.StatusServiceUnavailable, "key_check_unavailable",
			"the gateway could not check the API key (its database did not answer); try again shortly")
	}
	if e == nil {
		return nil, refuse(http.StatusUnauthorized, "invalid_api_key",
			"invalid API key: no such key; it may have been deleted or rotated, ask an admin for the current one")
	}
	key := e.key
	if key.IsManagementKey {
		return nil, refuse(http.StatusForbidden, "management_key",
			fmt.Sprintf("%q is a management key: it works on the admin API (/graphql), not on the proxy; use a client key of a service", key.Name))
	}
	if e.svc == nil {
		return nil, refuse(http.StatusForbidden, "key_without_service",
			fmt.Sprintf("API key %q belongs to no service; create a key for a service", key.Name))
	}
	if !key.IsActive {
		return e, refuse(http.StatusForbidden, "key_disabled",
			fmt.Sprintf("API key %q is disabled; an admin can enable it again", key.Name))
	}
	if key.ExpiresAt != nil && !now.Before(*key.ExpiresAt) {
		return e, refuse(http.StatusUnauthorized, "key_expired",
			fmt.Sprintf("API key %q expired at %s; ask an admin for a new key or a later expiry", key.Name, key.ExpiresAt.UTC().Format(time.RFC3339)))
	}
	if !e.svc.Active {
		return e, refuse(http.StatusForbidden, "service_disabled",
			fmt.Sprintf("service %q is disabled; an admin can enable it again", e.svc.ServiceName))
	}
	p.lastUsed.touch(key.ID, now)
	return e, nil
}
