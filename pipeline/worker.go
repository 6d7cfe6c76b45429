package pipeline

import (
	"net/netip"

	"github.com/egresswatch/egresswatch/capture"
	"github.com/egresswatch/egresswatch/classify"
	"github.com/egresswatch/egresswatch/geo"
	"github.com/egresswatch/egresswatch/output"
	"github.com/egresswatch/egresswatch/rules"
	"github.com/egresswatch/egresswatch/track"
)

// Placer places destination addresses. *geo.Cache satisfies it.
type Placer interface {
	Lookup(a netip.Addr) geo.Placement
}

// flowInfo is what the pipeline keeps with each flow (track.Flow.User).
type flowInfo struct {
	place   geo.Placement
	placed  bool
	pending bool     // the flow's first judgement waits for a name
	alerts  []string // rule/service/name keys already alerted for this flow
}

func (fi *flowInfo) alerted(key string) bool {
	for _, k := range fi.alerts {
		if k == key {
			return true
		}
	}
	fi.alerts = append(fi.alerts, key)
	return false
}

// Worker runs the per-packet part of the pipeline. It owns its decoder,
// inspector and flow table; it is not safe for concurrent use.
type Worker struct {
	dec    *classify.Decoder
	insp   *classify.Inspector
	flows  *track.Table
	names  *track.Names
	placer Placer
	events *output.Writer
	judge  *judge // nil without a policy

	pkt   classify.Packet
	stats WorkerStats
}

// WorkerStats counts what a worker did beyond its stages' own counters.
type WorkerStats struct {
	NamedBy [5]uint64 // flows named, by track.NameSource
}

func newWorker(cfg *Config, names *track.Names) *Worker {
	w := &Worker{
		dec:    classify.NewDecoder(classify.Options{}),
		insp:   classify.NewInspector(),
		names:  names,
		placer: cfg.Placer,
		events: cfg.events,
	}
	w.flows = track.NewTable(cfg.Flows, w.flowEnded)
	if cfg.Policy != nil {
		w.judge = newJudge(cfg.Policy, cfg.alerts, cfg.Report)
	}
	return w
}

// Handle runs one frame through the pipeline.
func (w *Worker) Handle(fr capture.Frame) {
	if w.dec.Decode(fr, &w.pkt) != classify.ResultL4 {
		return
	}
	p := &w.pkt
	f, fromInit, isNew := w.flows.Lookup(p)
	if isNew {
		if name, ok := w.names.Lookup(f.Key.Dst.Addr(), p.Time); ok {
			f.Name, f.NameSource = name, track.NameDNS
		}
		if w.judge != nil {
			// A flow is judged once it has a name, or once naming it is
			// hopeless: the ClientHello or Host usually comes a few
			// packets after the SYN, and an alert should carry it.
			if f.NameSource != track.NameNone {
				w.judge.flow(w, f, rules.KindFlowStart)
			} else {
				w.info(f).pending = true
			}
		}
	}
	if f.Stream.Done() {
		if w.judge != nil {
			w.settle(f)
		}
		return // the bulk path: a known flow with nothing left to learn
	}
	for _, o := range w.insp.Inspect(&f.Stream, p, fromInit) {
		w.observe(f, &o)
	}
	if w.judge != nil {
		w.settle(f)
	}
}

// judgeAfter is how many packets a flow may go unnamed before it is judged
// without a name.
const judgeAfter = 10

// settle judges a flow whose start was deferred, once nothing more will
// name it (its stream is done) or it has gone judgeAfter packets unnamed.
func (w *Worker) settle(f *track.Flow) {
	fi, _ := f.User.(*flowInfo)
	if fi == nil || !fi.pending {
		return
	}
	if f.Stream.Done() || f.Packets[0]+f.Packets[1] >= judgeAfter {
		fi.pending = false
		w.judge.flow(w, f, rules.KindFlowStart)
	}
}

func (w *Worker) observe(f *track.Flow, o *classify.Observation) {
	switch o.App {
	case classify.AppDNS:
		m := o.DNS
		if !m.Response && m.QName != "" && w.judge != nil {
			w.judge.dnsQuery(w, f, m.QName)
		}
		if m.Response && m.QName != "" {
			for i := range m.Answers {
				if a := &m.Answers[i]; a.Addr.IsValid() {
					w.names.Add(a.Addr, m.QName, a.TTL, o.Packet.Time)
				}
			}
		}
	case classify.AppTLS, classify.AppQUIC:
		if sni := o.Hello.ServerName; sni != "" && !o.Hello.ServerNameIsIP {
			src := track.NameSNI
			if o.App == classify.AppQUIC {
				src = track.NameQUIC
			}
			w.name(f, sni, src)
		}
	case classify.AppHTTP:
		if o.HTTP.Host != "" && f.NameSource < track.NameHTTP {
			w.name(f, o.HTTP.Host, track.NameHTTP)
		}
	}
	if w.events != nil {
		w.events.Observation(o, f, w.place(f))
	}
}

// name sets a flow's name; a stronger source replaces a weaker one. A new
// name is judged again.
func (w *Worker) name(f *track.Flow, name string, src track.NameSource) {
	if src < f.NameSource || (name == f.Name && src == f.NameSource) {
		return
	}
	f.Name, f.NameSource = name, src
	if w.judge != nil {
		kind := rules.KindFlowNamed
		if fi := w.info(f); fi.pending {
			fi.pending, kind = false, rules.KindFlowStart // the deferred first judgement, now with a name
		}
		w.judge.flow(w, f, kind)
	}
}

// info returns the pipeline's record of f, creating it on first use.
func (w *Worker) info(f *track.Flow) *flowInfo {
	fi, _ := f.User.(*flowInfo)
	if fi == nil {
		fi = &flowInfo{}
		f.User = fi
	}
	return fi
}

// place returns the placement of f's destination, looked up once per flow.
func (w *Worker) place(f *track.Flow) *geo.Placement {
	if w.placer == nil {
		return nil
	}
	fi := w.info(f)
	if !fi.placed {
		fi.place = w.placer.Lookup(f.Key.Dst.Addr())
		fi.placed = true
	}
	return &fi.place
}

func (w *Worker) flowEnded(f *track.Flow) {
	if f.NameSource != track.NameNone {
		w.stats.NamedBy[f.NameSource]++
	}
	if w.events != nil {
		w.events.Flow(f, w.place(f))
	}
	if w.judge != nil {
		if fi := w.info(f); fi.pending {
			fi.pending = false
			w.judge.flow(w, f, rules.KindFlowStart)
		}
		w.judge.flowEnded(w, f)
	}
}
