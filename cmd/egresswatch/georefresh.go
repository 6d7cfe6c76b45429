package main

import (
	"context"
	"net/http"
	"os"
	"time"

	"github.com/egresswatch/egresswatch/geo"
	"github.com/egresswatch/egresswatch/geo/fetch"
)

// placementTime is when the placement data in opts was made: the newest
// modification time of its GeoIP files and cloud range files (zero when
// there are none).
func placementTime(opts geo.Options) time.Time {
	var newest time.Time
	note := func(p string) {
		if st, err := os.Stat(p); err == nil && st.ModTime().After(newest) {
			newest = st.ModTime()
		}
	}
	for _, p := range opts.GeoIP {
		note(p)
	}
	if opts.CloudDir != "" {
		ents, _ := os.ReadDir(opts.CloudDir)
		for _, e := range ents {
			if e.Type().IsRegular() {
				note(opts.CloudDir + string(os.PathSeparator) + e.Name())
			}
		}
	}
	return newest
}

// notePlacement records the age of the placement data just put in force.
func (r *runSetup) notePlacement(opts geo.Options) {
	r.placedAt.Store(placementTime(opts).Unix())
}

// placement is when the data in force was made, for the metrics.
func (r *runSetup) placement() time.Time {
	if t := r.placedAt.Load(); t > 0 {
		return time.Unix(t, 0)
	}
	return time.Time{}
}

// geoRefresh downloads the cloud range files again every interval and
// reloads the placement data; on any failure the data in force stays
// (fetch writes a file only once it parses; db.Reload swaps only what
// loaded).
func geoRefresh(interval time.Duration, rf *runFlags, r *runSetup, logf func(string, ...any)) actor {
	return every(interval, func() {
		opts := rf.geo.options()
		if opts.CloudDir == "" {
			logf("geo refresh: no cloud range directory (--cloud-dir or $EGRESSWATCH_GEO_DIR/cloud); nothing to refresh")
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		written, err := fetch.Download(ctx, &http.Client{Timeout: time.Minute}, opts.CloudDir, fetch.OfficialSources())
		if err != nil {
			logf("geo refresh: %v (the files that failed keep their old copies)", err)
		}
		if len(written) == 0 {
			return
		}
		if err := r.db.Reload(); err != nil {
			logf("geo refresh: reload rejected, the old placement data stays in force: %v", err)
			return
		}
		r.notePlacement(opts)
		logf("geo refresh: %d range file(s) fetched and in force", len(written))
	})
}
