package output

import (
	"time"

	"github.com/egresswatch/egresswatch/geo"
	"github.com/egresswatch/egresswatch/rules"
	"github.com/egresswatch/egresswatch/track"
)

// DatasetAlert is the event.dataset of alerts.
const DatasetAlert = "egresswatch.alert"

// Evidence is how an alert's facts were established.
type Evidence struct {
	FirstSeen, LastSeen time.Time
	Suppressed          uint64 // alerts of the same key not emitted in the window
}

// Alert writes one alert: the rule, a human sentence, and the whole event
// context. f is the flow the alert is about; it is nil for a DNS-only
// alert (a device resolved a name, no connection yet), whose source comes
// from in.
func (w *Writer) Alert(m *rules.Match, in *rules.Input, f *track.FlowMeta, ev Evidence) {
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
		if in.HasMAC {
			b.key("mac")
			b.buf = appendMAC(b.buf, in.SrcMAC)
		}
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
		if len(in.VLANs) > 0 {
			b.open("network")
			b.open("vlan")
			b.uint("id", uint64(in.VLANs[0]))
			b.close()
			b.close()
		}
	}
	cloud(b, place)
	b.open("egresswatch")
	strArr(b, "group", m.Groups)
	svc := m.Service
	if svc == "" {
		svc = m.DstService
	}
	b.strOpt("service", svc)
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
	b.strOpt("name_source", in.NameSource)
	b.strOpt("placement_source", placementSource(place))
	b.time("first_seen", ev.FirstSeen)
	b.time("last_seen", ev.LastSeen)
	b.uint("suppressed_count", ev.Suppressed)
	b.close()
	b.close()
	w.emit()
}

// AlertSummary writes the closing record of a suppression window in which
// alerts were counted but not emitted.
func (w *Writer) AlertSummary(s rules.Summary, r *rules.Rule) {
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
	b.time("first_seen", s.First)
	b.time("last_seen", s.Last)
	b.uint("suppressed_count", s.Suppressed)
	if s.Evicted {
		b.bool("window_evicted", true)
	}
	b.close()
	b.close()
	w.emit()
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
