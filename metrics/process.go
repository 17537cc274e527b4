package metrics

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"

	"github.com/sluicehq/sluice/internal/procstat"
)

// The process and Go runtime families carry the names client_golang's
// process and Go collectors used, so existing dashboards keep working.
const (
	processCPUName      = "process_cpu_seconds_total"
	processOpenFDsName  = "process_open_fds"
	processMaxFDsName   = "process_max_fds"
	processVirtualName  = "process_virtual_memory_bytes"
	processVirtMaxName  = "process_virtual_memory_max_bytes"
	processResidentName = "process_resident_memory_bytes"
	processStartName    = "process_start_time_seconds"

	goGoroutinesName = "go_goroutines"
	goThreadsName    = "go_threads"
	goHeapAllocName  = "go_memstats_heap_alloc_bytes"
	goHeapInuseName  = "go_memstats_heap_inuse_bytes"
	goSysName        = "go_memstats_sys_bytes"
	goGCCyclesName   = "go_gc_cycles_total"
	goInfoName       = "go_info"
)

var processNames = [...]string{
	processCPUName, processOpenFDsName, processMaxFDsName, processVirtualName,
	processVirtMaxName, processResidentName, processStartName,
}

var runtimeNames = [...]string{
	goGoroutinesName, goThreadsName, goHeapAllocName, goHeapInuseName, goSysName, goGCCyclesName, goInfoName,
}

var errMalformed = errors.New("malformed")

// appendProcessFamilies reads the process metrics from /proc/self. Where
// /proc is missing or unreadable (not Linux, a locked-down container) the
// affected metrics are left out quietly: the scrape is still useful.
func appendProcessFamilies(fams []family) []family {
	add := func(name, help, typ string, v float64) {
		fams = append(fams, family{name: name, help: help, typ: typ, rows: []row{{value: v}}})
	}
	if st, err := procstat.Read("self"); err == nil {
		add(processCPUName, "Total user and system CPU time spent in seconds.", typeCounter, st.CPU().Seconds())
		add(processVirtualName, "Virtual memory size in bytes.", typeGauge, float64(st.VSize))
		add(processResidentName, "Resident memory size in bytes.", typeGauge, float64(st.RSSPages)*float64(os.Getpagesize()))
		if bt, err := bootTime(); err == nil {
			add(processStartName, "Start time of the process since unix epoch in seconds.", typeGauge, bt+float64(st.StartTicks)/procstat.TicksPerSecond)
		}
	}
	if n, err := openFDs(); err == nil {
		add(processOpenFDsName, "Number of open file descriptors.", typeGauge, float64(n))
	}
	if l, err := readLimits(); err == nil {
		add(processMaxFDsName, "Maximum number of open file descriptors.", typeGauge, float64(l.openFiles))
		add(processVirtMaxName, "Maximum amount of virtual memory available in bytes.", typeGauge, float64(l.addressSpace))
	}
	return fams
}

// bootTime is when the system booted, in seconds since the epoch, which
// turns the start time in /proc/self/stat (ticks since boot) into a
// timestamp. It cannot change while the process runs, so it is read once.
var bootTime = sync.OnceValues(func() (float64, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("read boot time: %w", err)
	}
	return parseBootTime(data)
})

func parseBootTime(data []byte) (float64, error) {
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "btime "); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("boot time: %w", err)
			}
			return float64(n), nil
		}
	}
	if err := s.Err(); err != nil {
		return 0, fmt.Errorf("boot time: %w", err)
	}
	return 0, fmt.Errorf("boot time: no btime line: %w", errMalformed)
}

// openFDs counts the open file descriptors.
func openFDs() (int, error) {
	// Since Linux 6.2 the size of the fd directory is the count, which
	// saves listing thousands of descriptors on a busy gateway.
	if fi, err := os.Stat("/proc/self/fd"); err == nil && fi.Size() > 0 {
		return int(fi.Size()), nil
	}
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return 0, fmt.Errorf("count open files: %w", err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return 0, fmt.Errorf("count open files: %w", err)
	}
	return len(names), nil
}

