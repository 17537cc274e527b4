package tracing

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Retries of a refused export: at most maxAttempts tries, waiting the
// collector's Retry-After or else firstBackoff doubling up to maxBackoff,
// and never past the upload's deadline.
const (
	maxAttempts    = 5
	firstBackoff   = 100 * time.Millisecond
	maxBackoff     = time.Second
	defaultTimeout = 10 * time.Second
)

// exportConfig is where and how the OTLP/HTTP client sends spans.
type exportConfig struct {
	url string
	// shown is url without its user information and query, which may
	// carry credentials: what an error names.
	shown   string
	headers map[string]string
	gzip    bool
	timeout time.Duration
	tls     *tls.Config // nil: the system's roots, no client certificate
}

// env reads the trace-specific OTEL_EXPORTER_OTLP_TRACES_<name>, else the
// general OTEL_EXPORTER_OTLP_<name>.
func env(getenv func(string) string, name string) (string, string) {
	if v := getenv("OTEL_EXPORTER_OTLP_TRACES_" + name); v != "" {
		return "OTEL_EXPORTER_OTLP_TRACES_" + name, v
	}
	k := "OTEL_EXPORTER_OTLP_" + name
	return k, getenv(k)
}

// readExportConfig takes the endpoint from the flag, else
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as the full URL, else
// OTEL_EXPORTER_OTLP_ENDPOINT as the base URL; headers, compression,
// timeout and TLS files from the standard variables.
func readExportConfig(cfg Config, getenv func(string) string) (exportConfig, error) {
	var c exportConfig
	switch {
	case cfg.Endpoint != "":
		c.url = TracesURL(cfg.Endpoint)
	case getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "":
		c.url = getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	default:
		c.url = TracesURL(getenv("OTEL_EXPORTER_OTLP_ENDPOINT"))
	}
	u, err := url.Parse(c.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("tracing: the OTLP endpoint is not an http(s) URL")
	}
	c.shown = (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
	k, h := env(getenv, "HEADERS")
	if c.headers, err = parseHeaders(h); err != nil {
		return c, fmt.Errorf("tracing: %s: %w", k, err)
	}
	switch k, v := env(getenv, "COMPRESSION"); strings.ToLower(v) {
	case "", "none":
	case "gzip":
		c.gzip = true
	default:
		return c, fmt.Errorf("tracing: %s=%q is neither gzip nor none", k, v)
	}
	c.timeout = defaultTimeout
	if k, v := env(getenv, "TIMEOUT"); v != "" {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ms <= 0 {
			return c, fmt.Errorf("tracing: %s=%q is not a positive number of milliseconds", k, v)
		}
		c.timeout = time.Duration(ms) * time.Millisecond
	}
	tc, err := readTLS(getenv)
	if err != nil {
		return c, err
	}
	c.tls = tc
	return c, nil
}

// parseHeaders reads the W3C-baggage-like "k1=v1,k2=v2" of
// OTEL_EXPORTER_OTLP_HEADERS: names and values trimmed, values
// percent-decoded, empty pairs skipped. A pair without "=", with a name
// that is not an HTTP token or with a value that does not decode is an
// error naming the pair by its place, not its value (a credential, most
// often): skipped, it would show only as the collector's refusals.
func parseHeaders(s string) (map[string]string, error) {
	h := map[string]string{}
	i := 0
	for pair := range strings.SplitSeq(s, ",") {
		i++
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || !isToken(k) {
			return nil, fmt.Errorf("pair %d is not name=value with a header name", i)
		}
		dec, err := url.PathUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("the value of %s (pair %d) is not percent-encoded correctly", k, i)
		}
		h[k] = strings.TrimSpace(dec)
	}
	return h, nil
}

// isToken reports whether s is an HTTP header name (RFC 9110 token).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > 0x7e || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}

