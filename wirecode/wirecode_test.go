package wirecode

import (
	"database/sql"
	"testing"

	"github.com/sluicehq/sluice/providers"
)

// TestCodes: every name round-trips through its code, codes never change
// (they are stored), every protocol the proxy speaks has one, and what is
// not listed is stored as 0, or NULL where the column allows it.
func TestCodes(t *testing.T) {
	fixed := []struct {
		table *Table
		name  string
		code  int16
	}{
		{Protocols, "openai", 1}, {Protocols, "anthropic", 2}, {Protocols, "gemini", 3}, {Protocols, "cohere", 4},
		{Endpoints, "/v1/chat/completions", 1}, {Endpoints, "/v1/messages", 5}, {Endpoints, "/v2/embed", 8},
		{Endpoints, "/v1beta/models/{model}:generateContent", 9}, {Endpoints, "/v1/models/{model}:batchEmbedContents", 18},
	}
	for _, f := range fixed {
		if got := f.table.Code(f.name); got != f.code {
			t.Errorf("Code(%q) = %d, want %d", f.name, got, f.code)
		}
	}
	for _, table := range []*Table{Protocols, Endpoints} {
		vs := table.ValueScanner(false)
		for code, name := range table.Names() {
			v, err := vs.Value(name)
			if err != nil || v != int64(code) {
				t.Errorf("Value(%q) = %v, %v; want %d", name, v, err, code)
			}
			got, err := vs.FromValue(&sql.NullInt64{Int64: int64(code), Valid: true})
			if err != nil || got != name {
				t.Errorf("FromValue(%d) = %q, %v; want %q", code, got, err, name)
			}
		}
	}
	for _, p := range []providers.Protocol{providers.ProtocolOpenAI, providers.ProtocolAnthropic, providers.ProtocolGemini, providers.ProtocolCohere} {
		if Protocols.Code(string(p)) == 0 {
			t.Errorf("protocol %q has no code", p)
		}
	}
	if v := Endpoints.Value("/v9/unknown", false); v != int64(0) {
		t.Errorf("an unlisted endpoint stores %v, want 0", v)
	}
	if v := Protocols.Value("", true); v != nil {
		t.Errorf("no protocol in a nullable column stores %v, want NULL", v)
	}
	if got, _ := Protocols.ValueScanner(true).FromValue(&sql.NullInt64{}); got != "" {
		t.Errorf("NULL reads as %q, want \"\"", got)
	}
	if Protocols.Name(99) != "" || Protocols.Name(-1) != "" {
		t.Error("a code not listed should read as \"\"")
	}
}
