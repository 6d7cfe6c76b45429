package output

import (
	"time"

	"github.com/egresswatch/egresswatch/geo"
	"github.com/egresswatch/egresswatch/rules"
	"github.com/egresswatch/egresswatch/track"
)

// DatasetAlert is the event.dataset of alerts.
const DatasetAlert = "egresswatch.alert"

// Alert writes one alert: the rule, a human sentence, and the whole event
// context; or, for a summary (a.Summary set), the close of a suppression
// window. f is the flow the alert is about; it is nil for a DNS-only alert
// (a device resolved a name, no connection yet), whose source comes from
// a.Input. evidence names the flow's evidence capture ("" when none).
func (w *Writer) Alert(a *rules.Alert, f *track.FlowMeta, evidence string) {
	if a.Summary != nil {
		w.alertSummary(a.Summary, a.Match.Rule)
		return
	}
	m, in := &a.Match, &a.Input
	b := &w.b
	b.begin()
	b.time("@timestamp", in.Time)
	b.open("event")
	b.str("kind", "alert")
	b.str("dataset", DatasetAlert)
	b.uint("severity", uint64(m.Severity.ECS()))
	b.str("action", in.Kind.String())
	b.close()
	b.open("log")
	b.str("level", m.Severity.LogLevel())
	b.close()
	b.open("rule")
	b.str("id", m.Rule.ID)
	b.str("name", m.Rule.Name)
	b.str("ruleset", "egresswatch-policy")
	b.close()
	b.str("message", m.Message(in))
	place := &in.Place
	if f != nil {
		endpoints(b, f, place, false)
		network(b, f, "", false)
	} else {
		b.open("source")
		b.key("ip")
		b.buf = append(b.buf, '"')
		b.buf = in.Src.AppendTo(b.buf)
		b.buf = append(b.buf, '"')
		sourceMAC(b, &in.Device)
		deviceSource(b, &in.Device)
		b.close()
		b.open("destination")
		if in.Dst.IsValid() {
			b.key("ip")
			b.buf = append(b.buf, '"')
			b.buf = in.Dst.AppendTo(b.buf)
			b.buf = append(b.buf, '"')
			placeFields(b, place)
		}
		b.strOpt("domain", in.Name)
		b.close()
		if vlans := in.Device.VLANs(); len(vlans) > 0 {
			b.open("network")
			b.open("vlan")
			b.uint("id", uint64(vlans[0]))
			b.close()
			b.close()
		}
	}
	cloud(b, place)
	b.open("egresswatch")
	deviceObj(b, &in.Device)
	strArr(b, "group", m.Groups)
	b.strOpt("service", a.Service())
	strArr(b, "allowed", m.Allowed)
	b.strOpt("country", m.Country)
	if m.Indeterminate {
		b.bool("indeterminate", true)
	}
	if m.DNSOnly {
		b.bool("dns_only", true)
	}
	placementObj(b, place)
	b.open("evidence")
	b.strOpt("name_source", in.NameSource.String())
	b.strOpt("placement_source", placementSource(place))
	b.strOpt("placement_data", w.PlacementData)
	b.time("first_seen", a.FirstSeen)
	b.time("last_seen", in.Time)
	b.uint("suppressed_count", 0) // the first alert of its window; repeats go to the window's summary
	b.strOpt("pcap", evidence)
	if w.PlacementTime != nil {
		if t := w.PlacementTime(); !t.IsZero() {
			b.int("placement_data_age_sec", int64(in.Time.Sub(t)/time.Second))
		}
	}
	b.close()
	w.policy(b)
	b.close()
	observer(b, w.obs)
	w.emit()
}

// alertSummary writes the closing record of a suppression window in which
// alerts were counted but not emitted.
func (w *Writer) alertSummary(s *rules.Summary, r *rules.Rule) {
	b := &w.b
	b.begin()
	b.time("@timestamp", s.Last)
	b.open("event")
	b.str("kind", "alert")
	b.str("dataset", DatasetAlert)
	if r != nil {
		b.uint("severity", uint64(r.Severity.ECS()))
	}
	b.str("action", "suppressed-summary")
	b.close()
	b.open("rule")
	b.str("id", s.Key.Rule)
	if r != nil {
		b.str("name", r.Name)
	}
	b.close()
	msg := "Alerts repeated and were suppressed for rule " + s.Key.Rule + " from device " + s.Key.Device.String()
	if s.Key.Service != "" {
		msg += " to " + s.Key.Service
	}
	if s.Key.Country != "" {
		msg += " in " + s.Key.Country
	}
	b.str("message", msg+".")
	b.open("source")
	b.str("ip", s.Key.Device.String())
	b.close()
	b.open("egresswatch")
	b.strOpt("service", s.Key.Service)
	b.strOpt("country", s.Key.Country)
	b.open("evidence")
	b.strOpt("placement_data", w.PlacementData)
	b.time("first_seen", s.First)
	b.time("last_seen", s.Last)
	b.uint("suppressed_count", s.Suppressed)
	if s.Evicted {
		b.bool("window_evicted", true)
	}
	b.close()
	w.policy(b)
	b.close()
	observer(b, w.obs)
	w.emit()
}

// SetPolicyRevision sets egresswatch.policy.revision of the alerts
// written from now on: the revision of the policy that judged them ("":
// none written).
func (w *Writer) SetPolicyRevision(rev string) { w.policyRev = rev }

func (w *Writer) policy(b *builder) {
	if w.policyRev == "" {
		return
	}
	b.open("policy")
	b.str("revision", w.policyRev)
	b.close()
}

func placementSource(p *geo.Placement) string {
	if p.CountrySource != "" {
		return p.CountrySource
	}
	if p.Cloud.Source != "" {
		return p.Cloud.Source
	}
	return p.GeoIPSource
}

func strArr(b *builder, k string, v []string) {
	if len(v) == 0 {
		return
	}
	b.openArr(k)
	for _, s := range v {
		b.elemStr(s)
	}
	b.closeArr()
}
