package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"
)

// cmdVersion: egresswatch version (or --version) prints the module
// version, the commit it was built from, the Go version, and the
// placement data a run started here would use, with its age.
func cmdVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "usage: egresswatch version")
		return 2
	}
	writeVersion(stdout, time.Now())
	return 0
}

func writeVersion(w io.Writer, now time.Time) {
	version, commit := "(devel)", "unknown"
	goVersion := runtime.Version()
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		goVersion = bi.GoVersion
		var rev, at, dirty string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = ", modified"
				}
			}
		}
		if rev != "" {
			commit = rev
			if at != "" {
				commit += " (" + at + dirty + ")"
			}
		}
	}
	fmt.Fprintf(w, "egresswatch %s\ncommit      %s\ngo          %s %s/%s\n", version, commit, goVersion, runtime.GOOS, runtime.GOARCH)
	var gf geoFlags
	opts := gf.options()
	if len(opts.GeoIP) == 0 && opts.CloudDir == "" {
		fmt.Fprintf(w, "placement   none found (looked in %s); run `make geodata` or `egresswatch geo fetch`, or set EGRESSWATCH_GEO_DIR\n",
			orList(lookedIn()))
		return
	}
	for _, f := range opts.GeoIP {
		fmt.Fprintf(w, "geoip       %s%s\n", f, age(f, now))
	}
	if opts.CloudDir == "" {
		fmt.Fprintln(w, "cloud       none found: cloud addresses are placed by GeoIP only (egresswatch geo fetch)")
		return
	}
	fmt.Fprintf(w, "cloud       %s%s\n", opts.CloudDir, age(opts.CloudDir, now))
}

// age says how old the file is, or for a directory the oldest file in
// it: ", 3 days old".
func age(path string, now time.Time) string {
	var oldest time.Time
	_ = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if st, err := os.Stat(p); err == nil && (oldest.IsZero() || st.ModTime().Before(oldest)) {
			oldest = st.ModTime()
		}
		return nil
	})
	if oldest.IsZero() {
		return ", empty"
	}
	days := int(now.Sub(oldest).Hours() / 24)
	switch days {
	case 0:
		return fmt.Sprintf(", updated %s (today)", oldest.Format(time.DateOnly))
	case 1:
		return fmt.Sprintf(", updated %s (1 day old)", oldest.Format(time.DateOnly))
	}
	return fmt.Sprintf(", updated %s (%d days old)", oldest.Format(time.DateOnly), days)
}
