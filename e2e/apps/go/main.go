// A small net/http service traced by the real dd-trace-go v2 and its net/http contrib, as its
// users write one: GET /work makes a manual child span, calls DOWNSTREAM (if set) through a
// traced client, and answers 500 with ?fail; with ?raise=CUSTOMER a traced step (charge, or refund
// with &in=refund) fails with an error the span records with its stack, and it answers 500. It
// prints {"port": N} once it listens.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	httptrace "github.com/DataDog/dd-trace-go/contrib/net/http/v2"
	"github.com/DataDog/dd-trace-go/v2/ddtrace/tracer"
)

func main() {
	if err := tracer.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "tracer:", err)
	}
	downstream := os.Getenv("DOWNSTREAM")
	client := httptrace.WrapClient(&http.Client{})
	mux := httptrace.NewServeMux()
	mux.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		fail := r.URL.Query().Has("fail")
		if customer := r.URL.Query().Get("raise"); customer != "" {
			step := charge
			if r.URL.Query().Get("in") == "refund" {
				step = refund
			}
			if err := step(r.Context(), customer); err != nil {
				http.Error(w, "declined", http.StatusInternalServerError)
				return
			}
		}
		span, ctx := tracer.StartSpanFromContext(r.Context(), "work.compute", tracer.ResourceName("compute"))
		span.SetTag("custom.tag", "go")
		span.SetTag("custom.metric", 42)
		span.Finish()
		if downstream != "" {
			url := downstream
			if fail {
				url += "?fail=1"
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			resp, err := client.Do(req)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		if fail {
			http.Error(w, "failed on purpose", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	out, _ := json.Marshal(map[string]int{"port": ln.Addr().(*net.TCPAddr).Port})
	fmt.Println(string(out))
	// Stop flushes what the tracer holds; the tests end the app with SIGTERM.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		tracer.Stop()
		os.Exit(0)
	}()
	_ = http.Serve(ln, mux)
}

// charge and refund fail alike from two places: two stacks, so two error groups.
func charge(ctx context.Context, customer string) error {
	span, _ := tracer.StartSpanFromContext(ctx, "work.charge", tracer.ResourceName("charge"))
	err := fmt.Errorf("card declined for customer %s", customer)
	span.Finish(tracer.WithError(err))
	return err
}

func refund(ctx context.Context, customer string) error {
	span, _ := tracer.StartSpanFromContext(ctx, "work.refund", tracer.ResourceName("refund"))
	err := fmt.Errorf("card declined for customer %s", customer)
	span.Finish(tracer.WithError(err))
	return err
}
