package config

import (
	"flag"
	"io"
	"strings"
	"testing"
)

func TestParseCommandReadsItsOwnFlagsBesideTheSettings(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantUser string
		wantAddr string
		wantErr  string
	}{
		{"separate value", []string{"--username", "ann", "--addr", ":9"}, "ann", ":9", ""},
		{"equals form", []string{"--addr=:9", "--username=ann"}, "ann", ":9", ""},
		{"single dash", []string{"-username", "ann"}, "ann", ":8080", ""},
		{"missing value", []string{"--username"}, "", "", "flag needs an argument"},
		{"unknown flag", []string{"--usernme", "ann"}, "", "", "not defined"},
		{"stray argument", []string{"ann"}, "", "", `unexpected argument "ann"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var user string
			cfg, err := ParseCommand("sluice admin", tt.args, func(string) string { return "" }, io.Discard, func(fs *flag.FlagSet) {
				fs.StringVar(&user, "username", "", "")
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if user != tt.wantUser || cfg.Addr != tt.wantAddr {
				t.Errorf("username %q, addr %q; want %q, %q", user, cfg.Addr, tt.wantUser, tt.wantAddr)
			}
		})
	}
}
