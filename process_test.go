package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests in this file run the real binary as separate processes: what
// operators run, signals and all.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// sluiceBinary builds the gateway once per test run.
func sluiceBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sluice-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "sluice")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// process is a running gateway.
type process struct {
	cmd  *exec.Cmd
	base string
	logs *syncBuffer
	done chan error
}

// startProcess runs the binary with env on a free port and waits for it.
func startProcess(t *testing.T, env map[string]string) *process {
	t.Helper()
	return startProcessOf(t, sluiceBinary(t), env)
}

// startProcessOf runs the gateway binary bin with env on a free port and
// waits for it.
func startProcessOf(t *testing.T, bin string, env map[string]string) *process {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve", "--addr", addr)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &process{cmd: cmd, base: "http://" + addr, logs: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(p.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("sluice exited before it was ready: %v\n%s", err, p.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sluice was not ready within 30s:\n%s", p.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for the exit.
func (p *process) stop(t *testing.T, within time.Duration) error {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		return err
	case <-time.After(within):
		t.Fatalf("sluice did not stop within %v after SIGTERM:\n%s", within, p.logs.String())
	}
	return nil
}

// post sends a JSON body with a bearer key.
func post(t *testing.T, url, key, body string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// setupService logs in as admin, creates a service over upstream with the
// given limits, and a key; it returns the admin token and the key.
func setupService(t *testing.T, base, password, upstream, limits string) (token, key string, serviceID any) {
	t.Helper()
	token = dig(gql(t, base, "", `mutation($p: String!) { login(username: "admin", password: $p) { token } }`, map[string]any{"p": password}), "login", "token").(string)
	svc := gql(t, base, token, `mutation($u: String!) { createService(input: {serviceName: "chat", provider: "openai", baseUrl: $u,
		providerApiKey: "sk-upstream-secret", modelsEnabled: ["gpt-4o-mini"] `+limits+`}) { id } }`, map[string]any{"u": upstream + "/v1"})
	serviceID = dig(svc, "createService", "id")
	key = dig(gql(t, base, token, `mutation($s: ID!) { createAPIKey(input: {name: "app", serviceId: $s}) { key } }`,
		map[string]any{"s": serviceID}), "createAPIKey", "key").(string)
	return token, key, serviceID
}
