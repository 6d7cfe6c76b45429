package report

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"slices"
	"time"
)

// stateVersion is the version of the saved state's format. Version 1
// saved only the rows, the unplaced destinations and the totals; version
// 2 saves every Builder field (the detail, the devices, the alert lines
// and the header).
const stateVersion = 2

// ErrStateVersion is returned (wrapped) by Load for a state written in
// another format version, such as a checkpoint of an older egresswatch.
var ErrStateVersion = errors.New("report state: unsupported format version")

// state is everything a Builder holds, as saved: a checkpoint of a long
// run that a restarted run continues (Load), or the copy a periodic
// report is written from (Snapshot). Every Builder field has its place
// here; TestStateHasEveryField keeps it so. Maps are saved as lists
// sorted by their keys (or as JSON objects, which encoding/json sorts),
// so the same Builder always saves the same bytes.
type state struct {
	Version int `json:"version"`

	// The header, as the caller set it.
	Files            []string            `json:"files"`
	Inputs           []string            `json:"inputs"`
	Skipped          int                 `json:"skipped"`
	FileErrs         int                 `json:"file_errors"`
	Policy           string              `json:"policy"`
	ApprovedRules    []string            `json:"approved_rules"`
	Approved         map[string][]string `json:"approved"`
	Sensitive        []string            `json:"sensitive"`
	EvidenceDir      string              `json:"evidence_dir"`
	Placement        []string            `json:"placement"`
	PlacementWarning string              `json:"placement_warning"`

	First   time.Time    `json:"first"`
	Last    time.Time    `json:"last"`
	Flows   uint64       `json:"flows"`
	Devices []netip.Addr `json:"devices"`
	Alerts  uint64       `json:"alerts"`
	Rows    []rowState   `json:"rows"`
	Indet   []indetState `json:"indeterminate"`

	Detail       detailState      `json:"detail"`
	DeviceRows   []deviceRowState `json:"device_rows"` // devices.go
	NamedDevices int              `json:"named_devices"`
	AlertLines   []alertLineState `json:"alert_lines"` // the Markdown list of alerts
	LastLines    []lastLineState  `json:"last_lines"`
}

type rowState struct {
	Group     string       `json:"group"`
	Service   string       `json:"service"`
	Country   string       `json:"country"`
	Residency string       `json:"residency"`
	Flows     uint64       `json:"flows"`
	Bytes     uint64       `json:"bytes"`
	Alerts    uint64       `json:"alerts"`
	First     time.Time    `json:"first"`
	Last      time.Time    `json:"last"`
	Devices   []netip.Addr `json:"devices"`
}

type indetState struct {
	Dst     netip.Addr   `json:"dst"`
	Name    string       `json:"name"`
	Reason  string       `json:"reason"`
	Flows   uint64       `json:"flows"`
	Bytes   uint64       `json:"bytes"`
	Devices []netip.Addr `json:"devices"`
}

// detailState is detail (detail.go).
type detailState struct {
	Groups  []groupState                `json:"groups"`
	Dests   []destState                 `json:"destinations"`
	Devices []deviceState               `json:"devices"`
	Alerts  []alertEntryState           `json:"alerts"`
	Times   map[string]map[int64]uint64 `json:"times"` // rule -> unix second -> alerts
}

type groupState struct {
	Group             string            `json:"group"`
	Flows             uint64            `json:"flows"`
	Bytes             uint64            `json:"bytes"`
	Outside           uint64            `json:"outside"`
	Indet             uint64            `json:"indeterminate"`
	Devices           []netip.Addr      `json:"devices"`
	SensitiveDevices  []netip.Addr      `json:"sensitive_devices"`
	SensitiveServices []string          `json:"sensitive_services"`
	Countries         map[string]uint64 `json:"countries"`
	Operators         map[string]uint64 `json:"operators"`
}

// destState is a Destination; its Devices count is left out (it is
// filled in on copies, from the device set).
type destState struct {
	Dst         netip.Addr   `json:"dst"`
	Name        string       `json:"name"`
	NameSource  string       `json:"name_source"`
	Service     string       `json:"service"`
	Country     string       `json:"country"`
	Residency   string       `json:"residency"`
	Reason      string       `json:"reason"`
	ASN         uint32       `json:"asn"`
	Org         string       `json:"org"`
	Cloud       string       `json:"cloud"`
	Region      string       `json:"region"`
	PlaceSource string       `json:"placement_source"`
	Flows       uint64       `json:"flows"`
	Bytes       uint64       `json:"bytes"`
	Devices     []netip.Addr `json:"devices"`
}

