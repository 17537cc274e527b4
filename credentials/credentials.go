// Package credentials stores and reads provider API keys on
// ProviderCredential rows: sealed with the master keyring, bound to their
// row, and opened only where a request goes upstream or a probe runs.
package credentials

import (
	"context"
	"fmt"
	"strconv"

	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/secrets"
)

// aad binds a sealed key to its row, so that a ciphertext copied into
// another credential (another organization's, say) does not open.
func aad(id int) string { return "provider_credential:" + strconv.Itoa(id) }

// SetKey seals plaintext for credential id and writes it with its last four
// characters. An empty plaintext clears the key, as an
// api_key of "" in a mutation does. Pass the update builder of a transaction when the credential was
// created in the same one.
func SetKey(ctx context.Context, kr *secrets.Keyring, upd *ent.ProviderCredentialUpdateOne, id int, plaintext string) error {
	if plaintext == "" {
		return upd.ClearAPIKeyCiphertext().ClearAPIKeyLastFour().SetAPIKeyKeyID("").Exec(ctx)
	}
	sealed, err := kr.Seal(plaintext, aad(id))
	if err != nil {
		return fmt.Errorf("seal provider key: %w", err)
	}
	upd = upd.SetAPIKeyCiphertext(sealed.Ciphertext).SetAPIKeyKeyID(sealed.KeyID)
	if last := secrets.LastFour(plaintext); last != "" {
		upd = upd.SetAPIKeyLastFour(last)
	} else {
		upd = upd.ClearAPIKeyLastFour()
	}
	if err := upd.Exec(ctx); err != nil {
		return fmt.Errorf("store provider key: %w", err)
	}
	return nil
}

// Key opens the credential's provider key; "" when none is set.
func Key(kr *secrets.Keyring, c *ent.ProviderCredential) (string, error) {
	if !HasKey(c) {
		return "", nil
	}
	key, err := kr.Open(secrets.Sealed{KeyID: c.APIKeyKeyID, Ciphertext: *c.APIKeyCiphertext}, aad(c.ID))
	if err != nil {
		return "", fmt.Errorf("provider credential %d: %w", c.ID, err)
	}
	return key, nil
}

// HasKey reports whether a key is stored (the API's hasApiKey).
// (ent reads a NULL column as a pointer to an empty slice.)
func HasKey(c *ent.ProviderCredential) bool {
	return c.APIKeyCiphertext != nil && len(*c.APIKeyCiphertext) > 0
}

// Rotate re-seals every stored key still under an old master key with the
// keyring's primary one, and returns how many it rewrote. It is what
// `sluice rotate-master-key` runs, with the new key primary and the old one
// kept for opening.
func Rotate(ctx context.Context, client *ent.Client, kr *secrets.Keyring) (int, error) {
	creds, err := client.ProviderCredential.Query().All(ctx)
	if err != nil {
		return 0, fmt.Errorf("list provider credentials: %w", err)
	}
	n := 0
	for _, c := range creds {
		if !HasKey(c) {
			continue
		}
		sealed, changed, err := kr.Reseal(secrets.Sealed{KeyID: c.APIKeyKeyID, Ciphertext: *c.APIKeyCiphertext}, aad(c.ID))
		if err != nil {
			return n, fmt.Errorf("provider credential %d: %w", c.ID, err)
		}
		if !changed {
			continue
		}
		if err := client.ProviderCredential.UpdateOneID(c.ID).
			SetAPIKeyCiphertext(sealed.Ciphertext).SetAPIKeyKeyID(sealed.KeyID).Exec(ctx); err != nil {
			return n, fmt.Errorf("provider credential %d: write re-sealed key: %w", c.ID, err)
		}
		n++
	}
	return n, nil
}
