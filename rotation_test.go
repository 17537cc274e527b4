package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/config"
	"github.com/sluicehq/sluice/credentials"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/secrets"
)

// keyringOf is a keyring of one encoded master key.
func keyringOf(t *testing.T, encoded string) *secrets.Keyring {
	t.Helper()
	key, err := secrets.ParseMasterKey(encoded)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := secrets.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

// openTarget opens the database a gateway was given, beside it or after it.
func openTarget(t *testing.T, target database.Target) *database.DB {
	t.Helper()
	db, err := database.Open(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// sealedCredential stores a provider credential whose key ring sealed.
func sealedCredential(t *testing.T, target database.Target, ring *secrets.Keyring, secret string) *ent.ProviderCredential {
	t.Helper()
	ctx := context.Background()
	db := openTarget(t, target)
	defer db.Close()
	org, err := auth.DefaultOrganization(ctx, db.Client)
	if err != nil {
		t.Fatal(err)
	}
	cred := db.Client.ProviderCredential.Create().SetOrganizationID(org.ID).SetProvider("openai").SetAccountKey("a").SetDisplayName("a").SaveX(ctx)
	if err := credentials.SetKey(ctx, ring, db.Client.ProviderCredential.UpdateOneID(cred.ID), cred.ID, secret); err != nil {
		t.Fatal(err)
	}
	return cred
}

// TestRotationWithThePreviousKey rotates the master key without downtime:
// replicas given the new key and the previous one open keys sealed under
// either and seal new ones under the new key; rotate-master-key then
// re-seals the rest, after which the new key alone opens everything.
func TestRotationWithThePreviousKey(t *testing.T) {
	const oldKey = "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE="
	newKey, err := secrets.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	common := []string{"SLUICE_DATA_DIR", dir, "SLUICE_JWT_SECRET", testJWT, "SLUICE_ADMIN_PASSWORD", "pw"}
	_, stop := startBinary(t, env(append(common, "SLUICE_MASTER_KEY", oldKey)...))
	stop()
	target, _ := database.ParseURL("", filepath.Join(dir, "sluice.db"))
	cred := sealedCredential(t, target, keyringOf(t, oldKey), "sk-sealed-before")
	ctx := context.Background()
	read := func(ring *secrets.Keyring) (string, error) {
		db := openTarget(t, target)
		defer db.Close()
		return credentials.Key(ring, db.Client.ProviderCredential.GetX(ctx, cred.ID))
	}

	// The replicas' keyring during the rotation.
	during := env(append(common, "SLUICE_MASTER_KEY", newKey, "SLUICE_PREVIOUS_MASTER_KEY", oldKey)...)
	cfg, err := config.Parse("sluice", nil, during, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := gatewayKeyring(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := read(ring); err != nil || got != "sk-sealed-before" {
		t.Fatalf("with the previous key beside the new one: %q, %v", got, err)
	}
	if ring.PrimaryID() != keyringOf(t, newKey).PrimaryID() {
		t.Fatal("new keys would not be sealed under the new master key")
	}
	if _, err := read(keyringOf(t, newKey)); err == nil {
		t.Fatal("the new key alone opened a key sealed under the old one before the rotation finished")
	}
	startBinary(t, during) // a replica starts with both

	var out, errs bytes.Buffer
	if code := run(ctx, []string{"rotate-master-key"}, during, &out, &errs); code != 0 || !strings.Contains(out.String(), "re-encrypted 1 provider key") {
		t.Fatalf("rotate-master-key: exit %d, %s %s", code, out.String(), errs.String())
	}
	if got, err := read(keyringOf(t, newKey)); err != nil || got != "sk-sealed-before" {
		t.Fatalf("after the rotation the new key alone opens %q, %v", got, err)
	}
	bad := env(append(common, "SLUICE_MASTER_KEY", newKey, "SLUICE_PREVIOUS_MASTER_KEY", "short")...)
	errs.Reset()
	if code := run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, bad, io.Discard, &errs); code != 1 || !strings.Contains(errs.String(), "SLUICE_PREVIOUS_MASTER_KEY") {
		t.Fatalf("a malformed previous key: exit %d, %s", code, errs.String())
	}
}
