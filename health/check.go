package health

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// ReadyPath is where the readiness probe is served.
const ReadyPath = "/readyz"

// LivePath is where the liveness probe is served.
const LivePath = "/healthz"

// LocalURL is the readiness URL of a gateway listening on addr, as seen
// from its own host: an address listening on every interface (":8080",
// "0.0.0.0:8080", "[::]:8080") is reached on loopback.
func LocalURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("listen address %q: %w", addr, err)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + ReadyPath, nil
}

// Check GETs url and returns the first line of its answer; an answer
// other than 200 is an error that carries that line.
func Check(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	// A fresh connection each time, and no proxy from the environment: the
	// check is of this host's gateway.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("readiness check: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	if resp.StatusCode != http.StatusOK {
		return line, fmt.Errorf("readiness check: %s answered %d: %s", url, resp.StatusCode, line)
	}
	return line, nil
}
