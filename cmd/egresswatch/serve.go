package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// serveMetrics serves the metrics on ln until the run ends; a failure to
// serve stops the run.
func serveMetrics(ln net.Listener, h http.Handler) actor {
	return func(done context.Context) error {
		mux := http.NewServeMux()
		mux.Handle("/metrics", h)
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		defer context.AfterFunc(done, func() { srv.Close() })()
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("metrics: %w", err)
		}
		return nil
	}
}
