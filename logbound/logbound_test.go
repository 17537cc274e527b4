package logbound_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/logbound"
)

// TestLinesAreBounded: a megabyte in any place a log call puts text comes
// out cut, in both of the gateway's formats; short values are untouched.
func TestLinesAreBounded(t *testing.T) {
	huge := strings.Repeat("é", 500_000) // 1 MB, two bytes a character
	const max = 4 << 10
	writes := map[string]func(*slog.Logger){
		"message":      func(l *slog.Logger) { l.Error(huge) },
		"string":       func(l *slog.Logger) { l.Error("m", "body", huge) },
		"error":        func(l *slog.Logger) { l.Error("m", "err", errors.New(huge)) },
		"bytes":        func(l *slog.Logger) { l.Error("m", "raw", []byte(huge)) },
		"group":        func(l *slog.Logger) { l.Error("m", slog.Group("req", "body", huge)) },
		"with":         func(l *slog.Logger) { l.With("body", huge).Error("m") },
		"with a group": func(l *slog.Logger) { l.WithGroup("g").Error("m", "body", huge) },
	}
	formats := map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	}
	for fname, format := range formats {
		for name, write := range writes {
			var buf bytes.Buffer
			write(slog.New(logbound.New(format(&buf), max)))
			line := buf.String()
			if len(line) > 2*max || !strings.Contains(line, "…[cut: ") {
				t.Errorf("%s, %s: %d bytes: %.200s", fname, name, len(line), line)
			}
		}
	}
	var buf bytes.Buffer
	slog.New(logbound.New(slog.NewTextHandler(&buf, nil), max)).Info("short", "n", 3, "s", "abc")
	if !strings.Contains(buf.String(), `msg=short n=3 s=abc`) {
		t.Errorf("a short line changed: %s", buf.String())
	}
}
