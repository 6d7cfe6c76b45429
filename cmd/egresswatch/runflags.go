package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"

	"github.com/egresswatch/egresswatch/fleet"
	"github.com/egresswatch/egresswatch/pipeline"
	"github.com/egresswatch/egresswatch/rules"
)

// runFlags are the flags replay and live share: what to write, which
// policy, which placement data, how much memory.
type runFlags struct {
	events, alerts, policy, report string
	sensor                         string
	noPolicy                       bool
	inventory                      string
	requirePlacement               bool
	memory                         byteSize
	catalogs                       catalogFlags
	geo                            geoFlags
	evidence                       string
	evidenceMax                    byteSize
	durable                        durableFlags // durable.go
	pub                            publishFlags
	nats                           natsFlags

	// natsPolicy fetches the fleet's policy and its revision (--policy
	// nats:); set by newRun once connected.
	natsPolicy func() ([]byte, uint64, error)
}

// register adds the flags to fs; live notes what SIGHUP reloads.
func (r *runFlags) register(fs *flag.FlagSet, live bool) {
	policyHelp := "policy `FILE`, or nats: for the fleet's (hot-reloaded; nats:URL, else the --publish URL) (default: the built-in UK-government example; see policy default)"
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
	fs.StringVar(&r.sensor, "sensor", "", "this sensor's `NAME` in observer.name and the fleet (default: the host name)")
	r.memory = byteSize(pipeline.DefaultMemory)
	fs.Var(&r.memory, "memory", "memory `BUDGET` every table is sized from (e.g. 512MiB, 2GiB)")
	fs.Var(&r.catalogs, "catalog", "add a domain list as a service (`[NAME:]FILE`, repeatable)")
	fs.StringVar(&r.evidence, "evidence", "", "write the packets of each alerted flow to a pcapng file in `DIR`")
	r.evidenceMax = 256 << 20
	fs.Var(&r.evidenceMax, "evidence-max", "stop writing evidence captures after `SIZE` of packets (e.g. 256MiB)")
	fs.BoolVar(&r.requirePlacement, "require-placement", false, "fail (exit 2) unless a GeoIP country database and cloud ranges are loaded")
	r.geo.register(fs)
	r.durable.register(fs, live)
	r.pub.register(fs)
	r.nats.register(fs, "")
}

// loadPolicy reads the policy file (or the built-in one) with the
// catalogues; live calls it again on SIGHUP.
func (r *runFlags) loadPolicy() (*rules.Policy, error) {
	cats, err := r.catalogs.load()
	if err != nil {
		return nil, err
	}
	if r.natsPolicy != nil {
		data, rev, err := r.natsPolicy()
		if err != nil {
			return nil, err
		}
		return parseFleetPolicy(data, rev, cats)
	}
	if r.policy == "" {
		p, err := rules.DefaultWith(cats...)
		if err == nil {
			p.Revision = "builtin-" + digest(rules.DefaultYAML())
		}
		return p, err
	}
	p, err := rules.LoadWith(r.policy, cats...)
	if err == nil {
		if data, rerr := os.ReadFile(r.policy); rerr == nil {
			p.Revision = "file-" + digest(data)
		}
	}
	return p, err
}

// parseFleetPolicy parses revision rev of the fleet's policy.
func parseFleetPolicy(data []byte, rev uint64, cats []*rules.Catalog) (*rules.Policy, error) {
	p, err := rules.ParseWith(fmt.Sprintf("nats:%s/%s@%d", fleet.PolicyBucket, fleet.PolicyKey, rev), data, cats...)
	if err != nil {
		return nil, err
	}
	p.Revision = strconv.FormatUint(rev, 10)
	return p, nil
}

// digest names the version of a policy file in egresswatch.policy.revision.
func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:6])
}

// applyMemory sizes cfg from --memory and holds the Go heap under it: the
// tables are sized from the budget, and the soft limit makes the garbage
// collector keep the heap near it too instead of letting it double
// between collections.
func (r *runFlags) applyMemory(cfg *pipeline.Config) {
	cfg.Memory = int64(r.memory)
	debug.SetMemoryLimit(int64(r.memory) / 10 * 9)
}
