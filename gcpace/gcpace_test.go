package gcpace_test

import (
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/sluicehq/sluice/gcpace"
)

func TestPercent(t *testing.T) {
	const mb = 1 << 20
	cases := []struct {
		name           string
		base, headroom uint64
		want           int
	}{
		{"empty heap gets the cap", 0, 32 * mb, 5000},
		{"tiny heap is capped", 100 << 10, 32 * mb, 5000},
		{"small heap grows by the headroom", 4 * mb, 32 * mb, 800},
		{"heap equal to the headroom is GOGC=100", 32 * mb, 32 * mb, 100},
		{"large heap never goes below GOGC=100", 500 * mb, 32 * mb, 100},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := gcpace.Percent(c.base, c.headroom); got != c.want {
				t.Fatalf("Percent(%d, %d) = %d, want %d", c.base, c.headroom, got, c.want)
			}
		})
	}
}

func read(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func gogc() int { return int(read("/gc/gogc:percent")) }

// waitGOGC collects until the pacer (which runs after each cycle, on the
// finalizer goroutine) has set a GOGC that ok accepts.
func waitGOGC(t *testing.T, ok func(int) bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok(gogc()) {
		if time.Now().After(deadline) {
			t.Fatalf("GOGC is %d; want %s", gogc(), what)
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}

var live []byte

// TestStartFollowsTheLiveHeap: the pacer raises GOGC while little is alive,
// drops to 100 once the live heap passes the headroom, and raises it again
// when that memory dies, which shows it is re-armed after every cycle.
func TestStartFollowsTheLiveHeap(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	if !gcpace.Start(t.Context(), 16<<20) {
		t.Fatal("Start did not start with GOGC and GOMEMLIMIT unset")
	}
	waitGOGC(t, func(p int) bool { return p > 200 }, "well above 100 with a small heap")
	live = make([]byte, 64<<20)
	waitGOGC(t, func(p int) bool { return p == 100 }, "100 with 64 MB alive")
	live = nil
	waitGOGC(t, func(p int) bool { return p > 200 }, "above 100 again once the 64 MB died")
}

func TestOperatorSettingWins(t *testing.T) {
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, "200")
			if gcpace.Start(t.Context(), 16<<20) {
				t.Fatalf("Start paced the collector although %s is set", env)
			}
		})
	}
}

var sink []byte

// TestQuietReturnsMemory: garbage left by a burst is collected and handed
// back to the OS once allocation goes quiet, once per quiet spell.
func TestQuietReturnsMemory(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	defer gcpace.SetQuietEvery(20 * time.Millisecond)()
	// A headroom past the burst, so only the quiet check can collect it.
	if !gcpace.Start(t.Context(), 256<<20) {
		t.Fatal("Start did not start")
	}
	runtime.GC()
	time.Sleep(400 * time.Millisecond) // let start-up's own release pass
	forced := read("/gc/cycles/forced:gc-cycles")
	for range 3000 { // a burst: 24 MB of garbage
		sink = make([]byte, 8<<10)
	}
	sink = nil
	if held := read("/memory/classes/heap/objects:bytes"); held < 20<<20 {
		t.Fatalf("the burst left %d MB in the heap; the headroom should have kept at least 20", held>>20)
	}
	deadline := time.Now().Add(5 * time.Second)
	for read("/gc/cycles/forced:gc-cycles") == forced {
		if time.Now().After(deadline) {
			t.Fatal("no collection after the burst went quiet")
		}
		time.Sleep(10 * time.Millisecond)
	}
	once := read("/gc/cycles/forced:gc-cycles")
	// FreeOSMemory returns once its collection and release are done; give
	// the pacer's goroutine a moment to get there.
	deadline = time.Now().Add(5 * time.Second)
	for read("/memory/classes/heap/objects:bytes")+read("/memory/classes/heap/free:bytes") > 12<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("after the quiet collection the heap still holds %d MB of objects and %d MB of unreleased free pages",
				read("/memory/classes/heap/objects:bytes")>>20, read("/memory/classes/heap/free:bytes")>>20)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // another quiet spell and more
	if again := read("/gc/cycles/forced:gc-cycles"); again != once {
		t.Fatalf("%d more forced collections in one quiet spell, want none", again-once)
	}
}

// TestShortGapsKeepTheHeap: bursts separated by gaps shorter than a quiet
// spell do not release memory, which the next burst would fault in again.
func TestShortGapsKeepTheHeap(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	// A spell is 400 ms; gaps of 60 ms leave a loaded machine 340 ms to
	// spare before this test would see a release it should not.
	defer gcpace.SetQuietEvery(40 * time.Millisecond)()
	if !gcpace.Start(t.Context(), 256<<20) {
		t.Fatal("Start did not start")
	}
	runtime.GC()
	time.Sleep(700 * time.Millisecond) // let start-up's own release pass
	forced := read("/gc/cycles/forced:gc-cycles")
	for range 6 {
		for range 1000 { // 8 MB of garbage
			sink = make([]byte, 8<<10)
		}
		sink = nil
		time.Sleep(60 * time.Millisecond)
	}
	if n := read("/gc/cycles/forced:gc-cycles") - forced; n != 0 {
		t.Fatalf("%d forced collections between bursts 60 ms apart; a quiet spell is 400 ms", n)
	}
}
