package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/egresswatch/egresswatch/geo"
	"github.com/egresswatch/egresswatch/rules"
)

// placementGap says what placement data db lacks: data is "" when it has
// a country database and cloud ranges, else "none", "geoip_only" or
// "cloud_only" (egresswatch.evidence.placement_data on alerts); warning
// is the sentence for stderr and the report, with the fix.
func placementGap(db *geo.DB) (data, warning string) {
	country, cloud := db.Loaded()
	switch {
	case country && cloud:
		return "", ""
	case country:
		return "geoip_only", "no cloud provider ranges were loaded: addresses in cloud ranges are placed " +
			"by GeoIP, which often gives the provider's home country instead of the region. " +
			"Fetch them with `egresswatch geo fetch` (or `make geodata`), or pass --cloud-dir DIR."
	}
	what := "no placement data was found (no GeoIP country database, no cloud ranges)"
	data = "none"
	if cloud {
		what = "no GeoIP country database was found (cloud ranges only)"
		data = "cloud_only"
	}
	return data, what + ": destinations outside cloud ranges are indeterminate, so this run cannot say " +
		"where that traffic went. Looked in " + strings.Join(lookedIn(), ", ") + ". " +
		"Fix: `make geodata` (or `make install`) in the egresswatch checkout, `egresswatch geo fetch`, " +
		"or set EGRESSWATCH_GEO_DIR (or --geoip FILE, --cloud-dir DIR). --require-placement makes this an error."
}

// lookedIn lists the directories searched for placement data.
func lookedIn() []string {
	env := os.Getenv("EGRESSWATCH_GEO_DIR")
	dirs := geo.DefaultDirs(env)
	if env == "" {
		dirs = append([]string{"$EGRESSWATCH_GEO_DIR (unset)"}, dirs...)
	}
	return dirs
}

// warnPlacement prints the placement warning, if any, on stderr.
func (r *runSetup) warnPlacement(stderr io.Writer) {
	if r.placementWarning != "" {
		fmt.Fprintf(stderr, "egresswatch: WARNING: %s\n", r.placementWarning)
	}
}

// policyName says which policy a run used, for the report.
func policyName(rf *runFlags) string {
	name := "the built-in UK-government example (`egresswatch policy default`)"
	if rf.policy != "" {
		name = "`" + rf.policy + "`"
	}
	if len(rf.catalogs) > 0 {
		name += " with catalogues `" + strings.Join(rf.catalogs, "`, `") + "`"
	}
	return name
}

// approvedSets describes, for the report, each rule that allows only some
// jurisdictions: "rule (from groups): SET = members (N countries)".
func approvedSets(p *rules.Policy) []string {
	if p == nil {
		return nil
	}
	var out []string
	for _, r := range p.Rules {
		if len(r.Allow) == 0 {
			continue
		}
		sets := make([]string, 0, len(r.Allow))
		for _, name := range r.Allow {
			j := p.Jurisdictions[name]
			if j == nil || (len(j.Members) == 1 && j.Members[0] == name) {
				sets = append(sets, name)
				continue
			}
			sets = append(sets, fmt.Sprintf("%s = %s (%d countries)", name, strings.Join(j.Members, ", "), len(j.Countries())))
		}
		out = append(out, fmt.Sprintf("rule `%s` (from %s): %s", r.ID, strings.Join(r.From, ", "), strings.Join(sets, "; ")))
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