// deviceState is a Device; Services and Countries are the sets (the
// exported lists are filled in on copies).
type deviceState struct {
	Addr         netip.Addr `json:"addr"`
	Groups       []string   `json:"groups"`
	Flows        uint64     `json:"flows"`
	Bytes        uint64     `json:"bytes"`
	OutsideBytes uint64     `json:"outside_bytes"`
	Alerts       uint64     `json:"alerts"`
	First        time.Time  `json:"first"`
	Last         time.Time  `json:"last"`
	Services     []string   `json:"services"`
	Countries    []string   `json:"countries"`
}

// alertEntryState is an AlertEntry and the country of its key (the
// alert's own, where the entry's is "unknown" for none).
type alertEntryState struct {
	KeyCountry string `json:"key_country"`
	AlertEntry
}

// deviceRowState is a DeviceRow under its key (deviceKey), its
// Addresses, Groups, Services and Countries holding the sets.
type deviceRowState struct {
	Key string `json:"key"`
	DeviceRow
}

type lineKeyState struct {
	Rule   string     `json:"rule"`
	Device netip.Addr `json:"device"`
	Dst    netip.Addr `json:"dst"`
	Name   string     `json:"name"`
}

func (k lineKeyState) key() lineKey { return lineKey{k.Rule, k.Device, k.Dst, k.Name} }

func lineKeyOf(k lineKey) lineKeyState { return lineKeyState{k.rule, k.device, k.dst, k.name} }

// alertLineState is an alertLine.
type alertLineState struct {
	lineKeyState
	Service string    `json:"service"`
	Country string    `json:"country"`
	DNSOnly bool      `json:"dns_only"`
	Count   uint64    `json:"count"`
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
}

// lastLineState is one entry of lastLine: the line (a key of alertList)
// that a suppression summary's repeats go to.
type lastLineState struct {
	Rule    string       `json:"rule"`
	Device  netip.Addr   `json:"device"`
	Service string       `json:"service"`
	Country string       `json:"country"`
	Line    lineKeyState `json:"line"`
}

func addrs(m map[netip.Addr]struct{}) []netip.Addr {
	return slices.SortedFunc(maps.Keys(m), netip.Addr.Compare)
}

func addrSet(a []netip.Addr) map[netip.Addr]struct{} {
	m := make(map[netip.Addr]struct{}, len(a))
	for _, x := range a {
		m[x] = struct{}{}
	}
	return m
}

func strSet(a []string) map[string]struct{} {
	m := make(map[string]struct{}, len(a))
	for _, x := range a {
		m[x] = struct{}{}
	}
	return m
}

// sortedBy returns m's keys in the order of compare.
func sortedBy[K comparable, V any](m map[K]V, compare func(x, y K) int) []K {
	return slices.SortedFunc(maps.Keys(m), compare)
}

// save copies b into a state; the caller holds b.mu. Nothing in the state
// shares memory with b, so a Snapshot restored from it is b's own.
func (b *Builder) save() *state {
	s := &state{Version: stateVersion,
		Files: slices.Clone(b.Files), Inputs: slices.Clone(b.Inputs), Skipped: b.Skipped, FileErrs: b.FileErrs,
		Policy: b.Policy, ApprovedRules: slices.Clone(b.ApprovedRules), Sensitive: slices.Clone(b.Sensitive),
		EvidenceDir: b.EvidenceDir, Placement: slices.Clone(b.Placement), PlacementWarning: b.PlacementWarning,
		First: b.first, Last: b.last, Flows: b.flows, Devices: addrs(b.devs), Alerts: b.nAlerts,
		NamedDevices: b.namedDevices}
	if b.Approved != nil {
		s.Approved = make(map[string][]string, len(b.Approved))
		for g, c := range b.Approved {
			s.Approved[g] = slices.Clone(c)
		}
	}
	for _, k := range sortedBy(b.rows, func(x, y rowKey) int {
		return cmp.Or(cmp.Compare(x.group, y.group), cmp.Compare(x.service, y.service), cmp.Compare(x.country, y.country))
	}) {
		r := b.rows[k]
		s.Rows = append(s.Rows, rowState{r.Group, r.Service, r.Country, r.Residency, r.Flows, r.Bytes, r.Alerts,
			r.First, r.Last, addrs(r.devices)})
	}
	for _, k := range sortedBy(b.indet, compareIndetKeys) {
		d := b.indet[k]
		s.Indet = append(s.Indet, indetState{d.Dst, d.Name, d.Reason, d.Flows, d.Bytes, addrs(d.devices)})
	}
	b.detail.save(&s.Detail)
	for _, k := range sortedBy(b.devices, cmp.Compare[string]) {
		d := b.devices[k]
		r := deviceRowState{Key: k, DeviceRow: *d}
		r.addrs, r.groups, r.services, r.countries = nil, nil, nil, nil
		r.Addresses, r.Groups, r.Services, r.Countries = keys(d.addrs), keys(d.groups), keys(d.services), keys(d.countries)
		s.DeviceRows = append(s.DeviceRows, r)
	}
	for _, k := range sortedBy(b.alertList, compareLineKeys) {
		l := b.alertList[k]
		s.AlertLines = append(s.AlertLines, alertLineState{lineKeyOf(k), l.service, l.country, l.dnsOnly, l.count, l.first, l.last})
	}
	for _, k := range sortedBy(b.lastLine, func(x, y repeatKey) int {
		return cmp.Or(cmp.Compare(x.rule, y.rule), x.device.Compare(y.device), cmp.Compare(x.service, y.service),
			cmp.Compare(x.country, y.country))
	}) {
		s.LastLines = append(s.LastLines, lastLineState{k.rule, k.device, k.service, k.country, lineKeyOf(b.lastLine[k].lineKey)})
	}
	return s
}

