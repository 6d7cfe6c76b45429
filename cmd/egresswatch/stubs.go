package main

import (
	"context"
	"fmt"
	"io"
)

// Placeholders; each is replaced by its own file (lookup.go, policy.go, replay.go).

func notYet(name string) func(context.Context, []string, io.Writer, io.Writer) int {
	return func(_ context.Context, _ []string, _, stderr io.Writer) int {
		fmt.Fprintf(stderr, "egresswatch %s: not built yet\n", name)
		return 2
	}
}

var (
	cmdReplay  = notYet("replay")
	cmdLookup  = notYet("lookup")
	cmdGeo     = notYet("geo")
	cmdPolicy  = notYet("policy")
	cmdCatalog = notYet("catalog")
)
