package metrics

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/egresswatch/egresswatch/pipeline"
)

// Ring is one capture ring's kernel counters since it was opened.
type Ring struct {
	Interface string
	Ring      int
	Packets   uint64 // reached the socket, dropped or not
	Drops     uint64 // dropped by the kernel: the ring was full
	Freezes   uint64
}

// Reloads counts configuration reloads (SIGHUP). Safe for concurrent use.
type Reloads struct {
	ok, failed atomic.Uint64
	last       atomic.Int64 // unix time of the last successful load
}

// Success records a reload (or the first load) that took effect at t.
func (r *Reloads) Success(t time.Time) { r.ok.Add(1); r.last.Store(t.Unix()) }

// Failure records a reload that was rejected; the old configuration stays.
func (r *Reloads) Failure() { r.failed.Add(1) }

// Counts returns the successes and failures so far.
func (r *Reloads) Counts() (ok, failed uint64) { return r.ok.Load(), r.failed.Load() }

// Sources are the functions a scrape reads. Any may be nil.
type Sources struct {
	Summary func() pipeline.Summary
	Rings   func() []Ring
	Reloads *Reloads
	Outputs func() []Output // output files (outputs.go)
	// PlacementTime is when the placement data in force was made (zero:
	// unknown); its age is exported.
	PlacementTime func() time.Time
}

// Collector turns Sources into Prometheus metrics at every scrape. The
// run's counters come from pipeline.Counters: a counter declared there is
// exported here without a change.
type Collector struct {
	src Sources
	reg *prometheus.Registry

	counters []pipeline.Counter
	descs    []*prometheus.Desc // per counter; rows of one metric share one
	all      []*prometheus.Desc // each metric once

	kPackets, kDrops, kFreezes *prometheus.Desc
	reloads, lastReload        *prometheus.Desc
	out                        outputDescs
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("egresswatch_"+name, help, labels, nil)
}

// New returns a Collector registered, with the Go runtime and process
// collectors, in a registry of its own.
func New(src Sources) *Collector {
	c := &Collector{
		src:        src,
		kPackets:   desc("kernel_packets_total", "Packets that reached a capture ring (PACKET_STATISTICS), dropped or not.", "interface", "ring"),
		kDrops:     desc("kernel_drops_total", "Packets the kernel dropped because a capture ring was full.", "interface", "ring"),
		kFreezes:   desc("kernel_queue_freezes_total", "Times a capture ring had no free block.", "interface", "ring"),
		reloads:    desc("reloads_total", "Configuration loads (policy, GeoIP, cloud ranges), by result.", "result"),
		lastReload: desc("last_reload_success_timestamp_seconds", "When the configuration in force was loaded."),
		out:        newOutputDescs(),
	}
	byName := map[string]*prometheus.Desc{}
	for _, ct := range pipeline.Counters() {
		if ct.Metric == "" {
			continue
		}
		d := byName[ct.Metric]
		if d == nil {
			var labels []string
			if ct.Label != "" {
				labels = []string{ct.Label}
			}
			d = desc(ct.Metric, ct.Help, labels...)
			byName[ct.Metric] = d
			c.all = append(c.all, d)
		}
		c.counters = append(c.counters, ct)
		c.descs = append(c.descs, d)
	}
	c.all = append(c.all, c.kPackets, c.kDrops, c.kFreezes, c.reloads, c.lastReload)
	c.all = append(c.all, c.out.all()...)
	c.reg = prometheus.NewRegistry()
	c.reg.MustRegister(c, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return c
}

// Registry is the collector's own registry.
func (c *Collector) Registry() *prometheus.Registry { return c.reg }

// Handler serves the registry in the Prometheus exposition formats.
func (c *Collector) Handler() http.Handler {
	return promhttp.HandlerFor(c.reg, promhttp.HandlerOpts{})
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.all {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if c.src.Summary != nil {
		s := c.src.Summary()
		for i := range c.counters {
			ct, d := &c.counters[i], c.descs[i]
			kind := prometheus.CounterValue
			if ct.Gauge() {
				kind = prometheus.GaugeValue
			}
			ct.Each(&s, func(label string, v uint64) {
				if ct.Label == "" {
					ch <- prometheus.MustNewConstMetric(d, kind, float64(v))
				} else {
					ch <- prometheus.MustNewConstMetric(d, kind, float64(v), label)
				}
			})
		}
	}
	if c.src.Rings != nil {
		for _, r := range c.src.Rings() {
			ring := strconv.Itoa(r.Ring)
			counter(c.kPackets, r.Packets, r.Interface, ring)
			counter(c.kDrops, r.Drops, r.Interface, ring)
			counter(c.kFreezes, r.Freezes, r.Interface, ring)
		}
	}
	if r := c.src.Reloads; r != nil {
		ok, failed := r.Counts()
		counter(c.reloads, ok, "success")
		counter(c.reloads, failed, "failure")
		if t := r.last.Load(); t > 0 {
			gauge(c.lastReload, float64(t))
		}
	}
	c.out.collect(&c.src, ch)
}

// Line is the periodic one-line summary for stderr: totals since the start,
// and the packet rate since prev (taken every seconds ago; 0 for none).
func Line(s, prev pipeline.Summary, every time.Duration, rings []Ring) string {
	var kp, kd uint64
	for _, r := range rings {
		kp += r.Packets
		kd += r.Drops
	}
	var named uint64
	for _, n := range s.NamedBy {
		named += n
	}
	rate := 0.0
	if every > 0 {
		rate = float64(s.Decode.Frames-prev.Decode.Frames) / every.Seconds()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "egresswatch: packets %d (%.0f/s), kernel drops %d", s.Decode.Frames, rate, kd)
	if kp > 0 {
		fmt.Fprintf(&b, " (%.3f%%)", 100*float64(kd)/float64(kp))
	}
	fmt.Fprintf(&b, "; flows %d active %d evicted %d; named %d; passive dns %d; alerts %d written %d suppressed; decode errors %d",
		s.Flows.Flows, s.Flows.Active, s.Flows.Evicted, named, s.Names.Entries, s.Judge.Alerts, s.Judge.Suppressed,
		s.Decode.Malformed+s.Decode.UnknownLink+s.Inspect.DNSMalformed+s.Inspect.TLSMalformed)
	return b.String()
}