// readTLS loads OTEL_EXPORTER_OTLP_CERTIFICATE (the roots to trust) and
// OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE with _CLIENT_KEY (a client
// certificate); nil when none is set.
func readTLS(getenv func(string) string) (*tls.Config, error) {
	caKey, ca := env(getenv, "CERTIFICATE")
	_, cert := env(getenv, "CLIENT_CERTIFICATE")
	_, key := env(getenv, "CLIENT_KEY")
	if ca == "" && cert == "" && key == "" {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("tracing: read %s: %w", caKey, err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tracing: %s holds no PEM certificate", caKey)
		}
	}
	if cert != "" || key != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("tracing: load the OTLP client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	return tc, nil
}

// otlpHTTP is an otlptrace.Client that POSTs protobuf export requests to
// an OTLP/HTTP collector.
type otlpHTTP struct {
	cfg     exportConfig
	hc      *http.Client
	stopped context.Context // done once Stop is called
	stop    context.CancelFunc
}

func newOTLPHTTP(cfg exportConfig) *otlpHTTP {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.tls != nil {
		tr.TLSClientConfig = cfg.tls
	}
	stopped, stop := context.WithCancel(context.Background())
	return &otlpHTTP{cfg: cfg, hc: &http.Client{Transport: tr}, stopped: stopped, stop: stop}
}

// Start does nothing: connections are made by the first upload.
func (c *otlpHTTP) Start(context.Context) error { return nil }

// Stop cancels the uploads in flight and closes idle connections.
func (c *otlpHTTP) Stop(context.Context) error {
	c.stop()
	c.hc.CloseIdleConnections()
	return nil
}

// UploadTraces sends one export request within the timeout, retrying
// while the collector answers 429, 502, 503 or 504.
func (c *otlpHTTP) UploadTraces(ctx context.Context, spans []*tracepb.ResourceSpans) error {
	if c.stopped.Err() != nil {
		return errors.New("tracing: the OTLP client is stopped")
	}
	body, err := exportRequest(spans)
	if err != nil {
		return err
	}
	if c.cfg.gzip {
		if body, err = gzipped(body); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.timeout)
	defer cancel()
	defer context.AfterFunc(c.stopped, cancel)()
	wait := firstBackoff
	for attempt := 1; ; attempt++ {
		after, err := c.post(ctx, body)
		if err == nil || after < 0 || attempt == maxAttempts {
			return err
		}
		if after == 0 {
			after, wait = wait, min(2*wait, maxBackoff)
		}
		if d, ok := ctx.Deadline(); ok && time.Until(d) < after {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(after):
		}
	}
}

// post sends body once. A retryable refusal comes with the wait the
// collector asked for (0: none asked); any other error with -1.
func (c *otlpHTTP) post(ctx context.Context, body []byte) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.url, bytes.NewReader(body))
	if err != nil {
		return -1, fmt.Errorf("tracing: build the OTLP request: %w", err)
	}
	for k, v := range c.cfg.headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	if c.cfg.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// The client's error names the URL with its query, which may
		// carry a token; name the endpoint without it.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return -1, fmt.Errorf("tracing: export spans to %s: %w", c.cfg.shown, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, nil
	}
	err = fmt.Errorf("tracing: the OTLP collector answered %s", resp.Status)
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return retryAfter(resp.Header.Get("Retry-After"), time.Now()), err
	}
	return -1, err
}

// retryAfter is the wait a Retry-After header asks for, in seconds or as
// an HTTP date; 0 when absent, unreadable or past.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return max(time.Duration(s)*time.Second, 0)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// exportRequest encodes an ExportTraceServiceRequest, whose one field is
// repeated ResourceSpans resource_spans = 1: each message as field 1,
// length-delimited.
func exportRequest(spans []*tracepb.ResourceSpans) ([]byte, error) {
	var b []byte
	for _, rs := range spans {
		m, err := proto.Marshal(rs)
		if err != nil {
			return nil, fmt.Errorf("tracing: encode spans: %w", err)
		}
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, m)
	}
	return b, nil
}

func gzipped(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		return nil, fmt.Errorf("tracing: compress spans: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("tracing: compress spans: %w", err)
	}
	return buf.Bytes(), nil
}
