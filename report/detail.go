package report

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// The detail is what the JSON (and so the HTML) report adds to the group ×
// service × country rows: headline figures per group, and the devices,
// destinations and alerts behind them, each cut to its top N plus one
// "others" line so that a report stays small whatever the workload.

// Top-N cuts of the JSON document's lists.
const (
	topDestinations = 150
	topDevices      = 100
	topAlerts       = 200
	topOperators    = 10
	maxTimeBuckets  = 60
)

// Residency values of a row, destination or device.
const (
	resApproved      = "approved"
	resOutside       = "outside"
	resIndeterminate = "indeterminate"
)

type detail struct {
	groups  map[string]*groupAgg
	dests   map[indetKey]*Destination
	devices map[netip.Addr]*Device
	alerts  map[alertKey]*AlertEntry
	times   map[string]map[int64]uint64 // rule -> unix second -> alerts
}

func newDetail() detail {
	return detail{groups: map[string]*groupAgg{}, dests: map[indetKey]*Destination{},
		devices: map[netip.Addr]*Device{}, alerts: map[alertKey]*AlertEntry{}, times: map[string]map[int64]uint64{}}
}

type groupAgg struct {
	flows, bytes, outside, indet uint64
	devices, sensitiveDevs       map[netip.Addr]struct{}
	sensitiveSvcs                map[string]struct{}
	countries, operators         map[string]uint64 // bytes outside, by country and by operator
}

// residency tells whether country c (a row's country) is approved for group.
func (b *Builder) residency(group, c string) string {
	ok, has := b.Approved[group]
	switch {
	case !has:
		return ""
	case c == indetCountry || c == unknown:
		return resIndeterminate
	case slices.Contains(ok, c):
		return resApproved
	}
	return resOutside
}

