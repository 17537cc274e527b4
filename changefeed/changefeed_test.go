package changefeed_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/changefeed"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
)

// open returns the feed a replica would use on db: local for SQLite,
// LISTEN/NOTIFY for PostgreSQL.
func open(t *testing.T, db *database.DB) changefeed.Feed {
	t.Helper()
	if db.Dialect != dialect.Postgres {
		return changefeed.NewLocal()
	}
	f, err := changefeed.NewPostgres(context.Background(), db.SQL, db.DSN, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func received(ch <-chan struct{}, within time.Duration) bool {
	if within == 0 {
		select {
		case _, ok := <-ch:
			return ok
		default:
			return false
		}
	}
	select {
	case _, ok := <-ch:
		return ok
	case <-time.After(within):
		return false
	}
}

func TestPublishReachesLocalSubscribersAtOnce(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := open(t, db)
		defer f.Close()
		keys, stopKeys := f.Subscribe(changefeed.TopicAPIKeys)
		defer stopKeys()
		prices, stopPrices := f.Subscribe(changefeed.TopicPrices)
		defer stopPrices()

		if err := f.Publish(context.Background(), changefeed.TopicAPIKeys); err != nil {
			t.Fatal(err)
		}
		// Local delivery happens inside Publish, not a moment later.
		if !received(keys, 0) {
			t.Fatal("subscriber of the published topic was not signalled before Publish returned")
		}
		if received(prices, 50*time.Millisecond) {
			t.Fatal("subscriber of another topic was signalled")
		}
	})
}

func TestSignalsCoalesceAndNeverBlock(t *testing.T) {
	f := changefeed.NewLocal()
	defer f.Close()
	ch, stop := f.Subscribe(changefeed.TopicServices)
	defer stop()
	for range 1000 {
		if err := f.Publish(context.Background(), changefeed.TopicServices); err != nil {
			t.Fatal(err)
		}
	}
	if !received(ch, 0) {
		t.Fatal("no signal after 1000 publishes")
	}
	if received(ch, 10*time.Millisecond) {
		t.Fatal("signals did not coalesce into one")
	}
}

func TestUnsubscribeAndCloseCloseTheChannel(t *testing.T) {
	f := changefeed.NewLocal()
	ch, stop := f.Subscribe(changefeed.TopicPrices)
	stop()
	stop() // idempotent
	if _, ok := <-ch; ok {
		t.Fatal("channel still open after unsubscribe")
	}
	ch2, _ := f.Subscribe(changefeed.TopicPrices)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-ch2; ok {
		t.Fatal("channel still open after Close")
	}
	if err := f.Publish(context.Background(), changefeed.TopicPrices); err != nil {
		t.Fatalf("publish after close: %v", err)
	}
}

func TestPostgresReplicasSeeEachOthersPublishes(t *testing.T) {
	testenv.RequirePostgres(t)
	db := testenv.New(t, dialect.Postgres)
	a, b := open(t, db), open(t, db)
	defer a.Close()
	defer b.Close()
	onA, stopA := a.Subscribe(changefeed.TopicCredentials)
	defer stopA()
	onB, stopB := b.Subscribe(changefeed.TopicCredentials)
	defer stopB()

	if err := a.Publish(context.Background(), changefeed.TopicCredentials); err != nil {
		t.Fatal(err)
	}
	if !received(onA, 0) {
		t.Fatal("publisher's own subscriber not signalled at once")
	}
	if !received(onB, time.Second) {
		t.Fatal("the other replica did not see the publish within a second")
	}
	// The publisher skips its own echo: one change, one signal.
	if received(onA, 300*time.Millisecond) {
		t.Fatal("publisher signalled twice for one change")
	}
	if err := b.Publish(context.Background(), changefeed.TopicCredentials); err != nil {
		t.Fatal(err)
	}
	if !received(onA, time.Second) {
		t.Fatal("replica A did not see B's publish within a second")
	}
}

func TestPostgresListenerFailsClearlyOnBadDSN(t *testing.T) {
	testenv.RequirePostgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	db := testenv.New(t, dialect.Postgres)
	_, err := changefeed.NewPostgres(ctx, db.SQL, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1", slog.New(slog.DiscardHandler))
	if err == nil {
		t.Fatal("a listener that cannot connect was accepted")
	}
}

// TestWatchIsSynchronous: a local publish has called every watcher by the
// time it returns, which is what lets a cache refuse a disabled key at once.
func TestWatchIsSynchronous(t *testing.T) {
	f := changefeed.NewLocal()
	defer f.Close()
	var got []string
	stop := f.Watch(func(topic string) { got = append(got, topic) })
	if err := f.Publish(context.Background(), changefeed.TopicAPIKeys); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != changefeed.TopicAPIKeys {
		t.Fatalf("watcher saw %v after Publish returned", got)
	}
	stop()
	f.Publish(context.Background(), changefeed.TopicPrices)
	if len(got) != 1 {
		t.Fatalf("a stopped watcher was called: %v", got)
	}
}

// TestPostgresMessages: a message sent by one replica reaches the other's
// handlers within a second, and never its own.
func TestPostgresMessages(t *testing.T) {
	testenv.RequirePostgres(t)
	db := testenv.New(t, dialect.Postgres)
	a, b := open(t, db), open(t, db)
	defer a.Close()
	defer b.Close()
	gotA, gotB := make(chan string, 4), make(chan string, 4)
	a.(changefeed.Messenger).OnMessage(func(p string) { gotA <- p })
	b.(changefeed.Messenger).OnMessage(func(p string) { gotB <- p })
	if err := a.(changefeed.Messenger).Send(context.Background(), `{"hello":"b"}`); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-gotB:
		if p != `{"hello":"b"}` {
			t.Fatalf("B got %q", p)
		}
	case <-time.After(time.Second):
		t.Fatal("B did not get A's message within a second")
	}
	select {
	case p := <-gotA:
		t.Fatalf("A got its own message back: %q", p)
	case <-time.After(300 * time.Millisecond):
	}
	if err := a.(changefeed.Messenger).Send(context.Background(), strings.Repeat("x", changefeed.MaxMessage+1)); err == nil {
		t.Fatal("an oversized message was sent")
	}
}

// TestPostgresSchemasAreSeparate: two deployments in two schemas of one
// database neither flush each other's caches nor see each other's events.
func TestPostgresSchemasAreSeparate(t *testing.T) {
	testenv.RequirePostgres(t)
	a := open(t, testenv.New(t, dialect.Postgres))
	b := open(t, testenv.New(t, dialect.Postgres))
	defer a.Close()
	defer b.Close()
	onB, stop := b.Subscribe(changefeed.TopicAPIKeys)
	defer stop()
	got := make(chan string, 1)
	b.(changefeed.Messenger).OnMessage(func(p string) { got <- p })
	a.Publish(context.Background(), changefeed.TopicAPIKeys)
	a.(changefeed.Messenger).Send(context.Background(), "usage of another deployment")
	if received(onB, 300*time.Millisecond) {
		t.Fatal("a change in another schema flushed this one's caches")
	}
	select {
	case p := <-got:
		t.Fatalf("a message from another schema arrived: %q", p)
	case <-time.After(100 * time.Millisecond):
	}
}
