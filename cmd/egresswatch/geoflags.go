package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/egresswatch/egresswatch/geo"
)

// geoFlags are the placement data flags shared by lookup and replay.
type geoFlags struct {
	geoip    geoipFiles
	cloudDir string
}

type geoipFiles []string

func (g *geoipFiles) String() string     { return strings.Join(*g, ",") }
func (g *geoipFiles) Set(v string) error { *g = append(*g, v); return nil }

func (g *geoFlags) register(fs *flag.FlagSet) {
	fs.Var(&g.geoip, "geoip", "GeoIP database `FILE` (MMDB or ip-location-db CSV; repeatable, earlier wins)")
	fs.StringVar(&g.cloudDir, "cloud-dir", "", "`DIR` of cloud provider range files (see egresswatch geo fetch)")
}

// options resolves the flags: what is not given on the command line is
// looked for in $EGRESSWATCH_GEO_DIR, ./data/geo, /usr/share/GeoIP and
// /var/lib/GeoIP.
func (g *geoFlags) options() geo.Options {
	opts := geo.Options{GeoIP: g.geoip, CloudDir: g.cloudDir}
	if len(opts.GeoIP) == 0 || opts.CloudDir == "" {
		found := geo.Discover(geo.DefaultDirs(os.Getenv("EGRESSWATCH_GEO_DIR")))
		if len(opts.GeoIP) == 0 {
			opts.GeoIP = found.GeoIP
		}
		if opts.CloudDir == "" {
			opts.CloudDir = found.CloudDir
		}
	}
	return opts
}

// open loads the placement data. With no data found anywhere it still
// returns a DB: every public address is then indeterminate ("no country
// database loaded"), which the caller may warn about via Sources.
func (g *geoFlags) open() (*geo.DB, error) {
	db, err := geo.Open(g.options())
	if err != nil {
		return nil, fmt.Errorf("placement data: %w", err)
	}
	return db, nil
}
