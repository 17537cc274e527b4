// Package procstat parses /proc/<pid>/stat, Linux's accounting of one
// process (proc(5)), for the gateway's process metrics and for the
// benchmark harness, which reads other processes' CPU.
package procstat

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// TicksPerSecond is USER_HZ, the unit of the time fields. It is 100 on
// every Linux Sluice runs on; reading it would need cgo.
const TicksPerSecond = 100

// ErrMalformed marks a stat line that is not in proc(5)'s format.
var ErrMalformed = errors.New("malformed /proc stat")

// Stat holds the fields Sluice reads; times are in clock ticks.
type Stat struct {
	UTime, STime uint64 // fields 14 and 15: the process's own user and system time
	// CUTime and CSTime (16 and 17) are those of its reaped children: a
	// PostgreSQL backend that exited is in its postmaster's.
	CUTime, CSTime uint64
	StartTicks     uint64 // 22: start time, ticks after boot
	VSize          uint64 // 23: virtual memory in bytes
	RSSPages       uint64 // 24: resident pages
}

// CPU is the process's own user plus system time.
func (s Stat) CPU() time.Duration { return ticks(s.UTime + s.STime) }

// ChildrenCPU is its reaped children's user plus system time.
func (s Stat) ChildrenCPU() time.Duration { return ticks(s.CUTime + s.CSTime) }

func ticks(n uint64) time.Duration { return time.Duration(n) * time.Second / TicksPerSecond }

// Read reads and parses /proc/<pid>/stat; pid may be "self".
func Read(pid string) (Stat, error) {
	data, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return Stat{}, fmt.Errorf("read process stat: %w", err)
	}
	return Parse(data)
}

// Parse parses a /proc/<pid>/stat line. The command name, field 2, is in
// parentheses and may itself hold spaces and parentheses, so fields are
// counted from the last ')'.
func Parse(data []byte) (Stat, error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return Stat{}, fmt.Errorf("process stat: no command name: %w", ErrMalformed)
	}
	f := strings.Fields(string(data[i+1:]))
	var st Stat
	for _, p := range []struct {
		n   int // as numbered in proc(5); f[0] is field 3
		dst *uint64
	}{{14, &st.UTime}, {15, &st.STime}, {16, &st.CUTime}, {17, &st.CSTime}, {22, &st.StartTicks}, {23, &st.VSize}, {24, &st.RSSPages}} {
		if p.n-3 >= len(f) {
			return Stat{}, fmt.Errorf("process stat: field %d missing: %w", p.n, ErrMalformed)
		}
		v, err := strconv.ParseUint(f[p.n-3], 10, 64)
		if err != nil {
			return Stat{}, fmt.Errorf("process stat: field %d: %w", p.n, errors.Join(ErrMalformed, err))
		}
		*p.dst = v
	}
	return st, nil
}
