package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestRunGroup: an actor's failure stops the run through stop and is the
// error returned; a signal (ctx) stops it too; the run's end ends the
// actors.
func TestRunGroup(t *testing.T) {
	waitStop := func(stopped chan struct{}) func(context.Context) error {
		return func(context.Context) error {
			select {
			case <-stopped:
				return nil // drained
			case <-time.After(10 * time.Second):
				return errors.New("never stopped")
			}
		}
	}
	untilDone := func(done context.Context) error { <-done.Done(); return nil }

	broken := errors.New("metrics: listener gone")
	stopped := make(chan struct{})
	err := runGroup(context.Background(), waitStop(stopped), func() { close(stopped) },
		untilDone, func(context.Context) error { return broken })
	if !errors.Is(err, broken) {
		t.Errorf("an actor failed: runGroup = %v, want %v", err, broken)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // SIGINT
	stopped = make(chan struct{})
	if err := runGroup(ctx, waitStop(stopped), func() { close(stopped) }, untilDone); err != nil {
		t.Errorf("signal: runGroup = %v, want nil (a clean stop)", err)
	}

	runErr := errors.New("write events: disk full")
	if err := runGroup(context.Background(), func(context.Context) error { return runErr }, nil, untilDone); !errors.Is(err, runErr) {
		t.Errorf("run failed: runGroup = %v, want %v", err, runErr)
	}
}

func TestExitCode(t *testing.T) {
	for _, tt := range []struct {
		err  error
		code int
		msg  string
	}{
		{nil, 0, ""},
		{errUsage, 2, ""},
		{errReported, 1, ""},
		{configErr(errors.New("placement data: bad")), 2, "egresswatch replay: placement data: bad\n"},
		{fmt.Errorf("metrics: %w", errors.New("gone")), 1, "egresswatch replay: metrics: gone\n"},
	} {
		var b bytes.Buffer
		if code := exitCode(&b, "replay", tt.err); code != tt.code || b.String() != tt.msg {
			t.Errorf("exitCode(%v) = %d, %q; want %d, %q", tt.err, code, b.String(), tt.code, tt.msg)
		}
	}
}