func compareIndetKeys(x, y indetKey) int {
	return cmp.Or(x.dst.Compare(y.dst), cmp.Compare(x.name, y.name))
}

func compareLineKeys(x, y lineKey) int {
	return cmp.Or(cmp.Compare(x.rule, y.rule), x.device.Compare(y.device), x.dst.Compare(y.dst), cmp.Compare(x.name, y.name))
}

func (d *detail) save(s *detailState) {
	for _, g := range sortedBy(d.groups, cmp.Compare[string]) {
		a := d.groups[g]
		s.Groups = append(s.Groups, groupState{Group: g, Flows: a.flows, Bytes: a.bytes, Outside: a.outside, Indet: a.indet,
			Devices: addrs(a.devices), SensitiveDevices: addrs(a.sensitiveDevs), SensitiveServices: keys(a.sensitiveSvcs),
			Countries: maps.Clone(a.countries), Operators: maps.Clone(a.operators)})
	}
	for _, k := range sortedBy(d.dests, compareIndetKeys) {
		x := d.dests[k]
		s.Dests = append(s.Dests, destState{Dst: x.Dst, Name: x.Name, NameSource: x.NameSource, Service: x.Service,
			Country: x.Country, Residency: x.Residency, Reason: x.Reason, ASN: x.ASN, Org: x.Org, Cloud: x.Cloud,
			Region: x.Region, PlaceSource: x.PlaceSource, Flows: x.Flows, Bytes: x.Bytes, Devices: addrs(x.devices)})
	}
	for _, a := range sortedBy(d.devices, netip.Addr.Compare) {
		x := d.devices[a]
		s.Devices = append(s.Devices, deviceState{Addr: x.Addr, Groups: slices.Clone(x.Groups), Flows: x.Flows, Bytes: x.Bytes,
			OutsideBytes: x.OutsideBytes, Alerts: x.Alerts, First: x.First, Last: x.Last,
			Services: keys(x.services), Countries: keys(x.countries)})
	}
	for _, k := range sortedBy(d.alerts, func(x, y alertKey) int {
		return cmp.Or(cmp.Compare(x.rule, y.rule), cmp.Compare(x.service, y.service), cmp.Compare(x.country, y.country),
			x.device.Compare(y.device))
	}) {
		e := d.alerts[k]
		c := *e
		c.Groups = slices.Clone(e.Groups)
		s.Alerts = append(s.Alerts, alertEntryState{KeyCountry: k.country, AlertEntry: c})
	}
	s.Times = make(map[string]map[int64]uint64, len(d.times))
	for rule, t := range d.times {
		s.Times[rule] = maps.Clone(t)
	}
}

