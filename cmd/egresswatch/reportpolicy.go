package main

import (
	"slices"
	"strings"

	"github.com/egresswatch/egresswatch/report"
	"github.com/egresswatch/egresswatch/rules"
)

// reportPolicy tells the report what the policy approves: for each group,
// the countries its "to: any" rules allow (the intersection when several
// rules restrict the group), and the services rules name.
func reportPolicy(rep *report.Builder, pol *rules.Policy) {
	approved := map[string][]string{}
	var sensitive []string
	for _, r := range pol.Rules {
		if !r.Any {
			for _, s := range r.To {
				if !slices.Contains(sensitive, s) {
					sensitive = append(sensitive, s)
				}
			}
			continue
		}
		if len(r.Allow) == 0 {
			continue
		}
		var set []string
		for _, a := range r.Allow {
			if j := pol.Jurisdictions[a]; j != nil {
				set = append(set, j.Countries()...)
			} else {
				set = append(set, strings.ToUpper(a))
			}
		}
		slices.Sort(set)
		set = slices.Compact(set)
		for _, g := range r.From {
			if prev, ok := approved[g]; ok {
				set = slices.DeleteFunc(slices.Clone(set), func(c string) bool { return !slices.Contains(prev, c) })
			}
			approved[g] = set
		}
	}
	slices.Sort(sensitive)
	rep.Approved, rep.Sensitive = approved, sensitive
}
