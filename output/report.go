package output

import (
	"github.com/egresswatch/egresswatch/flow"
	"github.com/egresswatch/egresswatch/geo"
	"github.com/egresswatch/egresswatch/report"
	"github.com/egresswatch/egresswatch/rules"
	"github.com/egresswatch/egresswatch/track"
)

// Report feeds the residency report: every egress flow when it ends and
// every alert emitted. It turns the pipeline's values into the report's
// rows; the report package itself knows nothing of flows or policies.
type Report struct {
	b *report.Builder
}

// NewReport returns a Report that feeds b.
func NewReport(b *report.Builder) *Report { return &Report{b: b} }

// Flow adds a flow that ended, as the policy describes it (e); internal
// flows are not egress and are left out. place may be nil.
func (r *Report) Flow(f *track.FlowMeta, place *geo.Placement, e rules.Egress) {
	if e.Internal {
		return
	}
	if place == nil {
		place = &geo.Placement{}
	}
	var dev report.DeviceInfo
	if !r.b.ForwardOnly { // a builder that only forwards flows keeps no devices
		dev = deviceInfo(&f.Device)
	}
	r.b.AddFlow(report.FlowSummary{
		Groups:        e.Groups,
		Service:       e.Service,
		Country:       place.Country,
		Indeterminate: place.Indeterminate,
		Reason:        place.Reason,
		Dst:           f.Key.Dst.Addr(),
		Name:          f.Name,
		Device:        f.Key.Src.Addr(),
		Bytes:         f.Bytes[0] + f.Bytes[1],
		Packets:       f.Packets[0] + f.Packets[1],
		First:         f.First,
		Last:          f.Last,
		ASN:           place.ASN,
		Org:           place.ASOrg,
		Cloud:         place.Cloud.Provider,
		Region:        place.Cloud.Region,
		PlaceSource:   placementSource(place),
		NameSource:    f.NameSource.String(),
		DeviceInfo:    dev,
	})
}

// Alert adds an emitted alert, or the repeats a suppression summary
// counted. f is the flow the alert is about (nil for a DNS question or a
// summary); pcap names its evidence capture ("" when none).
func (r *Report) Alert(a *rules.Alert, f *track.FlowMeta, pcap string) {
	if r.b.ForwardOnly {
		return // it keeps nothing (and forwards flows only)
	}
	row := report.Alert{Groups: a.Match.Groups, Service: a.Service(), Country: a.Match.Country}
	if rule := a.Match.Rule; rule != nil {
		row.RuleName, row.Severity = rule.Name, a.Match.Severity.LogLevel()
	}
	if s := a.Summary; s != nil {
		row.Rule, row.Device, row.Time, row.Count = s.Key.Rule, s.Key.Device, s.Last, s.Suppressed
		row.First, row.Suppressed, row.Repeats = s.First, s.Suppressed, true
		r.b.AddAlert(row)
		return
	}
	in := &a.Input
	row.Rule, row.Device, row.Time, row.Count = a.Match.Rule.ID, in.Src, in.Time, 1
	row.Dst, row.Name, row.NameSource, row.PlaceSource = in.Dst, in.Name, in.NameSource.String(), placementSource(&in.Place)
	row.First, row.Pcap, row.DNSOnly = a.FirstSeen, pcap, a.Match.DNSOnly
	if f != nil {
		row.CommunityID = flow.CommunityID(f.Key, 0)
	}
	r.b.AddAlert(row)
}

// deviceInfo is what the report lists of a flow's device.
func deviceInfo(d *flow.Device) report.DeviceInfo {
	var i report.DeviceInfo
	if id := d.ID; id != nil {
		i = report.DeviceInfo{Name: id.Name, Owner: id.Owner, Department: id.Department}
		if id.Name != "" {
			i.NameSource = id.Source.String()
		}
	}
	if mac, ok := d.LinkAddr(); ok {
		i.MAC = string(appendColonMAC(nil, mac[:]))
		i.MAC = i.MAC[1 : len(i.MAC)-1] // without the JSON quotes
	}
	return i
}
