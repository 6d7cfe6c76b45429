package metrics

import (
	"fmt"
	"net/http"
	"slices"
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
}

// Collector turns Sources into Prometheus metrics at every scrape.
type Collector struct {
	src Sources
	reg *prometheus.Registry

	packets, l4, events                  *prometheus.Desc
	decodeErrors, fragments, tunnelled   *prometheus.Desc
	messages, streamDrops                *prometheus.Desc
	flows, flowsActive, expired, evicted *prometheus.Desc
	names, dnsEntries, dnsEvicted        *prometheus.Desc
	dnsLookups                           *prometheus.Desc
	alerts, alertsWritten, suppressed    *prometheus.Desc
	evaluations                          *prometheus.Desc
	suppressWindows, suppressEvicted     *prometheus.Desc
	kPackets, kDrops, kFreezes           *prometheus.Desc
	reloads, lastReload, workers         *prometheus.Desc
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("egresswatch_"+name, help, labels, nil)
}

// New returns a Collector registered, with the Go runtime and process
// collectors, in a registry of its own.
func New(src Sources) *Collector {
	c := &Collector{
		src:             src,
		packets:         desc("packets_total", "Frames read from the capture."),
		l4:              desc("packets_l4_total", "Frames decoded down to TCP, UDP or another transport."),
		events:          desc("events_total", "ECS events written."),
		decodeErrors:    desc("decode_errors_total", "Frames that could not be decoded, by reason.", "reason"),
		fragments:       desc("ip_fragments_total", "IP fragments, by outcome.", "outcome"),
		tunnelled:       desc("tunnelled_packets_total", "Packets decapsulated from a tunnel (GRE, VXLAN, Geneve, ERSPAN, ...)."),
		messages:        desc("messages_total", "Application messages parsed, by protocol.", "protocol"),
		streamDrops:     desc("stream_drops_total", "TCP first-flight data given up, by reason.", "reason"),
		flows:           desc("flows_total", "Flows created."),
		flowsActive:     desc("flows_active", "Flows in the flow tables."),
		expired:         desc("flows_expired_total", "Flows ended by idle timeout."),
		evicted:         desc("flow_evictions_total", "Flows ended early because a flow table was full."),
		names:           desc("names_total", "Flows named, by name source (sni, quic, http, dns).", "source"),
		dnsEntries:      desc("passive_dns_entries", "Entries in the passive DNS cache."),
		dnsEvicted:      desc("passive_dns_evictions_total", "Passive DNS entries evicted at the cache's cap."),
		dnsLookups:      desc("passive_dns_lookups_total", "Passive DNS lookups, by result.", "result"),
		alerts:          desc("alerts_total", "Alerts raised (written or suppressed), by rule.", "rule"),
		alertsWritten:   desc("alerts_written_total", "Alerts written."),
		suppressed:      desc("alerts_suppressed_total", "Alerts counted into a later suppression summary."),
		evaluations:     desc("policy_evaluations_total", "Policy evaluations."),
		suppressWindows: desc("suppression_windows", "Open alert suppression windows."),
		suppressEvicted: desc("suppression_evictions_total", "Suppression windows closed early at the table's cap (from --memory)."),
		kPackets:        desc("kernel_packets_total", "Packets that reached a capture ring (PACKET_STATISTICS), dropped or not.", "interface", "ring"),
		kDrops:          desc("kernel_drops_total", "Packets the kernel dropped because a capture ring was full.", "interface", "ring"),
		kFreezes:        desc("kernel_queue_freezes_total", "Times a capture ring had no free block.", "interface", "ring"),
		reloads:         desc("reloads_total", "Configuration loads (policy, GeoIP, cloud ranges), by result.", "result"),
		lastReload:      desc("last_reload_success_timestamp_seconds", "When the configuration in force was loaded."),
		workers:         desc("workers", "Flow-sharded workers."),
	}
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
	for _, d := range []*prometheus.Desc{
		c.packets, c.l4, c.events, c.decodeErrors, c.fragments, c.tunnelled, c.messages, c.streamDrops,
		c.flows, c.flowsActive, c.expired, c.evicted, c.names, c.dnsEntries, c.dnsEvicted, c.dnsLookups,
		c.alerts, c.alertsWritten, c.suppressed, c.evaluations, c.suppressWindows, c.suppressEvicted, c.kPackets, c.kDrops, c.kFreezes,
		c.reloads, c.lastReload, c.workers,
	} {
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
		d, in := s.Decode, s.Inspect
		counter(c.packets, d.Frames)
		counter(c.l4, d.L4)
		counter(c.events, s.Events)
		counter(c.decodeErrors, d.Malformed, "malformed")
		counter(c.decodeErrors, d.UnknownLink, "unknown_link")
		counter(c.decodeErrors, d.NonIP, "non_ip")
		counter(c.decodeErrors, d.TooDeep, "too_deep")
		counter(c.decodeErrors, d.UnknownTunnel, "unknown_tunnel")
		counter(c.decodeErrors, d.WLANUndecoded, "wlan_undecoded")
		counter(c.fragments, d.Fragments, "seen")
		counter(c.fragments, d.Reassembled, "reassembled")
		counter(c.fragments, d.FragEvicted, "dropped")
		counter(c.tunnelled, d.Tunnelled)
		counter(c.messages, in.DNSMessages, "dns")
		counter(c.messages, in.TLSHellos, "tls")
		counter(c.messages, in.QUICHellos, "quic")
		counter(c.messages, in.HTTPRequests, "http")
		counter(c.decodeErrors, in.DNSMalformed, "dns_malformed")
		counter(c.decodeErrors, in.TLSMalformed, "tls_malformed")
		counter(c.decodeErrors, in.QUICUndecrypt, "quic_undecryptable")
		counter(c.streamDrops, in.StreamOverflow, "overflow")
		counter(c.streamDrops, in.OOODropped, "out_of_order")
		counter(c.streamDrops, in.BudgetRefused, "memory_budget")
		counter(c.flows, s.Flows.Flows)
		gauge(c.flowsActive, float64(s.Flows.Active))
		counter(c.expired, s.Flows.Expired)
		counter(c.evicted, s.Flows.Evicted)
		for _, src := range []string{"sni", "quic", "http", "dns"} {
			counter(c.names, s.NamedBy[src], src)
		}
		gauge(c.dnsEntries, float64(s.Names.Entries))
		counter(c.dnsEvicted, s.Names.Evicted)
		counter(c.dnsLookups, s.Names.Hits, "hit")
		counter(c.dnsLookups, s.Names.Misses, "miss")
		for _, r := range sortedKeys(s.Judge.ByRule) {
			counter(c.alerts, s.Judge.ByRule[r], r)
		}
		counter(c.alertsWritten, s.Judge.Alerts)
		counter(c.suppressed, s.Judge.Suppressed)
		counter(c.evaluations, s.Judge.Evaluations)
		gauge(c.suppressWindows, float64(s.Judge.SuppressWindows))
		counter(c.suppressEvicted, s.Judge.SuppressEvicted)
		gauge(c.workers, float64(s.Workers))
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
}

func sortedKeys(m map[string]uint64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
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
