package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
)

// newFloor returns the floor: the standard library's reverse proxy in front
// of upstream, with a keep-alive pool large enough for the harness's
// highest concurrency and the upstream key swapped in (what the least any
// gateway must do). Whatever Sluice spends beyond this is the price of its
// governance and its own code.
//
// Each request is served full duplex: without it, net/http's server
// discards and closes the request body when the response header goes out
// (as soon as a stream's first event arrives), racing the transport that
// is still reading that body to its EOF; the transport then sees a read
// error, closes the upstream connection mid-stream and the client gets a
// truncated answer (a few percent of streams at concurrency 1).
func newFloor(upstream *url.URL) http.Handler {
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          4096,
		MaxIdleConnsPerHost:   4096,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute,
	}
	rp := &httputil.ReverseProxy{
		Transport: tr,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(upstream)
			pr.Out.Header.Set("Authorization", "Bearer sk-upstream")
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).EnableFullDuplex()
		rp.ServeHTTP(w, r)
	})
}

// runFloorCommand is `bench floor --upstream URL`: the floor as a process
// of its own, so that its CPU and memory are read from /proc exactly like
// Sluice's.
func runFloorCommand(args []string) error {
	fs := flag.NewFlagSet("floor", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	upstream := fs.String("upstream", "", "base URL of the upstream (the mock), e.g. http://127.0.0.1:9000")
	if err := fs.Parse(args); err != nil {
		return err
	}
	u, err := url.Parse(*upstream)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("floor: --upstream must be an absolute URL, got %q", *upstream)
	}
	return serveHelper(*addr, newFloor(u))
}