// limits holds the soft limits the metrics use; unlimited reads as the
// largest uint64, as procfs had it.
type limits struct {
	openFiles, addressSpace uint64
}

func readLimits() (limits, error) {
	data, err := os.ReadFile("/proc/self/limits")
	if err != nil {
		return limits{}, fmt.Errorf("read limits: %w", err)
	}
	return parseLimits(data)
}

// parseLimits parses /proc/<pid>/limits, whose columns are the limit's
// name, soft limit, hard limit and unit.
func parseLimits(data []byte) (limits, error) {
	var l limits
	found := 0
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		var dst *uint64
		rest, ok := strings.CutPrefix(s.Text(), "Max open files")
		if ok {
			dst = &l.openFiles
		} else if rest, ok = strings.CutPrefix(s.Text(), "Max address space"); ok {
			dst = &l.addressSpace
		} else {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return limits{}, fmt.Errorf("limits: %q: %w", s.Text(), errMalformed)
		}
		if f[0] == "unlimited" {
			*dst = math.MaxUint64
		} else {
			v, err := strconv.ParseUint(f[0], 10, 64)
			if err != nil {
				return limits{}, fmt.Errorf("limits: %w", err)
			}
			*dst = v
		}
		found++
	}
	if err := s.Err(); err != nil {
		return limits{}, fmt.Errorf("limits: %w", err)
	}
	if found != 2 {
		return limits{}, fmt.Errorf("limits: open files or address space missing: %w", errMalformed)
	}
	return l, nil
}

// Names of the runtime/metrics samples read at each scrape. They are read
// with runtime/metrics because runtime.ReadMemStats stops the world.
const (
	rmThreads     = "/sched/threads/total:threads"
	rmHeapObjects = "/memory/classes/heap/objects:bytes"
	rmHeapUnused  = "/memory/classes/heap/unused:bytes"
	rmTotal       = "/memory/classes/total:bytes"
	rmGCCycles    = "/gc/cycles/total:gc-cycles"
)

// appendRuntimeFamilies reads the Go runtime metrics.
func appendRuntimeFamilies(fams []family) []family {
	samples := []metrics.Sample{{Name: rmThreads}, {Name: rmHeapObjects}, {Name: rmHeapUnused}, {Name: rmTotal}, {Name: rmGCCycles}}
	metrics.Read(samples)
	value := func(i int) (float64, bool) {
		if samples[i].Value.Kind() != metrics.KindUint64 {
			return 0, false // not supported by this Go release
		}
		return float64(samples[i].Value.Uint64()), true
	}
	add := func(name, help, typ string, v float64) {
		fams = append(fams, family{name: name, help: help, typ: typ, rows: []row{{value: v}}})
	}
	add(goGoroutinesName, "Number of goroutines that currently exist.", typeGauge, float64(runtime.NumGoroutine()))
	threads, ok := value(0)
	if !ok {
		n, _ := runtime.ThreadCreateProfile(nil) // what client_golang counted
		threads = float64(n)
	}
	add(goThreadsName, "Number of OS threads created.", typeGauge, threads)
	objects, okObjects := value(1)
	if okObjects {
		add(goHeapAllocName, "Number of heap bytes allocated and currently in use. Equals to /memory/classes/heap/objects:bytes.", typeGauge, objects)
	}
	if unused, ok := value(2); ok && okObjects {
		add(goHeapInuseName, "Number of heap bytes that are in use. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes", typeGauge, objects+unused)
	}
	if v, ok := value(3); ok {
		add(goSysName, "Number of bytes obtained from system. Equals to /memory/classes/total:bytes.", typeGauge, v)
	}
	if v, ok := value(4); ok {
		add(goGCCyclesName, "Number of completed GC cycles. Equals to /gc/cycles/total:gc-cycles.", typeCounter, v)
	}
	fams = append(fams, family{name: goInfoName, help: "Information about the Go environment.", typ: typeGauge,
		labels: []string{"version"}, rows: []row{{values: []string{runtime.Version()}, value: 1}}})
	return fams
}
