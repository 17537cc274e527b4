package config

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
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

func TestDrainDelayAndShutdownTimeoutTakeZero(t *testing.T) {
	tests := []struct {
		env, value string
		want       time.Duration
		wantErr    bool
	}{
		{"SLUICE_DRAIN_DELAY", "", 0, false},
		{"SLUICE_DRAIN_DELAY", "0s", 0, false},
		{"SLUICE_DRAIN_DELAY", "15s", 15 * time.Second, false},
		{"SLUICE_DRAIN_DELAY", "-1s", 0, true},
		{"SLUICE_DRAIN_DELAY", "soon", 0, true},
		{"SLUICE_SHUTDOWN_TIMEOUT", "0s", 0, false},
		{"SLUICE_SHUTDOWN_TIMEOUT", "", 30 * time.Second, false},
		{"SLUICE_SHUTDOWN_TIMEOUT", "-5s", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.env+"="+tt.value, func(t *testing.T) {
			cfg, err := Parse("sluice", nil, func(k string) string {
				if k == tt.env {
					return tt.value
				}
				return ""
			}, io.Discard)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), tt.env) {
					t.Fatalf("err = %v, want one naming %s", err, tt.env)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := cfg.DrainDelay
			if tt.env == "SLUICE_SHUTDOWN_TIMEOUT" {
				got = cfg.ShutdownTimeout
			}
			if got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