// worse returns the residency that needs more attention.
func worse(a, b string) string {
	rank := func(s string) int { return slices.Index([]string{"", resApproved, resIndeterminate, resOutside}, s) }
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// operator names who runs a destination: the cloud provider, else the AS
// organisation, else the AS number.
func operator(cloud, org string, asn uint32) string {
	switch {
	case cloud != "":
		return cloud
	case org != "":
		return org
	case asn != 0:
		return fmt.Sprintf("AS%d", asn)
	}
	return unknown
}

func (b *Builder) addFlowDetail(f *FlowSummary, groups []string, c string) {
	d := &b.detail
	res := ""
	sensitive := f.Service != "" && slices.Contains(b.Sensitive, f.Service)
	for _, g := range groups {
		if g == "" {
			g = noGroup
		}
		ga := d.groups[g]
		if ga == nil {
			ga = &groupAgg{devices: map[netip.Addr]struct{}{}, sensitiveDevs: map[netip.Addr]struct{}{},
				sensitiveSvcs: map[string]struct{}{}, countries: map[string]uint64{}, operators: map[string]uint64{}}
			d.groups[g] = ga
		}
		ga.flows++
		ga.bytes += f.Bytes
		ga.devices[f.Device] = struct{}{}
		if sensitive {
			ga.sensitiveDevs[f.Device] = struct{}{}
			ga.sensitiveSvcs[f.Service] = struct{}{}
		}
		r := b.residency(g, c)
		switch r {
		case resOutside:
			ga.outside += f.Bytes
			ga.countries[c] += f.Bytes
			ga.operators[operator(f.Cloud, f.Org, f.ASN)] += f.Bytes
		case resIndeterminate:
			ga.indet += f.Bytes
		}
		res = worse(res, r)
	}

	k := indetKey{f.Dst, f.Name}
	dst := d.dests[k]
	if dst == nil {
		dst = &Destination{Dst: f.Dst, Name: f.Name, NameSource: f.NameSource, Service: f.Service, Country: c,
			Reason: f.Reason, ASN: f.ASN, Org: f.Org, Cloud: f.Cloud, Region: f.Region, PlaceSource: f.PlaceSource,
			devices: map[netip.Addr]struct{}{}}
		d.dests[k] = dst
	}
	dst.Flows++
	dst.Bytes += f.Bytes
	dst.devices[f.Device] = struct{}{}
	dst.Residency = worse(dst.Residency, res)

	dev := d.devices[f.Device]
	if dev == nil {
		dev = &Device{Addr: f.Device, Groups: slices.Clone(f.Groups), services: map[string]struct{}{}, countries: map[string]struct{}{}}
		d.devices[f.Device] = dev
	}
	dev.Flows++
	dev.Bytes += f.Bytes
	if res == resOutside {
		dev.OutsideBytes += f.Bytes
	}
	if f.Service != "" {
		dev.services[f.Service] = struct{}{}
	}
	dev.countries[c] = struct{}{}
	span(&dev.First, &dev.Last, f.First, f.Last)
}

type alertKey struct {
	rule, service, country string
	device                 netip.Addr
}

func (b *Builder) addAlertDetail(a *Alert, n uint64) {
	d := &b.detail
	k := alertKey{a.Rule, a.Service, a.Country, a.Device}
	e := d.alerts[k]
	if e == nil {
		e = &AlertEntry{Rule: a.Rule, RuleName: a.RuleName, Severity: a.Severity, Groups: slices.Clone(a.Groups),
			Device: a.Device, Service: a.Service, Country: country(a.Country, a.Country == ""), Dst: a.Dst, Name: a.Name,
			NameSource: a.NameSource, PlaceSource: a.PlaceSource, CommunityID: a.CommunityID}
		d.alerts[k] = e
	}
	if e.Pcap == "" {
		e.Pcap = a.Pcap
	}
	if a.Suppressed > 0 {
		e.Suppressed += a.Suppressed
	} else {
		e.Alerts += n
	}
	first := a.First
	if first.IsZero() {
		first = a.Time
	}
	span(&e.First, &e.Last, first, a.Time)
	if dev := d.devices[a.Device]; dev != nil {
		dev.Alerts += n
	}
	if !a.Time.IsZero() {
		t := d.times[a.Rule]
		if t == nil {
			t = map[int64]uint64{}
			d.times[a.Rule] = t
		}
		t[a.Time.Unix()] += n
	}
}

// GroupSummary is the headline of one device group.
type GroupSummary struct {
	Group   string `json:"group"`
	Devices int    `json:"devices"`
	Flows   uint64 `json:"flows"`
	Bytes   uint64 `json:"bytes"`
	// SensitiveDevices reached one of SensitiveServices (Builder.Sensitive).
	SensitiveDevices  int      `json:"sensitive_devices"`
	SensitiveServices []string `json:"sensitive_services"`
	// Restricted: the group has approved jurisdictions; OutsideBytes went
	// to a country outside them, IndeterminateBytes to no single country.
	Restricted         bool    `json:"restricted"`
	OutsideBytes       uint64  `json:"outside_bytes"`
	IndeterminateBytes uint64  `json:"indeterminate_bytes"`
	OutsideCountries   []Share `json:"outside_countries"` // all, most bytes first
	OutsideOperators   []Share `json:"outside_operators"` // top 10, then "others"
}

// Share is bytes by country or operator.
type Share struct {
	Name  string `json:"name"`
	Bytes uint64 `json:"bytes"`
}

// Destination is one destination address and name.
type Destination struct {
	Dst         netip.Addr `json:"ip"`
	Name        string     `json:"name,omitempty"`
	NameSource  string     `json:"name_source,omitempty"`
	Service     string     `json:"service,omitempty"`
	Country     string     `json:"country"`
	Residency   string     `json:"residency,omitempty"`
	Reason      string     `json:"reason,omitempty"` // why placement is indeterminate
	ASN         uint32     `json:"asn,omitempty"`
	Org         string     `json:"org,omitempty"`
	Cloud       string     `json:"cloud,omitempty"`
	Region      string     `json:"region,omitempty"`
	PlaceSource string     `json:"placement_source,omitempty"`
	Flows       uint64     `json:"flows"`
	Bytes       uint64     `json:"bytes"`
	Devices     int        `json:"devices"`
	devices     map[netip.Addr]struct{}
}

// Device is one source device.
type Device struct {
	Addr         netip.Addr `json:"ip"`
	Groups       []string   `json:"groups"`
	Flows        uint64     `json:"flows"`
	Bytes        uint64     `json:"bytes"`
	OutsideBytes uint64     `json:"outside_bytes"`
	Services     []string   `json:"services"`
	Countries    []string   `json:"countries"`
	Alerts       uint64     `json:"alerts"`
	First        time.Time  `json:"first_seen"`
	Last         time.Time  `json:"last_seen"`
	services     map[string]struct{}
	countries    map[string]struct{}
}

// AlertEntry is the alerts of one rule, device, service and country.
type AlertEntry struct {
	Rule        string     `json:"rule"`
	RuleName    string     `json:"rule_name,omitempty"`
	Severity    string     `json:"severity,omitempty"`
	Groups      []string   `json:"groups"`
	Device      netip.Addr `json:"device"`
	Service     string     `json:"service,omitempty"`
	Country     string     `json:"country"`
	Dst         netip.Addr `json:"ip,omitzero"`
	Name        string     `json:"name,omitempty"`
	NameSource  string     `json:"name_source,omitempty"`
	PlaceSource string     `json:"placement_source,omitempty"`
	CommunityID string     `json:"community_id,omitempty"`
	Pcap        string     `json:"pcap,omitempty"` // the first alert's evidence capture
	First       time.Time  `json:"first_seen"`
	Last        time.Time  `json:"last_seen"`
	Alerts      uint64     `json:"alerts"`     // written
	Suppressed  uint64     `json:"suppressed"` // repeats counted into summaries
}

// Others sums what a top-N list left out.
type Others struct {
	Count int    `json:"count"`
	Flows uint64 `json:"flows,omitempty"`
	Bytes uint64 `json:"bytes,omitempty"`
}

// TopList is a list cut to its top N.
type TopList[T any] struct {
	Items  []T    `json:"items"`
	Others Others `json:"others"`
}

// AlertTimes counts alerts per rule in equal time buckets.
type AlertTimes struct {
	Start time.Time   `json:"start,omitzero"`
	Step  int64       `json:"step_seconds"`
	Rules []RuleTimes `json:"rules"`
}

// RuleTimes is one rule's alerts per bucket.
type RuleTimes struct {
	Rule   string   `json:"rule"`
	Counts []uint64 `json:"counts"`
}

type policyDoc struct {
	Approved    map[string][]string `json:"approved"`
	Sensitive   []string            `json:"sensitive"`
	EvidenceDir string              `json:"evidence_dir,omitempty"`
}

// documentDetail is what the JSON document adds after its first fields.
type documentDetail struct {
	Policy       policyDoc            `json:"policy"`
	Summary      []GroupSummary       `json:"summary"`
	Destinations TopList[Destination] `json:"destinations"`
	DeviceList   TopList[Device]      `json:"device_list"`
	AlertList    TopList[AlertEntry]  `json:"alert_list"`
	AlertTimes   AlertTimes           `json:"alert_times"`
}

func (b *Builder) documentDetail() documentDetail {
	d := &b.detail
	doc := documentDetail{Policy: policyDoc{Approved: b.Approved, Sensitive: b.Sensitive, EvidenceDir: b.EvidenceDir}}
	if doc.Policy.Approved == nil {
		doc.Policy.Approved = map[string][]string{}
	}
	if doc.Policy.Sensitive == nil {
		doc.Policy.Sensitive = []string{}
	}
	doc.Summary = b.Summary()

	dests := values(d.dests, func(c, x *Destination) { c.Devices = len(x.devices) }, func(x, y Destination) int {
		return destRank{x.Bytes, x.Flows, x.Dst, x.Name}.compare(destRank{y.Bytes, y.Flows, y.Dst, y.Name})
	})
	doc.Destinations = cut(dests, topDestinations, func(x Destination) (uint64, uint64) { return x.Flows, x.Bytes })

	devs := values(d.devices, func(c, x *Device) {
		c.Services, c.Countries = sortedKeys(x.services), sortedKeys(x.countries)
		if c.Groups == nil {
			c.Groups = []string{}
		}
	}, func(x, y Device) int {
		return cmp.Or(cmp.Compare(y.OutsideBytes, x.OutsideBytes), cmp.Compare(y.Bytes, x.Bytes), x.Addr.Compare(y.Addr))
	})
	doc.DeviceList = cut(devs, topDevices, func(x Device) (uint64, uint64) { return x.Flows, x.Bytes })

	alerts := values(d.alerts, func(c, _ *AlertEntry) {
		if c.Groups == nil {
			c.Groups = []string{}
		}
	}, func(x, y AlertEntry) int {
		return cmp.Or(cmp.Compare(y.Alerts+y.Suppressed, x.Alerts+x.Suppressed), x.First.Compare(y.First),
			cmp.Compare(x.Rule, y.Rule), x.Device.Compare(y.Device), cmp.Compare(x.Service, y.Service), cmp.Compare(x.Country, y.Country))
	})
	doc.AlertList = cut(alerts, topAlerts, func(AlertEntry) (uint64, uint64) { return 0, 0 })
	doc.AlertTimes = d.alertTimes()
	return doc
}

// Summary returns the headline of each device group, most bytes first.
func (b *Builder) Summary() []GroupSummary {
	out := make([]GroupSummary, 0, len(b.detail.groups))
	for g, a := range b.detail.groups {
		_, restricted := b.Approved[g]
		s := GroupSummary{Group: g, Devices: len(a.devices), Flows: a.flows, Bytes: a.bytes,
			SensitiveDevices: len(a.sensitiveDevs), SensitiveServices: sortedKeys(a.sensitiveSvcs),
			Restricted: restricted, OutsideBytes: a.outside, IndeterminateBytes: a.indet,
			OutsideCountries: shares(a.countries, len(a.countries)), OutsideOperators: shares(a.operators, topOperators)}
		out = append(out, s)
	}
	slices.SortFunc(out, func(x, y GroupSummary) int {
		return cmp.Or(cmp.Compare(y.Bytes, x.Bytes), cmp.Compare(x.Group, y.Group))
	})
	return out
}

// shares returns m most bytes first, cut to n with the rest as "others".
func shares(m map[string]uint64, n int) []Share {
	out := make([]Share, 0, len(m))
	for k, v := range m {
		out = append(out, Share{k, v})
	}
	slices.SortFunc(out, func(x, y Share) int { return cmp.Or(cmp.Compare(y.Bytes, x.Bytes), cmp.Compare(x.Name, y.Name)) })
	if len(out) > n {
		var rest uint64
		for _, s := range out[n:] {
			rest += s.Bytes
		}
		out = append(out[:n], Share{"others", rest})
	}
	return out
}

// values copies the map's values, completes each copy with fill (which
// also sees the original), and sorts them.
func values[K comparable, V any](m map[K]*V, fill func(c, orig *V), compare func(x, y V) int) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		c := *v
		fill(&c, v)
		out = append(out, c)
	}
	slices.SortFunc(out, compare)
	return out
}

