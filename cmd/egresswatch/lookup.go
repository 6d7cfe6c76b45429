package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"

	"github.com/egresswatch/egresswatch/geo"
	"github.com/egresswatch/egresswatch/output"
)

func cmdLookup(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lookup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "one JSON object per line per IP, with the event field names")
	var gf geoFlags
	gf.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: egresswatch lookup [--json] [--geoip FILE]... [--cloud-dir DIR] IP...")
		fmt.Fprintln(stderr, "Shows where each address is placed and which database or range file says so.")
		printFlags(stderr, fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return exitCode(stderr, "lookup", err)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	db, err := gf.open()
	if err != nil {
		fmt.Fprintf(stderr, "egresswatch lookup: %v\n", err)
		return 1
	}
	if len(db.Sources()) == 0 {
		fmt.Fprintln(stderr, "egresswatch lookup: no placement data found; run `make geodata` and `egresswatch geo fetch`, or pass --geoip / --cloud-dir")
	}
	if !*asJSON {
		fmt.Fprintln(stdout, "# sources:")
		for _, s := range db.Sources() {
			fmt.Fprintf(stdout, "#   %s\n", s)
		}
	}
	code := 0
	var line []byte
	for _, arg := range fs.Args() {
		a, err := netip.ParseAddr(arg)
		if err != nil {
			fmt.Fprintf(stderr, "egresswatch lookup: %q is not an IP address\n", arg)
			code = 1
			continue
		}
		p := db.Lookup(a)
		if *asJSON {
			line = output.AppendPlacement(line, a, &p)
			if _, err := stdout.Write(line); err != nil {
				fmt.Fprintf(stderr, "egresswatch lookup: %v\n", err)
				return 1
			}
			continue
		}
		printPlacement(stdout, a, p)
	}
	return code
}

func printPlacement(w io.Writer, a netip.Addr, p geo.Placement) {
	// The first line is the answer: a country, or indeterminate (which
	// is what replay and the policy use), and who runs the address.
	country := p.Country
	if p.Indeterminate {
		country = "indeterminate for residency"
	}
	if p.ASN != 0 || p.ASOrg != "" {
		country += fmt.Sprintf("  (AS%d %s)", p.ASN, p.ASOrg)
	}
	fmt.Fprintf(w, "%s\t%s\n", a, country)
	if p.Country != "" {
		fmt.Fprintf(w, "  country     %s  (%s)\n", p.Country, p.CountrySource)
	}
	if p.Indeterminate {
		fmt.Fprintf(w, "  reason      %s\n", p.Reason)
	}
	if p.Cloud.Provider != "" {
		c := p.Cloud
		fmt.Fprintf(w, "  cloud       %s", c.Provider)
		if c.Region != "" {
			fmt.Fprintf(w, " region %s", c.Region)
		}
		if c.Zone != "" {
			fmt.Fprintf(w, " zone %s", c.Zone)
		}
		if c.Service != "" {
			fmt.Fprintf(w, " service %s", c.Service)
		}
		if c.Country != "" {
			fmt.Fprintf(w, " -> %s", c.Country)
		}
		fmt.Fprintf(w, "  (%s)\n", c.Source)
	}
	if p.GeoIPSource != "" {
		fmt.Fprintf(w, "  geoip       %s", orDash(p.GeoIPCountry))
		if p.RegisteredCountry != "" && p.RegisteredCountry != p.GeoIPCountry {
			fmt.Fprintf(w, " (registered %s)", p.RegisteredCountry)
		}
		fmt.Fprintf(w, "  (%s)", p.GeoIPSource)
		if p.Indeterminate && p.GeoIPCountry != "" && p.Cloud.Provider == "" {
			fmt.Fprint(w, "  not used: see reason")
		}
		if p.Cloud.Country != "" && p.GeoIPCountry != "" && p.GeoIPCountry != p.Cloud.Country {
			fmt.Fprint(w, "  disagrees with the cloud region")
		}
		fmt.Fprintln(w)
	}
	if p.ASN != 0 || p.ASOrg != "" {
		fmt.Fprintf(w, "  as          AS%d %s  (%s)\n", p.ASN, p.ASOrg, p.ASSource)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
