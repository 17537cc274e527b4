// Package tracing starts the OpenTelemetry tracer provider that exports
// the proxy's spans over OTLP/HTTP. It is off unless an endpoint is given
// (--otel-endpoint, or the standard OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT): off, nothing is started and the
// proxy gets no tracer.
package tracing

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the gateway's spans.
const ScopeName = "github.com/sluicehq/sluice/proxy"

// Config is how traces are exported.
type Config struct {
	// Endpoint is the OTLP/HTTP base URL (http://collector:4318); traces
	// go to its /v1/traces. Empty leaves the exporter to the standard
	// OTEL_EXPORTER_OTLP_* variables.
	Endpoint string
	// SampleRatio is the share of traces started here that are sampled;
	// a request whose client sent a traceparent follows its sampled flag.
	SampleRatio float64
	// Log receives the exporter's failures (a collector that refuses or
	// cannot be reached) as warnings; nil leaves them to OpenTelemetry's
	// default, the standard library's logger, outside the gateway's logs.
	Log *slog.Logger
}

// Enabled reports whether cfg and the environment ask for traces: an
// endpoint from the flag or the standard variables, unless
// OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none turns the SDK off.
func Enabled(cfg Config, getenv func(string) string) bool {
	if v, err := strconv.ParseBool(getenv("OTEL_SDK_DISABLED")); err == nil && v {
		return false
	}
	if strings.EqualFold(getenv("OTEL_TRACES_EXPORTER"), "none") {
		return false
	}
	return cfg.Endpoint != "" || getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Provider is a running tracer provider.
type Provider struct {
	tp *sdktrace.TracerProvider
}

// Start builds the exporter and the tracer provider; nil when tracing is
// off. The exporter takes OTEL_EXPORTER_OTLP_HEADERS (auth), _COMPRESSION,
// _TIMEOUT and the TLS files (_CERTIFICATE, _CLIENT_CERTIFICATE,
// _CLIENT_KEY), each also as OTEL_EXPORTER_OTLP_TRACES_*, from getenv; the
// resource takes OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES from the
// process environment.
func Start(ctx context.Context, cfg Config, getenv func(string) string) (*Provider, error) {
	if !Enabled(cfg, getenv) {
		return nil, nil
	}
	if cfg.SampleRatio < 0 || cfg.SampleRatio > 1 {
		return nil, fmt.Errorf("tracing: sample ratio %v is not between 0 and 1", cfg.SampleRatio)
	}
	ec, err := readExportConfig(cfg, getenv)
	if err != nil {
		return nil, err
	}
	exp, err := otlptrace.New(ctx, newOTLPHTTP(ec))
	if err != nil {
		return nil, fmt.Errorf("tracing: start the OTLP exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName("sluice")),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME wins over the default name
	)
	if err != nil {
		return nil, fmt.Errorf("tracing: describe the resource: %w", err)
	}
	if cfg.Log != nil {
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			cfg.Log.Warn("tracing: export failed", "err", err)
		}))
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.SampleRatio))),
	)
	return &Provider{tp: tp}, nil
}

// TracesURL is the OTLP/HTTP traces URL of the base URL endpoint.
func TracesURL(endpoint string) string {
	return strings.TrimRight(endpoint, "/") + "/v1/traces"
}

// Tracer is the gateway's tracer; nil for a nil Provider (tracing off).
func (p *Provider) Tracer() trace.Tracer {
	if p == nil {
		return nil
	}
	return p.tp.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL))
}

// Shutdown exports the spans still queued and stops, within ctx.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p == nil {
		return nil
	}
	if err := p.tp.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: flush the last spans: %w", err)
	}
	return nil
}
