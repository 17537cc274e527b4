package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sluicehq/sluice/internal/procstat"
)

// readCPU returns the user plus system CPU time process pid has used, all
// its threads included: measured from the kernel's accounting, it holds
// however noisy the machine is.
func readCPU(pid int) (time.Duration, error) {
	st, err := procstat.Read(strconv.Itoa(pid))
	if err != nil {
		return 0, fmt.Errorf("CPU of %d: %w", pid, err)
	}
	return st.CPU(), nil
}

// readCommandCPU sums the CPU time of every process named comm on this
// machine, with that of their reaped children (a PostgreSQL backend that
// exited is in its postmaster's cutime), for a database server the harness
// shares the machine with.
func readCommandCPU(comm string) (time.Duration, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("list processes: %w", err)
	}
	var total time.Duration
	found := false
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		name, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if err != nil || strings.TrimSpace(string(name)) != comm {
			continue // gone, or another program
		}
		st, err := procstat.Read(e.Name())
		if errors.Is(err, procstat.ErrMalformed) {
			return 0, err
		} else if err != nil {
			continue // gone
		}
		total += st.CPU() + st.ChildrenCPU()
		found = true
	}
	if !found {
		return 0, fmt.Errorf("no process named %s on this machine", comm)
	}
	return total, nil
}

// localDSN reports whether a PostgreSQL URL names this machine.
func localDSN(dsn string) bool {
	u, err := url.Parse(dsn)
	if err != nil {
		return false
	}
	switch u.Hostname() {
	case "", "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

// memInfo is a process's resident memory in bytes: now and its high-water
// mark since start; and now, split into anonymous memory (heap, stacks) and
// file pages (mostly the executable's own code and read-only data, which
// the kernel maps in as code runs and can drop and re-read at will).
type memInfo struct{ RSS, HWM, Anon, File int64 }

// readMem reads VmRSS and VmHWM from /proc/<pid>/status.
func readMem(pid int) (memInfo, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memInfo{}, fmt.Errorf("read memory of %d: %w", pid, err)
	}
	return parseStatusMem(b)
}

// parseStatusMem extracts VmRSS and VmHWM, and RssAnon and RssFile where
// the kernel reports them (all in kB), from a /proc/<pid>/status file.
func parseStatusMem(b []byte) (memInfo, error) {
	var m memInfo
	fields := map[string]*int64{"VmRSS": &m.RSS, "VmHWM": &m.HWM, "RssAnon": &m.Anon, "RssFile": &m.File}
	found := 0
	for line := range strings.Lines(string(b)) {
		key, val, ok := strings.Cut(line, ":")
		into := fields[key]
		if !ok || into == nil {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			return memInfo{}, fmt.Errorf("parse %s: %w", key, err)
		}
		*into = kb << 10
		if key == "VmRSS" || key == "VmHWM" {
			found++
		}
	}
	if found != 2 {
		return memInfo{}, errors.New("parse /proc status: VmRSS or VmHWM missing")
	}
	return m, nil
}

// child is a process the harness started and must stop.
type child struct {
	name   string
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
	err    error // set before exited closes
}

// Pid is the child's process id, the one /proc is read for.
func (c *child) Pid() int { return c.cmd.Process.Pid }

// startChild starts bin with args and env added to the harness's own
// environment; its stdout and stderr go to logPath. The child is killed if
// the harness dies, so an interrupted run leaves nothing listening.
func startChild(name, bin, logPath string, args, env []string) (*child, io.Reader, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, nil, fmt.Errorf("create %s log: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, nil, fmt.Errorf("%s stdout: %w", name, err)
	}
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, log: logPath, exited: make(chan struct{})}
	// The first stdout line goes to the caller; the rest to the log.
	pr, pw := io.Pipe()
	go func() {
		r := bufio.NewReader(stdout)
		first, err := r.ReadString('\n')
		_, _ = pw.Write([]byte(first))
		pw.CloseWithError(err)
		_, _ = io.Copy(logf, r)
	}()
	go func() {
		c.err = cmd.Wait()
		logf.Close()
		close(c.exited)
	}()
	return c, pr, nil
}

// startHelper re-executes the harness binary as a helper (mock or floor)
// and returns it with the base URL it announced.
func startHelper(ctx context.Context, self, dir, name string, args ...string) (*child, string, error) {
	c, first, err := startChild(name, self, filepath.Join(dir, name+".log"), append([]string{name}, args...), nil)
	if err != nil {
		return nil, "", err
	}
	line := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(first)
		line <- strings.TrimSpace(string(b))
	}()
	select {
	case l := <-line:
		if u, ok := strings.CutPrefix(l, "listening "); ok {
			return c, u, nil
		}
		c.stop()
		return nil, "", fmt.Errorf("%s did not start (said %q): %s", name, l, c.logTail())
	case <-time.After(15 * time.Second):
		c.stop()
		return nil, "", fmt.Errorf("%s did not announce its address within 15s", name)
	case <-ctx.Done():
		c.stop()
		return nil, "", ctx.Err()
	}
}

// stop asks the child to shut down (SIGTERM) and kills it if it has not
// exited after a grace period.
func (c *child) stop() {
	select {
	case <-c.exited:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		slog.Warn("child did not stop after SIGTERM; killing it", "child", c.name, "pid", c.Pid())
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

// logTail returns the last lines of the child's log, for error messages.
func (c *child) logTail() string {
	b, err := os.ReadFile(c.log)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return "last log lines of " + c.name + ":\n  " + strings.Join(lines[max(0, len(lines)-8):], "\n  ")
}

// waitHTTP polls url until it answers 200, the child exits, or timeout.
func waitHTTP(ctx context.Context, c *child, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(url)
		if err == nil {
			drainAndClose(resp.Body)
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-c.exited:
			return fmt.Errorf("%s exited during start-up (%v): %s", c.name, c.err, c.logTail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer 200 on %s within %s: %s", c.name, url, timeout, c.logTail())
		}
	}
}

// freeAddr returns a loopback address with a port nothing listens on, for
// a child that takes its address as a setting.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr, nil
}
