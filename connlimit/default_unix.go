//go:build unix

package connlimit

import "syscall"

// Default is the cap when none is configured: half the process's file
// descriptor limit (which Go raises to the hard limit at start), leaving
// the other half for upstream calls, the database and the files a proxied
// connection needs beside its own.
func Default() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur == 0 {
		return fallback
	}
	if lim.Cur > 2*maxDefault {
		return maxDefault
	}
	return max(int(lim.Cur/2), 16)
}