// destRank orders destinations: most bytes, then most flows, then address and name.
type destRank struct {
	bytes, flows uint64
	dst          netip.Addr
	name         string
}

func (x destRank) compare(y destRank) int {
	return cmp.Or(cmp.Compare(y.bytes, x.bytes), cmp.Compare(y.flows, x.flows), x.dst.Compare(y.dst), cmp.Compare(x.name, y.name))
}

func cut[T any](all []T, n int, sum func(T) (flows, bytes uint64)) TopList[T] {
	l := TopList[T]{Items: all[:min(n, len(all))]}
	for _, x := range all[len(l.Items):] {
		f, b := sum(x)
		l.Others.Count++
		l.Others.Flows += f
		l.Others.Bytes += b
	}
	return l
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// bucketSteps are the widths alerts over time may be counted in, in seconds.
var bucketSteps = []int64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 7 * 86400}

func (d *detail) alertTimes() AlertTimes {
	at := AlertTimes{Rules: []RuleTimes{}}
	first, last := int64(0), int64(0)
	seen := false
	for _, m := range d.times {
		for s := range m {
			if !seen || s < first {
				first = s
			}
			if !seen || s > last {
				last = s
			}
			seen = true
		}
	}
	if !seen {
		return at
	}
	at.Step = bucketSteps[len(bucketSteps)-1]
	for _, s := range bucketSteps {
		if (last-first)/s < maxTimeBuckets {
			at.Step = s
			break
		}
	}
	start := first - first%at.Step
	n := (last-start)/at.Step + 1
	at.Start = time.Unix(start, 0).UTC()
	for _, rule := range sortedKeys(d.times) {
		rt := RuleTimes{Rule: rule, Counts: make([]uint64, n)}
		for s, c := range d.times[rule] {
			rt.Counts[(s-start)/at.Step] += c
		}
		at.Rules = append(at.Rules, rt)
	}
	return at
}
