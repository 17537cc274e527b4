// Package logbound bounds log lines: a slog.Handler that cuts every message
// and attribute value longer than a limit before the next handler writes
// it, so that nothing a client sends can make one line megabytes long.
package logbound

import (
	"context"
	"fmt"
	"log/slog"
	"unicode/utf8"
)

// DefaultMax is the longest message or attribute value kept whole, in bytes.
const DefaultMax = 4 << 10

// Handler cuts long messages and attribute values, then hands the record
// to the next handler.
type Handler struct {
	next slog.Handler
	max  int
}

var _ slog.Handler = (*Handler)(nil)

// New wraps next; values longer than max bytes are cut to max and marked.
func New(next slog.Handler, max int) *Handler {
	return &Handler{next: next, max: max}
}

func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.cut(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.bound(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	bounded := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		bounded[i] = h.bound(a)
	}
	return &Handler{next: h.next.WithAttrs(bounded), max: h.max}
}

func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), max: h.max}
}

// bound cuts a string value, or anything else (an error, a struct) whose
// text is long; groups are bounded member by member.
func (h *Handler) bound(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		if len(v.String()) > h.max {
			return slog.String(a.Key, h.cut(v.String()))
		}
	case slog.KindGroup:
		members := v.Group()
		bounded := make([]any, len(members))
		for i, m := range members {
			bounded[i] = h.bound(m)
		}
		return slog.Group(a.Key, bounded...)
	case slog.KindAny:
		var text string
		if err, ok := v.Any().(error); ok {
			text = err.Error()
		} else {
			text = fmt.Sprintf("%+v", v.Any())
		}
		if len(text) > h.max {
			return slog.String(a.Key, h.cut(text))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// cut shortens s to at most max bytes on a character boundary and says how
// long it was.
func (h *Handler) cut(s string) string {
	if len(s) <= h.max {
		return s
	}
	end := h.max
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return fmt.Sprintf("%s…[cut: %d bytes in all]", s[:end], len(s))
}
