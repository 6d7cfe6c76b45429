package main

import (
	"flag"
	"runtime/debug"

	"github.com/egresswatch/egresswatch/pipeline"
	"github.com/egresswatch/egresswatch/rules"
)

// runFlags are the flags replay and live share: what to write, which
// policy, which placement data, how much memory.
type runFlags struct {
	events, alerts, policy, report string
	noPolicy                       bool
	inventory                      string
	requirePlacement               bool
	memory                         byteSize
	catalogs                       catalogFlags
	geo                            geoFlags
	evidence                       string
	evidenceMax                    byteSize
	durable                        durableFlags // durable.go
}

// register adds the flags to fs; live notes what SIGHUP reloads.
func (r *runFlags) register(fs *flag.FlagSet, live bool) {
	policyHelp := "policy `FILE` (default: the built-in UK-government example; see policy default)"
	reportHelp := "write the residency report to `FILE` (.md, .csv or .json)"
	if live {
		policyHelp = "policy `FILE` (default: the built-in UK-government example); reloaded on SIGHUP"
		reportHelp = "write the residency report to `FILE` (.md, .csv or .json) at exit (and every --report-every)"
	}
	fs.StringVar(&r.events, "events", "", "write every observation as ECS JSON lines to `FILE` (- for stdout)")
	fs.StringVar(&r.alerts, "alerts", "-", "write alerts as ECS JSON lines to `FILE` (- for stdout)")
	fs.StringVar(&r.policy, "policy", "", policyHelp)
	fs.BoolVar(&r.noPolicy, "no-policy", false, "evaluate no policy: events only")
	fs.StringVar(&r.report, "report", "", reportHelp)
	invHelp := "asset inventory `FILE` (CSV; keys mac, ip, cidr, hostname; values name, owner, department, group)"
	if live {
		invHelp += "; reloaded on SIGHUP"
	}
	fs.StringVar(&r.inventory, "inventory", "", invHelp)
	r.memory = byteSize(pipeline.DefaultMemory)
	fs.Var(&r.memory, "memory", "memory `BUDGET` every table is sized from (e.g. 512MiB, 2GiB)")
	fs.Var(&r.catalogs, "catalog", "add a domain list as a service (`[NAME:]FILE`, repeatable)")
	fs.StringVar(&r.evidence, "evidence", "", "write the packets of each alerted flow to a pcapng file in `DIR`")
	r.evidenceMax = 256 << 20
	fs.Var(&r.evidenceMax, "evidence-max", "stop writing evidence captures after `SIZE` of packets (e.g. 256MiB)")
	fs.BoolVar(&r.requirePlacement, "require-placement", false, "fail (exit 2) unless a GeoIP country database and cloud ranges are loaded")
	r.geo.register(fs)
	r.durable.register(fs, live)
}

// loadPolicy reads the policy file (or the built-in one) with the
// catalogues; live calls it again on SIGHUP.
func (r *runFlags) loadPolicy() (*rules.Policy, error) {
	cats, err := r.catalogs.load()
	if err != nil {
		return nil, err
	}
	if r.policy == "" {
		return rules.DefaultWith(cats...)
	}
	return rules.LoadWith(r.policy, cats...)
}

// applyMemory sizes cfg from --memory and holds the Go heap under it: the
// tables are sized from the budget, and the soft limit makes the garbage
// collector keep the heap near it too instead of letting it double
// between collections.
func (r *runFlags) applyMemory(cfg *pipeline.Config) {
	cfg.Memory = int64(r.memory)
	debug.SetMemoryLimit(int64(r.memory) / 10 * 9)
}
