package metrics

import (
	"errors"
	"math"
	"runtime"
	"testing"
	"time"
)

// TestProcessAndRuntimeMetrics checks that the process and Go runtime
// families appear with plausible values.
func TestProcessAndRuntimeMetrics(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("process metrics come from /proc")
	}
	e := scrape(t, New())
	get := func(name string) float64 {
		t.Helper()
		v, ok := e.value(name)
		if !ok {
			t.Fatalf("%s missing", name)
		}
		return v
	}
	now := float64(time.Now().Unix())
	rss, vsize := get("process_resident_memory_bytes"), get("process_virtual_memory_bytes")
	openFDs, maxFDs := get("process_open_fds"), get("process_max_fds")
	heapAlloc, heapInuse, sys := get("go_memstats_heap_alloc_bytes"), get("go_memstats_heap_inuse_bytes"), get("go_memstats_sys_bytes")
	for _, c := range []struct {
		what string
		ok   bool
	}{
		{"resident memory > 0", rss > 0},
		{"virtual memory >= resident", vsize >= rss},
		{"CPU seconds >= 0", get("process_cpu_seconds_total") >= 0},
		{"started within the last day", math.Abs(now-get("process_start_time_seconds")) < 86400},
		{"open fds >= 3", openFDs >= 3},
		{"open fds <= max fds", openFDs <= maxFDs},
		{"virtual memory max > 0", get("process_virtual_memory_max_bytes") > 0},
		{"goroutines >= 1", get("go_goroutines") >= 1},
		{"threads >= 1", get("go_threads") >= 1},
		{"heap alloc > 0", heapAlloc > 0},
		{"heap in use >= heap alloc", heapInuse >= heapAlloc},
		{"sys >= heap in use", sys >= heapInuse},
		{"GC cycles >= 0", get("go_gc_cycles_total") >= 0},
	} {
		if !c.ok {
			t.Errorf("implausible: %s", c.what)
		}
	}
	for name, typ := range map[string]string{
		"process_cpu_seconds_total": "counter", "go_gc_cycles_total": "counter",
		"process_resident_memory_bytes": "gauge", "go_goroutines": "gauge", "go_info": "gauge",
	} {
		if e.typ[name] != typ {
			t.Errorf("%s has TYPE %q, want %s", name, e.typ[name], typ)
		}
	}
	if v, ok := e.value("go_info", "version", runtime.Version()); !ok || v != 1 {
		t.Errorf("go_info{version=%q} = %v, %v", runtime.Version(), v, ok)
	}
}

func TestParseLimits(t *testing.T) {
	const header = "Limit                     Soft Limit           Hard Limit           Units     \n"
	for _, tc := range []struct {
		name, data string
		want       limits
		err        error
	}{
		{
			name: "numbers and unlimited",
			data: header + "Max cpu time              unlimited            unlimited            seconds   \n" +
				"Max open files            1024                 524288               files     \n" +
				"Max address space         unlimited            unlimited            bytes     \n",
			want: limits{openFiles: 1024, addressSpace: math.MaxUint64},
		},
		{name: "missing address space", data: header + "Max open files            1024                 4096                 files\n", err: errMalformed},
		{name: "empty value", data: header + "Max open files\nMax address space 1 1 bytes\n", err: errMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseLimits([]byte(tc.data))
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Errorf("parseLimits = %+v, %v; want %+v, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

func TestParseBootTime(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       float64
		err        bool
	}{
		{name: "present", data: "cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n", want: 1700000000},
		{name: "absent", data: "cpu  1 2 3\n", err: true},
		{name: "garbled", data: "btime soon\n", err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseBootTime([]byte(tc.data))
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("parseBootTime = %v, %v; want %v, error %v", got, err, tc.want, tc.err)
			}
		})
	}
}
