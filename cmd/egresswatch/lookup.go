package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/netip"

	"github.com/egresswatch/egresswatch/geo"
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
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
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
	enc := json.NewEncoder(stdout)
	for _, arg := range fs.Args() {
		a, err := netip.ParseAddr(arg)
		if err != nil {
			fmt.Fprintf(stderr, "egresswatch lookup: %q is not an IP address\n", arg)
			code = 1
			continue
		}
		p := db.Lookup(a)
		if *asJSON {
			if err := enc.Encode(placementJSON(a, p)); err != nil {
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
	country := p.Country
	if p.Indeterminate {
		country = "indeterminate"
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

// lookupRecord uses the ECS field names the events use.
type lookupRecord struct {
	Destination struct {
		IP  string `json:"ip"`
		Geo *struct {
			CountryISOCode string `json:"country_iso_code"`
		} `json:"geo,omitempty"`
		AS *struct {
			Number       uint32 `json:"number,omitempty"`
			Organization *struct {
				Name string `json:"name"`
			} `json:"organization,omitempty"`
		} `json:"as,omitempty"`
	} `json:"destination"`
	Cloud *struct {
		Provider         string `json:"provider"`
		Region           string `json:"region,omitempty"`
		AvailabilityZone string `json:"availability_zone,omitempty"`
		Service          *struct {
			Name string `json:"name"`
		} `json:"service,omitempty"`
	} `json:"cloud,omitempty"`
	Egresswatch struct {
		Placement placementDetail `json:"placement"`
	} `json:"egresswatch"`
}

type placementDetail struct {
	Indeterminate bool   `json:"indeterminate"`
	Internal      bool   `json:"internal,omitempty"`
	Reason        string `json:"reason,omitempty"`
	CountrySource string `json:"country_source,omitempty"`
	GeoIP         *struct {
		CountryISOCode           string `json:"country_iso_code,omitempty"`
		RegisteredCountryISOCode string `json:"registered_country_iso_code,omitempty"`
		Source                   string `json:"source"`
	} `json:"geoip,omitempty"`
	ASSource            string `json:"as_source,omitempty"`
	CloudCountryISOCode string `json:"cloud_country_iso_code,omitempty"`
	CloudSource         string `json:"cloud_source,omitempty"`
}

func placementJSON(a netip.Addr, p geo.Placement) lookupRecord {
	var r lookupRecord
	r.Destination.IP = a.String()
	if p.Country != "" {
		r.Destination.Geo = &struct {
			CountryISOCode string `json:"country_iso_code"`
		}{p.Country}
	}
	if p.ASN != 0 || p.ASOrg != "" {
		r.Destination.AS = &struct {
			Number       uint32 `json:"number,omitempty"`
			Organization *struct {
				Name string `json:"name"`
			} `json:"organization,omitempty"`
		}{Number: p.ASN}
		if p.ASOrg != "" {
			r.Destination.AS.Organization = &struct {
				Name string `json:"name"`
			}{p.ASOrg}
		}
	}
	if c := p.Cloud; c.Provider != "" {
		r.Cloud = &struct {
			Provider         string `json:"provider"`
			Region           string `json:"region,omitempty"`
			AvailabilityZone string `json:"availability_zone,omitempty"`
			Service          *struct {
				Name string `json:"name"`
			} `json:"service,omitempty"`
		}{Provider: c.Provider, Region: c.Region, AvailabilityZone: c.Zone}
		if c.Service != "" {
			r.Cloud.Service = &struct {
				Name string `json:"name"`
			}{c.Service}
		}
	}
	d := &r.Egresswatch.Placement
	d.Indeterminate, d.Internal, d.Reason, d.CountrySource = p.Indeterminate, p.Internal, p.Reason, p.CountrySource
	d.ASSource, d.CloudCountryISOCode, d.CloudSource = p.ASSource, p.Cloud.Country, p.Cloud.Source
	if p.GeoIPSource != "" {
		d.GeoIP = &struct {
			CountryISOCode           string `json:"country_iso_code,omitempty"`
			RegisteredCountryISOCode string `json:"registered_country_iso_code,omitempty"`
			Source                   string `json:"source"`
		}{p.GeoIPCountry, p.RegisteredCountry, p.GeoIPSource}
	}
	return r
}
