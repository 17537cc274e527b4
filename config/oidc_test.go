package config

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSingleSignOnSettings: single sign-on set up in part, or password
// login turned off without it, is refused at start; the client secret is
// read from its file when not given.
func TestSingleSignOnSettings(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte("from-the-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	full := []string{"--oidc-issuer", "https://id.example.com/", "--oidc-client-id", "sluice", "--oidc-redirect-url", "https://gw.example.com/api/admin/auth/oidc/callback"}
	tests := []struct {
		name       string
		args       []string
		wantErr    string
		wantSecret string
		wantOn     bool
	}{
		{"off by default", nil, "", "", false},
		{"password login off without SSO", []string{"--password-login=false"}, "needs single sign-on", "", false},
		{"issuer without client id", []string{"--oidc-issuer", "https://id.example.com", "--oidc-redirect-url", "https://gw/cb"}, "--oidc-client-id", "", false},
		{"issuer without redirect URL", []string{"--oidc-issuer", "https://id.example.com", "--oidc-client-id", "x"}, "--oidc-redirect-url", "", false},
		{"secret from a file", append(full, "--oidc-client-secret-file", secretFile), "", "from-the-file", true},
		{"the secret itself wins over the file", append(full, "--oidc-client-secret", "given", "--oidc-client-secret-file", secretFile), "", "given", true},
		{"missing secret file", append(full, "--oidc-client-secret-file", secretFile+".none"), "SLUICE_OIDC_CLIENT_SECRET_FILE", "", false},
		{"password login off with SSO", append(full, "--password-login=false"), "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("sluice", tt.args, func(string) string { return "" }, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.OIDC.Enabled() != tt.wantOn || cfg.OIDC.ClientSecret != tt.wantSecret {
				t.Errorf("enabled %v secret %q, want %v %q", cfg.OIDC.Enabled(), cfg.OIDC.ClientSecret, tt.wantOn, tt.wantSecret)
			}
			if tt.wantOn && cfg.OIDC.Issuer != "https://id.example.com/" {
				t.Errorf("issuer %q, want it as given (the provider's issuer must match exactly)", cfg.OIDC.Issuer)
			}
		})
	}
}
