// A small net/http service traced by the real OpenTelemetry SDK for Go, exporting over OTLP/HTTP
// (otlptracehttp) to OTLP_ENDPOINT (host:port): GET /work continues a W3C traceparent, makes a
// child span and with ?fail records an error. Prints {"port": N}; SIGTERM flushes and exits.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

func main() {
	ctx := context.Background()
	exporter, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(os.Getenv("OTLP_ENDPOINT")), otlptracehttp.WithInsecure())
	if err != nil {
		panic(err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attribute.String("service.name", os.Getenv("SERVICE")), attribute.String("deployment.environment.name", "e2e")))
	if err != nil {
		panic(err)
	}
	provider := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	otel.SetTracerProvider(provider)
	propagator := propagation.TraceContext{}
	tracer := provider.Tracer("ecs-trace-e2e-go")

	mux := http.NewServeMux()
	mux.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		fail := r.URL.Query().Has("fail")
		ctx := propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := tracer.Start(ctx, "GET /work", trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", "GET"), attribute.String("http.route", "/work")))
		_, child := tracer.Start(ctx, "work.compute", trace.WithAttributes(attribute.String("custom.tag", "go"), attribute.Int("custom.metric", 42)))
		child.End()
		status := http.StatusOK
		if fail {
			status = http.StatusInternalServerError
			span.RecordError(errors.New("boom go"))
			span.SetStatus(codes.Error, "failed on purpose")
		}
		span.SetAttributes(attribute.Int("http.response.status_code", status))
		w.WriteHeader(status)
		_, _ = w.Write([]byte("ok"))
		span.End()
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	out, _ := json.Marshal(map[string]int{"port": ln.Addr().(*net.TCPAddr).Port})
	fmt.Println(string(out))
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		_ = provider.Shutdown(context.Background())
		os.Exit(0)
	}()
	_ = http.Serve(ln, mux)
}
