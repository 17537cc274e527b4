package proxy

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/changefeed"
)

// Replicas share what traffic taught them about where not to send: a
// credential's provider window seen spent (by its rate-limit headers or a
// 429) and a target seen failing. Each is one short message through the
// change feed (PostgreSQL's NOTIFY), sent only when it changes what a
// replica would do, so that a second replica does not learn it again by
// sending a request into it.

// The messages: "headroom-spent <credential id> <until> <model>",
// "target-down <target id> <until> <reason>", until in unix nanoseconds,
// and "target-up <target id>" when a target's probe succeeded.
const (
	spentPrefix = "headroom-spent "
	downPrefix  = "target-down "
	upPrefix    = "target-up "
)

// peers passes this replica's news to the others.
type peers struct {
	m     changefeed.Messenger
	queue chan string
	log   *slog.Logger
}

// spent tells the other replicas that h's provider window is spent until
// until.
func (ps *peers) spent(h *headroom, until int64) {
	ps.send(spentPrefix + strconv.Itoa(h.cred) + " " + strconv.FormatInt(until, 10) + " " + h.model)
}

// down tells the other replicas that target id failed and is skipped
// until until.
func (ps *peers) down(id int, until int64, reason string) {
	ps.send(downPrefix + strconv.Itoa(id) + " " + strconv.FormatInt(until, 10) + " " + reason)
}

// up tells the other replicas that target id answered again.
func (ps *peers) up(id int) {
	ps.send(upPrefix + strconv.Itoa(id))
}

// send queues msg without ever blocking: a message that finds the queue
// full is dropped (the other replicas learn it from their own traffic).
func (ps *peers) send(msg string) {
	if ps == nil {
		return
	}
	if len(msg) > changefeed.MaxMessage {
		msg = strings.ToValidUTF8(msg[:changefeed.MaxMessage], "")
	}
	select {
	case ps.queue <- msg:
	default:
	}
}

// run sends the queued messages until ctx ends.
func (ps *peers) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case msg := <-ps.queue:
			sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			if err := ps.m.Send(sctx, msg); err != nil {
				ps.log.Warn("could not tell the other replicas what routing learned", "err", err)
			}
			cancel()
		}
	}
}

// heard applies another replica's message; other messages on the feed
// (live usage events) are not routing's and are left alone.
func (p *Proxy) heard(payload string) {
	if rest, ok := strings.CutPrefix(payload, spentPrefix); ok {
		if id, until, model, ok := parseNews(rest); ok {
			p.room.of(&id, model).exhaust(until)
		}
		return
	}
	if rest, ok := strings.CutPrefix(payload, downPrefix); ok {
		if id, until, reason, ok := parseNews(rest); ok {
			p.healthOf(id).heardDown(until, reason)
		}
		return
	}
	if rest, ok := strings.CutPrefix(payload, upPrefix); ok {
		if id, err := strconv.Atoi(rest); err == nil {
			p.healthOf(id).succeeded()
		}
	}
}

// parseNews splits "<id> <until> [rest]".
func parseNews(s string) (id int, until int64, reason string, ok bool) {
	idText, rest, _ := strings.Cut(s, " ")
	untilText, reason, _ := strings.Cut(rest, " ")
	id, err1 := strconv.Atoi(idText)
	until, err2 := strconv.ParseInt(untilText, 10, 64)
	return id, until, reason, err1 == nil && err2 == nil
}
