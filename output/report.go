package output

import (
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
	})
}

// Alert adds an emitted alert, or the repeats a suppression summary
// counted.
func (r *Report) Alert(a *rules.Alert) {
	row := report.Alert{Groups: a.Match.Groups, Service: a.Service(), Country: a.Match.Country}
	if s := a.Summary; s != nil {
		row.Rule, row.Device, row.Time, row.Count = s.Key.Rule, s.Key.Device, s.Last, s.Suppressed
		row.Repeats = true
	} else {
		row.Rule, row.Device, row.Time, row.Count = a.Match.Rule.ID, a.Input.Src, a.Input.Time, 1
		row.Dst, row.Name, row.DNSOnly = a.Input.Dst, a.Input.Name, a.Match.DNSOnly
	}
	r.b.AddAlert(row)
}
