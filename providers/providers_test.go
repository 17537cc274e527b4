package providers

import (
	"slices"
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		name        string
		wantBaseURL string
		wantStd     string
		wantProto   Protocol
		wantModels  string
	}{
		{name: "openai", wantBaseURL: "https://api.openai.com/v1", wantStd: "openai", wantProto: ProtocolOpenAI, wantModels: "/models"},
		{name: "anthropic", wantBaseURL: "https://api.anthropic.com/v1", wantStd: "anthropic", wantProto: ProtocolAnthropic, wantModels: "/models"},
		{name: "google", wantBaseURL: "https://generativelanguage.googleapis.com/v1beta", wantStd: "gemini", wantProto: ProtocolGemini, wantModels: "/models"},
		{name: "deepseek", wantBaseURL: "https://api.deepseek.com/v1", wantStd: "openai", wantProto: ProtocolOpenAI, wantModels: "/models"},
		{name: "openrouter", wantBaseURL: "https://openrouter.ai/api/v1", wantStd: "openai", wantProto: ProtocolOpenAI, wantModels: "/models"},
		{name: "cohere", wantBaseURL: "https://api.cohere.com", wantStd: "cohere", wantProto: ProtocolCohere, wantModels: "/v1/models"},
		{name: "groq", wantBaseURL: "https://api.groq.com/openai/v1", wantStd: "openai", wantProto: ProtocolOpenAI, wantModels: "/models"},
		{name: "together", wantBaseURL: "https://api.together.xyz/v1", wantStd: "openai", wantProto: ProtocolOpenAI, wantModels: "/models"},
		{name: "mistral", wantBaseURL: "https://api.mistral.ai/v1", wantStd: "openai", wantProto: ProtocolOpenAI, wantModels: "/models"},
		{name: "ollama", wantBaseURL: "http://localhost:11434/v1", wantStd: "ollama", wantProto: ProtocolOpenAI, wantModels: "/models"},
		{name: "custom", wantBaseURL: "", wantStd: "openai", wantProto: ProtocolOpenAI, wantModels: "/models"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := Lookup(tt.name)
			if !ok {
				t.Fatalf("Lookup(%q) not found", tt.name)
			}
			if p.Name != tt.name || p.DefaultBaseURL != tt.wantBaseURL || p.APIStandard != tt.wantStd ||
				p.Protocol != tt.wantProto || p.ModelsPath != tt.wantModels {
				t.Errorf("Lookup(%q) = %+v, want base %q standard %q protocol %q models %q",
					tt.name, p, tt.wantBaseURL, tt.wantStd, tt.wantProto, tt.wantModels)
			}
			if p.DisplayName == "" {
				t.Errorf("Lookup(%q) has no display name", tt.name)
			}
			if p.DefaultBaseURL != "" {
				if err := ValidateBaseURL(p.DefaultBaseURL); err != nil {
					t.Errorf("default base URL of %q is invalid: %v", tt.name, err)
				}
			}
		})
	}
	if got, want := len(All()), len(tests); got != want {
		t.Errorf("All() has %d providers, the table %d: add the new one to this test", got, want)
	}
}

func TestLookupUnknown(t *testing.T) {
	for _, name := range []string{"", "foo", "OpenAI", " openai", "open-ai"} {
		if p, ok := Lookup(name); ok {
			t.Errorf("Lookup(%q) = %+v, want not found", name, p)
		}
	}
}

func TestAllSorted(t *testing.T) {
	names := Names()
	if !slices.IsSorted(names) {
		t.Errorf("Names() not sorted: %v", names)
	}
	if len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Errorf("Names() has duplicates: %v", names)
	}
	for i, p := range All() {
		if p.Name != names[i] {
			t.Errorf("All()[%d].Name = %q, Names()[%d] = %q", i, p.Name, i, names[i])
		}
	}
}

