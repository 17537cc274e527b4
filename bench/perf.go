package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// startPerf samples process pid's stacks with Linux perf until the returned
// stop is called, which writes an inclusive profile (every function with
// the share of CPU spent in it and below it) to prefix+".txt" and returns
// that path. Sluice serves no pprof
// endpoint, and this needs nothing from it: Go binaries carry their symbols.
func startPerf(ctx context.Context, pid int, prefix string) (stop func() (string, error), err error) {
	data := prefix + ".data"
	rec := exec.Command("perf", "record", "--quiet", "-F", "999", "-g", "-p", fmt.Sprint(pid), "-o", data)
	rec.Stderr = os.Stderr
	if err := rec.Start(); err != nil {
		return nil, fmt.Errorf("start perf record (is perf installed?): %w", err)
	}
	return func() (string, error) {
		_ = rec.Process.Signal(syscall.SIGINT)
		waited := make(chan error, 1)
		go func() { waited <- rec.Wait() }()
		select {
		case <-waited:
		case <-time.After(30 * time.Second):
			_ = rec.Process.Kill()
			<-waited
		}
		out, err := exec.CommandContext(ctx, "perf", "report", "-i", data, "--stdio", "--children",
			"--sort", "symbol", "--percent-limit", "2", "-g", "none").Output()
		if err != nil {
			return "", fmt.Errorf("perf report: %w", err)
		}
		txt := prefix + ".txt"
		if err := os.WriteFile(txt, out, 0o644); err != nil {
			return "", fmt.Errorf("write profile: %w", err)
		}
		slog.Info("CPU profile written", "file", txt, "samples", data)
		return txt, nil
	}, nil
}
