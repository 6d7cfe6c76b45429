package pipeline

import (
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/egresswatch/egresswatch/capture"
	"github.com/egresswatch/egresswatch/classify"
	"github.com/egresswatch/egresswatch/flow"
	"github.com/egresswatch/egresswatch/geo"
	"github.com/egresswatch/egresswatch/rules"
	"github.com/egresswatch/egresswatch/track"
)

// Placer places destination addresses. *geo.Cache satisfies it.
type Placer interface {
	Lookup(a netip.Addr) geo.Placement
}

// Worker runs the per-packet part of the pipeline: decode, flow table,
// placement of new flows, application-layer inspection and the names
// those show. It owns its state and is not safe for concurrent use. What
// it finds goes to the merger as messages, which the merger puts in frame
// order.
type Worker struct {
	dec    *classify.Decoder
	insp   *classify.Inspector
	flows  *track.Table
	placer Placer // nil: no placement
	events bool   // events are written: the merger needs every observation
	judged bool   // a policy is evaluated: tell the merger when flows settle
	// mayAlert, when evidence is recorded, picks the flows whose packets
	// go to the merger: those a rule could fire on.
	mayAlert    func(src netip.Addr, dev *flow.Device, dst netip.Addr) bool
	evidenceMax uint64 // packets of a flow recorded at most

	pkt classify.Packet
	n   uint64 // global number of the frame being handled
	sub uint32
	out *outbox // this batch's messages
}

func newWorker(cfg *Config, placer Placer, maxFlows int) *Worker {
	w := &Worker{
		dec:    classify.NewDecoder(classify.Options{}),
		insp:   classify.NewInspector(),
		placer: placer,
		events: cfg.Events != nil,
		judged: cfg.Policy != nil,
		out:    &outbox{},
	}
	opts := cfg.Flows
	opts.MaxFlows = maxFlows
	opts.Manual = true
	w.flows = track.NewTable(opts, w.flowEnded)
	return w
}

// Handle runs one frame, the n-th of the run, through the worker.
func (w *Worker) Handle(fr capture.Frame, n uint64) {
	w.n, w.sub = n, 0
	// Decode.
	if w.dec.Decode(fr, &w.pkt) != classify.ResultL4 {
		return
	}
	// Flow: a new one is numbered by its first frame and placed.
	f, fromInit, isNew := w.flows.Lookup(&w.pkt)
	if isNew {
		f.ID = n
		f.Record = w.mayAlert != nil && w.mayAlert(f.Key.Src.Addr(), &f.Device, f.Key.Dst.Addr())
		w.send(message{step: stepStart, meta: f.FlowMeta, place: w.place(f.Key.Dst.Addr())})
	}
	// Inspect, and name the flow from what it shows. A known flow with
	// nothing left to learn (the bulk of the packets) skips this.
	if !f.Stream.Done() {
		obs := w.insp.Inspect(&f.Stream, &w.pkt, fromInit)
		for i := range obs {
			renamed := f.Learn(&obs[i])
			w.observed(f, &obs[i], renamed)
		}
	}
	// Judge: the merger judges an unnamed flow once it has settled.
	if w.judged && f.Settle(rules.SettleAfter) {
		w.send(message{step: stepSettle, meta: f.FlowMeta})
	}
	// Evidence: the packets of a flow that may alert, after what they
	// showed has been judged.
	if f.Record && f.Packets[0]+f.Packets[1] <= w.evidenceMax {
		w.send(message{step: stepPacket, meta: track.FlowMeta{ID: f.ID, Key: f.Key, First: f.First}, frame: fr})
	}
}

// place returns the placement of a new flow's destination, kept in the
// batch's outbox; nil when the run places nothing.
func (w *Worker) place(dst netip.Addr) *geo.Placement {
	if w.placer == nil {
		return nil
	}
	w.out.places = append(w.out.places, w.placer.Lookup(dst))
	return &w.out.places[len(w.out.places)-1]
}

// observed hands an observation to the merger when it has something to
// do with it: an event to write, a DNS message (passive DNS, a device's
// question), or a new name for the flow.
func (w *Worker) observed(f *track.Flow, o *classify.Observation, renamed bool) {
	keep := w.events || (o.App == classify.AppDNS && o.DNS.QName != "") || o.App >= classify.AppDHCP // device messages feed the binding table
	if !keep && !renamed {
		return
	}
	msg := message{step: stepObserve, meta: f.FlowMeta, renamed: renamed}
	if keep {
		msg.obs = w.out.keep.Observation(o)
	}
	w.send(msg)
}

// flowEnded is the flow table's end callback.
func (w *Worker) flowEnded(f *track.Flow) {
	w.send(message{step: stepEnd, meta: f.FlowMeta})
}

// send queues a message for the merger, ordered after everything this
// worker sent for the same frame.
func (w *Worker) send(m message) {
	m.at = order{n: w.n, sub: w.sub}
	w.sub++
	w.out.msgs = append(w.out.msgs, m)
}

// advance ends the flows idle at the batch's last packet time; their end
// messages sort after the batch's frames, by the flow's first frame.
func (w *Worker) advance(t time.Time, boundary uint64) {
	w.n, w.sub = boundary, 0
	start := len(w.out.msgs)
	w.flows.Advance(t)
	w.orderEnds(start)
}

// flush ends every flow (the end of the run).
func (w *Worker) flush(boundary uint64) {
	w.n, w.sub = boundary, 0
	start := len(w.out.msgs)
	w.out.msgs = slices.Grow(w.out.msgs, w.flows.Len()) // one end message a flow, without regrowing
	w.flows.Flush()
	w.orderEnds(start)
}

// orderEnds keys the end messages from start on by their flow's first
// frame.
func (w *Worker) orderEnds(start int) {
	for i := start; i < len(w.out.msgs); i++ {
		m := &w.out.msgs[i]
		m.at = order{n: m.at.n, boundary: true, firstN: m.meta.ID}
	}
}

// lockedPlacer shares one Placer between workers behind a mutex; give
// Config.NewPlacer to avoid it.
func lockedPlacer(p Placer) Placer {
	if p == nil {
		return nil
	}
	return &mutexPlacer{p: p}
}

type mutexPlacer struct {
	mu sync.Mutex
	p  Placer
}

func (m *mutexPlacer) Lookup(a netip.Addr) geo.Placement {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.p.Lookup(a)
}