func TestAllReturnsCopy(t *testing.T) {
	a := All()
	a[0].DefaultBaseURL = "https://evil.example"
	if All()[0].DefaultBaseURL == "https://evil.example" {
		t.Error("All() exposes the shared list to mutation")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		wantErr bool
	}{
		{name: "openai"},
		{name: "custom"},
		{name: "ollama"},
		{name: "foo", wantErr: true},
		{name: "", wantErr: true},
		{name: "Google", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.name)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Validate(%q) = %v, wantErr %v", tt.name, err, tt.wantErr)
			}
			if err == nil {
				return
			}
			want := `unsupported provider "` + tt.name + `"; supported: anthropic, cohere, custom, deepseek, google, groq, mistral, ollama, openai, openrouter, together`
			if err.Error() != want {
				t.Errorf("Validate(%q) message = %q, want %q", tt.name, err, want)
			}
		})
	}
}

func TestValidateBaseURL(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		wantErr string // substring; empty means valid
	}{
		{name: "https", raw: "https://api.openai.com/v1"},
		{name: "http with port", raw: "http://localhost:11434/v1"},
		{name: "trailing slash", raw: "https://example.com/v1/"},
		{name: "no path", raw: "https://api.cohere.com"},
		{name: "ipv6", raw: "http://[::1]:8080/v1"},
		{name: "upper-case scheme", raw: "HTTPS://example.com"},
		{name: "empty", raw: "", wantErr: "empty"},
		{name: "no scheme", raw: "api.openai.com/v1", wantErr: "no scheme"},
		{name: "ftp", raw: "ftp://example.com", wantErr: `scheme "ftp" is not allowed`},
		{name: "javascript", raw: "javascript:alert(1)", wantErr: "not allowed"},
		{name: "file", raw: "file:///etc/passwd", wantErr: "not allowed"},
		{name: "no host", raw: "https:///v1", wantErr: "no host"},
		{name: "opaque", raw: "https:example.com", wantErr: "no host"},
		{name: "port only", raw: "http://:8080/v1", wantErr: "no host"},
		{name: "user and password", raw: "https://user:secret@example.com/v1", wantErr: "user name or password"},
		{name: "user only", raw: "https://user@example.com/v1", wantErr: "user name or password"},
		{name: "query", raw: "https://example.com/v1?key=abc", wantErr: "query"},
		{name: "empty query", raw: "https://example.com/v1?", wantErr: "query"},
		{name: "fragment", raw: "https://example.com/v1#x", wantErr: "fragment"},
		{name: "empty fragment", raw: "https://example.com/v1#", wantErr: "fragment"},
		{name: "CRLF injection", raw: "https://example.com/v1\r\nX-Evil: 1", wantErr: "control character"},
		{name: "newline", raw: "https://example.com\n", wantErr: "control character"},
		{name: "NUL", raw: "https://example.com/\x00", wantErr: "control character"},
		{name: "space", raw: "https://example.com/v 1", wantErr: "white space"},
		{name: "leading space", raw: " https://example.com", wantErr: "white space"},
		{name: "tab", raw: "https://example.com/\tv1", wantErr: "white space"},
		{name: "non-breaking space", raw: "https://example.com/\u00a0", wantErr: "white space"},
		{name: "bad port", raw: "https://example.com:abc/v1", wantErr: "not a valid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateBaseURL(tt.raw)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ValidateBaseURL(%q) = %v, want nil", tt.raw, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ValidateBaseURL(%q) = nil, want error containing %q", tt.raw, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ValidateBaseURL(%q) = %q, want it to contain %q", tt.raw, err, tt.wantErr)
			}
		})
	}
}

// TestValidateBaseURLDoesNotLeakSecrets guards that a password typed into the
// URL never reaches an error message (and so logs or GraphQL errors).
func TestValidateBaseURLDoesNotLeakSecrets(t *testing.T) {
	for _, raw := range []string{
		"https://user:s3cr3t@example.com/v1",
		"https://user:s3cr3t@example.com:bad/v1",
		"https://example.com/v1?key=s3cr3t",
		"https://us er:s3cr3t@example.com",
	} {
		err := ValidateBaseURL(raw)
		if err == nil {
			t.Fatalf("ValidateBaseURL(%q) = nil, want error", raw)
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("ValidateBaseURL(%q) error leaks the secret: %q", raw, err)
		}
	}
}
