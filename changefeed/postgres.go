package changefeed

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"
)

// Channel is the PostgreSQL notification channel every replica listens on,
// suffixed with the schema (see channelFor).
const Channel = "sluice_changes"

// EventsChannel carries small event messages between replicas (live usage
// events), apart from the change signals; also suffixed with the schema.
const EventsChannel = "sluice_events"

// channelFor scopes a channel to a schema. Notification channels are
// database-wide, while each Sluice deployment lives in its own schema:
// without the suffix, two deployments sharing a database would flush each
// other's caches and, worse, see each other's live usage events.
func channelFor(base, schema string) string {
	sum := sha256.Sum256([]byte(schema))
	return base + "_" + hex.EncodeToString(sum[:4])
}

// MaxMessage is the longest message Send takes: PostgreSQL's notification
// payload limit (8000 bytes) less the origin prefix.
const MaxMessage = 7900

// Messenger is implemented by feeds that reach other replicas: Send hands
// a message to every other replica's OnMessage handlers (never back to the
// sender's own), at most once and only to replicas connected at the time.
type Messenger interface {
	Send(ctx context.Context, payload string) error
	OnMessage(fn func(payload string))
}

// postgres delivers local publishes at once and other replicas' through
// LISTEN/NOTIFY. A notification's payload is "topic origin", where origin
// names the publishing feed so a feed skips its own echo (its subscribers
// were already signalled).
type postgres struct {
	*hub
	db       *sql.DB
	listener *pq.Listener
	origin   string
	log      *slog.Logger
	done     chan struct{}
	wg       sync.WaitGroup
	once     sync.Once

	// changes and events are Channel and EventsChannel for this schema.
	changes, events string

	msgMu    sync.Mutex
	handlers []func(string)
}

var _ Messenger = (*postgres)(nil)

// Send notifies the other replicas' message handlers.
func (f *postgres) Send(ctx context.Context, payload string) error {
	if len(payload) > MaxMessage {
		return fmt.Errorf("change feed: message of %d bytes is over %d", len(payload), MaxMessage)
	}
	if _, err := f.db.ExecContext(ctx, "SELECT pg_notify($1, $2)", f.events, f.origin+" "+payload); err != nil {
		return fmt.Errorf("change feed: send message: %w", err)
	}
	return nil
}

// OnMessage adds a handler for other replicas' messages; it runs on the
// listener's goroutine and must be quick.
func (f *postgres) OnMessage(fn func(payload string)) {
	f.msgMu.Lock()
	defer f.msgMu.Unlock()
	f.handlers = append(f.handlers, fn)
}

func (f *postgres) message(extra string) {
	origin, payload, _ := strings.Cut(extra, " ")
	if origin == f.origin {
		return
	}
	f.msgMu.Lock()
	handlers := append([]func(string){}, f.handlers...)
	f.msgMu.Unlock()
	for _, fn := range handlers {
		fn(payload)
	}
}

// NewPostgres returns a feed shared by every replica on the PostgreSQL
// database: db sends notifications, and a dedicated lib/pq listener
// connection (opened with dsn) receives them. If the listener loses its
// connection, notifications sent meanwhile are lost, so on reconnecting it
// signals every topic: caches flush once rather than stay stale.
func NewPostgres(ctx context.Context, db *sql.DB, dsn string, log *slog.Logger) (Feed, error) {
	if log == nil {
		log = slog.Default()
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	var schema string
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return nil, fmt.Errorf("change feed: read the current schema: %w", err)
	}
	f := &postgres{hub: newHub(), db: db, origin: hex.EncodeToString(b), log: log, done: make(chan struct{}),
		changes: channelFor(Channel, schema), events: channelFor(EventsChannel, schema)}
	f.listener = pq.NewListener(dsn, 100*time.Millisecond, 10*time.Second, func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventDisconnected:
			log.Warn("change feed lost its PostgreSQL connection; caches refresh on reconnect", "err", err)
		case pq.ListenerEventConnectionAttemptFailed:
			log.Warn("change feed could not reconnect to PostgreSQL; retrying", "err", err)
		case pq.ListenerEventReconnected:
			log.Info("change feed reconnected to PostgreSQL")
		}
	})
	listen := make(chan error, 1)
	go func() {
		err := f.listener.Listen(f.changes)
		if err == nil {
			err = f.listener.Listen(f.events)
		}
		listen <- err
	}()
	select {
	case err := <-listen:
		if err != nil {
			f.listener.Close()
			return nil, fmt.Errorf("change feed: listen on %s: %w", f.changes, err)
		}
	case <-ctx.Done():
		f.listener.Close()
		return nil, fmt.Errorf("change feed: listen on %s: %w", f.changes, ctx.Err())
	}
	f.wg.Add(1)
	go f.run()
	return f, nil
}

func (f *postgres) run() {
	defer f.wg.Done()
	// lib/pq notices a dead connection only when it next reads; a periodic
	// ping makes it notice (and reconnect) within this interval.
	ping := time.NewTicker(60 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-f.done:
			return
		case n, ok := <-f.listener.Notify:
			if !ok {
				return
			}
			if n == nil {
				// Sent after a reconnection: anything may have changed.
				f.deliverAll()
				continue
			}
			if n.Channel == f.events {
				f.message(n.Extra)
				continue
			}
			topic, origin, _ := strings.Cut(n.Extra, " ")
			if origin != f.origin {
				f.deliver(topic)
			}
		case <-ping.C:
			go func() { _ = f.listener.Ping() }()
		}
	}
}

// Publish signals local subscribers, then notifies the other replicas.
// A failed notification is returned (the change is committed, but other
// replicas only see it when their TTL runs out); callers log it.
func (f *postgres) Publish(ctx context.Context, topic string) error {
	if topic == "" || strings.ContainsAny(topic, " \x00") {
		return errors.New("change feed: a topic must be non-empty, without spaces")
	}
	f.deliver(topic)
	if _, err := f.db.ExecContext(ctx, "SELECT pg_notify($1, $2)", f.changes, topic+" "+f.origin); err != nil {
		return fmt.Errorf("change feed: notify %s: %w", topic, err)
	}
	return nil
}

func (f *postgres) Close() error {
	var err error
	f.once.Do(func() {
		close(f.done)
		err = f.listener.Close()
		f.wg.Wait()
		f.close()
	})
	return err
}
