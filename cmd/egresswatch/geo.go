package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/egresswatch/egresswatch/geo/fetch"
)

func cmdGeo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "fetch" {
		fmt.Fprintln(stderr, "usage: egresswatch geo fetch [--dir DIR] [--from DIR]")
		return 2
	}
	fs := flag.NewFlagSet("geo fetch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	defDir := os.Getenv("EGRESSWATCH_GEO_DIR")
	if defDir == "" {
		defDir = filepath.Join("data", "geo")
	}
	dir := fs.String("dir", defDir, "data `DIR`; range files go to DIR/cloud")
	from := fs.String("from", "", "import local copies of the range files from `DIR` instead of downloading")
	timeout := fs.Duration("timeout", 60*time.Second, "per-request timeout")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: egresswatch geo fetch [--dir DIR] [--from DIR]")
		fmt.Fprintln(stderr, "Downloads the cloud providers' IP range files from their official URLs into DIR/cloud.")
		printFlags(stderr, fs)
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return exitCode(stderr, "geo fetch", err)
	}
	if err := checkPositive("timeout", *timeout); err != nil {
		fmt.Fprintf(stderr, "egresswatch geo fetch: %v\n", err)
		return 2
	}
	cloud := filepath.Join(*dir, "cloud")
	if *from != "" {
		imported, skipped, err := fetch.Import(*from, cloud)
		for _, f := range imported {
			fmt.Fprintf(stdout, "imported %s\n", f)
		}
		for _, s := range skipped {
			fmt.Fprintf(stderr, "skipped %s\n", s)
		}
		if err != nil {
			fmt.Fprintf(stderr, "egresswatch geo fetch: %v\n", err)
			return 1
		}
		if len(imported) == 0 {
			fmt.Fprintf(stderr, "egresswatch geo fetch: no provider range files in %s\n", *from)
			return 1
		}
		return 0
	}
	client := &http.Client{Timeout: *timeout}
	written, err := fetch.Download(ctx, client, cloud, fetch.OfficialSources())
	for _, f := range written {
		fmt.Fprintf(stdout, "fetched %s\n", f)
	}
	if err != nil && len(written) == 0 && errors.Is(err, fetch.ErrOffline) {
		fmt.Fprintf(stderr, "egresswatch geo fetch: cannot reach any provider (offline?); "+
			"the old files in %s are kept. Import local copies with: egresswatch geo fetch --from DIR\n", cloud)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "egresswatch geo fetch: %v\n", err)
		return 1
	}
	return 0
}
