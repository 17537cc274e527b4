package main

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestMetricsNeedToken: /metrics names every organization's services and
// costs, so the main listener serves it only to the bearer of
// --metrics-token, and not at all without one; a separate --metrics-addr
// listener asks for the token too when one is set.
func TestMetricsNeedToken(t *testing.T) {
	const token = "metrics-token-0123456789"
	free := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}
	type probe struct {
		separate bool   // on --metrics-addr rather than --addr
		auth     string // Authorization header
		want     int
	}
	cases := []struct {
		name   string
		token  string
		addr   bool // give --metrics-addr
		probes []probe
	}{
		{"no token", "", false, []probe{{false, "", 404}, {false, "Bearer " + token, 404}}},
		{"token", token, false, []probe{
			{false, "", 401}, {false, "Bearer wrong-token-0123456789", 401}, {false, "Basic " + token, 401}, {false, token, 401},
			{false, "Bearer " + token, 200}, {false, "bearer " + token, 200},
		}},
		{"no token, separate listener", "", true, []probe{{false, "", 404}, {true, "", 200}}},
		{"token, separate listener", token, true, []probe{{true, "", 401}, {true, "Bearer " + token, 200}, {false, "Bearer " + token, 200}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var args []string
			metricsBase := ""
			if c.addr {
				a := free()
				args = append(args, "--metrics-addr", a)
				metricsBase = "http://" + a
			}
			base, _ := startBinary(t, env("SLUICE_DATA_DIR", t.TempDir(), "SLUICE_ADMIN_PASSWORD", "pw", "SLUICE_METRICS_TOKEN", c.token), args...)
			for _, p := range c.probes {
				url := base + "/metrics"
				if p.separate {
					url = metricsBase + "/metrics"
				}
				req, _ := http.NewRequest("GET", url, nil)
				if p.auth != "" {
					req.Header.Set("Authorization", p.auth)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != p.want {
					t.Errorf("GET %s with %q = %d, want %d", url, p.auth, resp.StatusCode, p.want)
				}
				if served := strings.Contains(string(body), "go_info"); served != (p.want == 200) {
					t.Errorf("GET %s with %q: metrics in the answer = %v, want %v", url, p.auth, served, p.want == 200)
				}
			}
		})
	}
}

// testMetricsToken is the --metrics-token of tests that read /metrics.
const testMetricsToken = "test-metrics-token-0123456789"

// scrapeMetrics reads /metrics on the main listener with testMetricsToken.
func scrapeMetrics(t *testing.T, base string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+testMetricsToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