// restore builds a Builder from s. It fails only on a state that Save
// did not write: a suppression summary's line missing from the list.
func (s *state) restore() (*Builder, error) {
	b := New()
	b.Files, b.Inputs, b.Skipped, b.FileErrs = s.Files, s.Inputs, s.Skipped, s.FileErrs
	b.Policy, b.ApprovedRules, b.Approved, b.Sensitive = s.Policy, s.ApprovedRules, s.Approved, s.Sensitive
	b.EvidenceDir, b.Placement, b.PlacementWarning = s.EvidenceDir, s.Placement, s.PlacementWarning
	b.first, b.last, b.flows, b.nAlerts, b.namedDevices = s.First, s.Last, s.Flows, s.Alerts, s.NamedDevices
	b.devs = addrSet(s.Devices)
	for _, r := range s.Rows {
		b.rows[rowKey{r.Group, r.Service, r.Country}] = &Row{Group: r.Group, Service: r.Service, Country: r.Country,
			Residency: r.Residency, Flows: r.Flows, Bytes: r.Bytes, Alerts: r.Alerts, First: r.First, Last: r.Last,
			devices: addrSet(r.Devices)}
	}
	for _, d := range s.Indet {
		b.indet[indetKey{d.Dst, d.Name}] = &Indeterminate{Dst: d.Dst, Name: d.Name, Reason: d.Reason,
			Flows: d.Flows, Bytes: d.Bytes, devices: addrSet(d.Devices)}
	}
	s.Detail.restore(&b.detail)
	if len(s.DeviceRows) > 0 {
		b.devices = make(map[string]*DeviceRow, len(s.DeviceRows))
	}
	for _, d := range s.DeviceRows {
		r := d.DeviceRow
		r.addrs, r.groups, r.services, r.countries = strSet(d.Addresses), strSet(d.Groups), strSet(d.Services), strSet(d.Countries)
		r.Addresses, r.Groups, r.Services, r.Countries = nil, nil, nil, nil
		b.devices[d.Key] = &r
	}
	for _, l := range s.AlertLines {
		k := l.key()
		b.alertList[k] = &alertLine{lineKey: k, service: l.Service, country: l.Country, dnsOnly: l.DNSOnly,
			count: l.Count, first: l.First, last: l.Last}
	}
	if len(s.LastLines) > 0 {
		b.lastLine = make(map[repeatKey]*alertLine, len(s.LastLines))
	}
	for _, r := range s.LastLines {
		l := b.alertList[r.Line.key()]
		if l == nil {
			return nil, fmt.Errorf("report state: repeats of rule %q on %s go to an alert line that is not saved", r.Rule, r.Device)
		}
		b.lastLine[repeatKey{r.Rule, r.Device, r.Service, r.Country}] = l
	}
	return b, nil
}

func (s *detailState) restore(d *detail) {
	for _, g := range s.Groups {
		d.groups[g.Group] = &groupAgg{flows: g.Flows, bytes: g.Bytes, outside: g.Outside, indet: g.Indet,
			devices: addrSet(g.Devices), sensitiveDevs: addrSet(g.SensitiveDevices), sensitiveSvcs: strSet(g.SensitiveServices),
			countries: nonNil(g.Countries), operators: nonNil(g.Operators)}
	}
	for _, x := range s.Dests {
		d.dests[indetKey{x.Dst, x.Name}] = &Destination{Dst: x.Dst, Name: x.Name, NameSource: x.NameSource,
			Service: x.Service, Country: x.Country, Residency: x.Residency, Reason: x.Reason, ASN: x.ASN, Org: x.Org,
			Cloud: x.Cloud, Region: x.Region, PlaceSource: x.PlaceSource, Flows: x.Flows, Bytes: x.Bytes,
			devices: addrSet(x.Devices)}
	}
	for _, x := range s.Devices {
		d.devices[x.Addr] = &Device{Addr: x.Addr, Groups: x.Groups, Flows: x.Flows, Bytes: x.Bytes,
			OutsideBytes: x.OutsideBytes, Alerts: x.Alerts, First: x.First, Last: x.Last,
			services: strSet(x.Services), countries: strSet(x.Countries)}
	}
	for _, x := range s.Alerts {
		e := x.AlertEntry
		d.alerts[alertKey{e.Rule, e.Service, x.KeyCountry, e.Device}] = &e
	}
	for rule, t := range s.Times {
		d.times[rule] = nonNil(t)
	}
}

// nonNil returns m, or an empty map for nil: the maps of detail are
// written to without a check.
func nonNil[K comparable](m map[K]uint64) map[K]uint64 {
	if m == nil {
		return map[K]uint64{}
	}
	return m
}

// Save writes b's state as JSON: what Load needs to continue it. It is
// safe to call while AddFlow and AddAlert are called.
func (b *Builder) Save(w io.Writer) error {
	b.mu.Lock()
	s := b.save()
	b.mu.Unlock()
	if err := json.NewEncoder(w).Encode(s); err != nil {
		return fmt.Errorf("report state: %w", err)
	}
	return nil
}

// Load reads a state written by Save into a new Builder, which goes on
// counting from there. A state of another format version (an older
// egresswatch's checkpoint) gives an error wrapping ErrStateVersion: the
// caller starts afresh.
func Load(r io.Reader) (*Builder, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("report state: %w", err)
	}
	var v struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("report state: %w", err)
	}
	if v.Version != stateVersion {
		return nil, fmt.Errorf("%w %d (this egresswatch reads version %d; the checkpoint is from another version)",
			ErrStateVersion, v.Version, stateVersion)
	}
	var s state
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&s); err != nil {
		return nil, fmt.Errorf("report state: %w", err)
	}
	return s.restore()
}

// Snapshot returns a copy of b to write a report from while b goes on
// counting. It is safe to call while AddFlow and AddAlert are called.
func (b *Builder) Snapshot() *Builder {
	b.mu.Lock()
	s := b.save()
	b.mu.Unlock()
	c, err := s.restore()
	if err != nil {
		panic(err) // save keeps every line that lastLine points to
	}
	return c
}
