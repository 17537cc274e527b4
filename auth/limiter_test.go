package auth

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
)

// eachStore runs fn with a limiter of max attempts a minute in memory and
// one shared through the test database's throttle_marks, both on a clock
// the test moves.
func eachStore(t *testing.T, max int, fn func(t *testing.T, l *Limiter, now *time.Time)) {
	t.Run("memory", func(t *testing.T) {
		now := time.Unix(1_000_000, 0)
		l := NewLimiter("test", max, time.Minute)
		l.now = func() time.Time { return now }
		fn(t, l, &now)
	})
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		now := time.Unix(1_000_000, 0)
		l := NewLimiter("test", max, time.Minute)
		l.Shared = NewMarks(db.SQL, db.Dialect)
		l.now = func() time.Time { return now }
		fn(t, l, &now)
	})
}

func TestLimiter(t *testing.T) {
	ctx := context.Background()
	eachStore(t, 3, func(t *testing.T, l *Limiter, now *time.Time) {
		take := func(keys ...string) time.Duration {
			t.Helper()
			_, wait, err := l.Take(ctx, keys...)
			if err != nil {
				t.Fatal(err)
			}
			return wait
		}
		for i := 0; i < 3; i++ {
			if wait := take("u", "ip"); wait != 0 {
				t.Fatalf("attempt %d refused for %v", i+1, wait)
			}
			*now = now.Add(10 * time.Second)
		}
		if wait := take("other", "ip"); wait != 30*time.Second {
			t.Fatalf("wait %v, want 30s (the oldest attempt leaves the window then)", wait)
		}
		if wait := take("other"); wait != 0 {
			t.Fatalf("a refusal counted an attempt for its other key: wait %v", wait)
		}
		*now = now.Add(30 * time.Second)
		if wait := take("u"); wait != 0 {
			t.Fatalf("still refused for %v after the oldest attempt left the window", wait)
		}
		// A returned attempt does not count.
		tk, wait, err := l.Take(ctx, "r")
		if err != nil || wait != 0 {
			t.Fatal(wait, err)
		}
		if err := tk.Return(ctx); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			if wait := take("r"); wait != 0 {
				t.Fatalf("attempt %d after a return refused for %v", i+1, wait)
			}
		}
		if wait := take("r"); wait == 0 {
			t.Fatal("a 4th attempt passed")
		}
	})
}

// TestLimiterConcurrentAttempts: attempts taken at once, by two limiters
// sharing the marks as two replicas would, are counted one after another:
// exactly the limit passes.
func TestLimiterConcurrentAttempts(t *testing.T) {
	ctx := context.Background()
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		replicas := []*Limiter{NewLimiter("test", 5, time.Minute), NewLimiter("test", 5, time.Minute)}
		for _, l := range replicas {
			l.Shared = NewMarks(db.SQL, db.Dialect)
		}
		var mu sync.Mutex
		passed := 0
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, wait, err := replicas[i%2].Take(ctx, "pair", "user")
				if err != nil {
					t.Error(err)
					return
				}
				if wait == 0 {
					mu.Lock()
					passed++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if passed != 5 {
			t.Fatalf("%d of 40 concurrent attempts passed a limit of 5", passed)
		}
	})
}
