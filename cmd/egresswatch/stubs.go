package main

import (
	"context"
	"fmt"
	"io"
)

// notYet stands in for a subcommand whose file (stub_NAME.go) has not been
// replaced by the real one yet.
func notYet(name string) func(context.Context, []string, io.Writer, io.Writer) int {
	return func(_ context.Context, _ []string, _, stderr io.Writer) int {
		fmt.Fprintf(stderr, "egresswatch %s: not built yet\n", name)
		return 2
	}
}
