package declare

import (
	"strings"
	"testing"
)

func TestExport(t *testing.T) {
	tests := []struct {
		name        string
		admin       bool
		want, never []string
	}{
		{"an instance admin's export has the shared sections", true,
			[]string{"apiStandards:", "prices: []", "env: OPENAI_MAIN_API_KEY", "services:\n  - name: chat"}, []string{"sk-old"}},
		{"another key's export leaves them out", false,
			[]string{"credentials:", "env: OPENAI_MAIN_API_KEY"}, []string{"apiStandards", "prices", "sk-old"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := base()
			st.InstanceAdmin = tt.admin
			b, err := Export(st)
			if err != nil {
				t.Fatal(err)
			}
			out := string(b)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("the export lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tt.never {
				if strings.Contains(out, n) {
					t.Errorf("the export has %q:\n%s", n, out)
				}
			}
			// What it writes loads, and plans no changes against its source.
			f, err := Load("export.yaml", b)
			if err != nil {
				t.Fatal(err)
			}
			p, err := MakePlan(f, st, Options{Getenv: func(string) string { return "sk-old-1111" }})
			if err != nil {
				t.Fatal(err)
			}
			if !p.Empty() {
				t.Errorf("the export plans changes against its source:\n%s", planText(p))
			}
		})
	}
}

func TestEnvName(t *testing.T) {
	for in, want := range map[[2]string]string{
		{"openai", "main"}:         "OPENAI_MAIN_API_KEY",
		{"openai", "service:chat"}: "OPENAI_SERVICE_CHAT_API_KEY",
		{"custom", "eu-west.1"}:    "CUSTOM_EU_WEST_1_API_KEY",
	} {
		if got := envName(in[0], in[1]); got != want {
			t.Errorf("envName(%q, %q) = %q, want %q", in[0], in[1], got, want)
		}
	}
}
