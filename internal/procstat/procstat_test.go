package procstat

import (
	"errors"
	"os"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	// Fields 3 to 25 of proc(5); utime 14, stime 15, cutime 16, cstime 17,
	// starttime 22, vsize 23, rss 24.
	const tail = " S 1 2 3 4 5 6 7 8 9 10 250 50 300 400 20 0 8 0 12345 1000000 300 18446744073709551615\n"
	want := Stat{UTime: 250, STime: 50, CUTime: 300, CSTime: 400, StartTicks: 12345, VSize: 1000000, RSSPages: 300}
	for _, tc := range []struct {
		name, data string
		want       Stat
		err        bool
	}{
		{name: "plain", data: "42 (sluice)" + tail, want: want},
		{name: "command with spaces and parens", data: "42 (a) b (c))" + tail, want: want},
		{name: "no command", data: "42 sluice S 1 2", err: true},
		{name: "truncated", data: "42 (sluice) S 1 2 3", err: true},
		{name: "not a number", data: "42 (sluice) S 1 2 3 4 5 6 7 8 9 10 x 50 0 0 20 0 8 0 1 2 3", err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.data))
			if (err != nil) != tc.err || got != tc.want {
				t.Fatalf("Parse = %+v, %v; want %+v, error %v", got, err, tc.want, tc.err)
			}
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
		})
	}
	if got := want.CPU(); got != 3*time.Second {
		t.Errorf("CPU = %v, want 3s (300 ticks)", got)
	}
	if got := want.ChildrenCPU(); got != 7*time.Second {
		t.Errorf("ChildrenCPU = %v, want 7s (700 ticks)", got)
	}
}

func TestReadSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc here")
	}
	st, err := Read("self")
	if err != nil || st.RSSPages == 0 || st.VSize == 0 {
		t.Fatalf("Read(self) = %+v, %v", st, err)
	}
}
