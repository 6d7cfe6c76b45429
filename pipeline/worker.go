package pipeline

import (
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/egresswatch/egresswatch/capture"
	"github.com/egresswatch/egresswatch/classify"
	"github.com/egresswatch/egresswatch/geo"
	"github.com/egresswatch/egresswatch/output"
	"github.com/egresswatch/egresswatch/track"
)

// Placer places destination addresses. *geo.Cache satisfies it.
type Placer interface {
	Lookup(a netip.Addr) geo.Placement
}

// flowState is what the pipeline keeps with each flow (track.Flow.User).
// The worker that owns the flow creates it and writes place before it
// hands the flow's first record to the merger; after that the worker
// touches only the w* fields and the merger only the others.
type flowState struct {
	place  geo.Placement
	placed bool
	firstN uint64 // global frame number of the flow's first packet

	pending   bool               // merger: the first judgement waits for a name
	echHidden bool               // merger: a hello's ECH is real; the true name is hidden
	blind     classify.BlindSpot // merger: DoH, found by policy
	dnsName   string             // merger: name from the passive DNS cache at flow start
	alerts    []string           // merger: rule/service/name keys already alerted
}

func (fs *flowState) alerted(key string) bool {
	for _, k := range fs.alerts {
		if k == key {
			return true
		}
	}
	fs.alerts = append(fs.alerts, key)
	return false
}

// judgeAfter is how many packets a flow may go unnamed before it is
// judged without a name.
const judgeAfter = 10

// Worker runs the per-packet part of the pipeline: decode, flow table,
// application-layer inspection, and the encoding of observation events.
// It owns its state and is not safe for concurrent use. What it finds goes
// out as records, which the merger puts in frame order.
type Worker struct {
	dec    *classify.Decoder
	insp   *classify.Inspector
	flows  *track.Table
	placer Placer
	enc    *output.Encoder // nil: no events
	judged bool            // a policy is evaluated: send settle records

	pkt   classify.Packet
	n     uint64 // global number of the frame being handled
	sub   uint32
	recs  []record
	arena []byte // event lines of the current batch
}

func newWorker(cfg *Config, placer Placer) *Worker {
	w := &Worker{
		dec:    classify.NewDecoder(classify.Options{}),
		insp:   classify.NewInspector(),
		placer: placer,
		judged: cfg.Policy != nil,
	}
	if cfg.Events != nil {
		w.enc = &output.Encoder{}
	}
	opts := cfg.Flows
	opts.Manual = true
	w.flows = track.NewTable(opts, w.flowEnded)
	return w
}

// Handle runs one frame, the n-th of the run, through the worker.
func (w *Worker) Handle(fr capture.Frame, n uint64) {
	w.n, w.sub = n, 0
	if w.dec.Decode(fr, &w.pkt) != classify.ResultL4 {
		return
	}
	p := &w.pkt
	f, fromInit, isNew := w.flows.Lookup(p)
	if isNew {
		fs := &flowState{firstN: n}
		if w.placer != nil {
			fs.place, fs.placed = w.placer.Lookup(f.Key.Dst.Addr()), true
		}
		f.User = fs
		w.emit(record{kind: recFlowStart, fs: fs, meta: f.FlowMeta})
	}
	if f.Stream.Done() {
		if w.judged {
			w.settle(f)
		}
		return // the bulk path: a known flow with nothing left to learn
	}
	for _, o := range w.insp.Inspect(&f.Stream, p, fromInit) {
		w.observe(f, &o)
	}
	if w.judged {
		w.settle(f)
	}
}

// settle tells the merger, once, that nothing more will name this flow
// (its stream is done) or that it has gone judgeAfter packets unnamed.
func (w *Worker) settle(f *track.Flow) {
	if f.Mark&markSettled != 0 {
		return
	}
	if f.Stream.Done() || f.Packets[0]+f.Packets[1] >= judgeAfter {
		f.Mark |= markSettled
		w.emit(record{kind: recFlowSettle, fs: f.User.(*flowState), meta: f.FlowMeta})
	}
}

// markSettled is the track.Flow.Mark bit of a flow whose settle record
// is sent.
const markSettled = 1

func (w *Worker) observe(f *track.Flow, o *classify.Observation) {
	fs := f.User.(*flowState)
	switch o.App {
	case classify.AppTLS, classify.AppQUIC:
		// Set before naming, so that the merger sees them with the name:
		// whether the hello is real ECH, and DoH, only the merger can tell.
		if o.Hello.ECH && !o.Hello.ECHInner {
			f.ECH = true
		}
		if b := o.EncryptedDNS(); b != classify.BlindNone {
			f.BlindSpot = b
		}
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
	if w.enc != nil {
		var place *geo.Placement
		if fs.placed {
			place = &fs.place
		}
		if line := w.enc.Observation(o, &f.FlowMeta, place); line != nil {
			start := len(w.arena)
			w.arena = append(w.arena, line...)
			r := record{kind: recEvent, lineAt: start, lineLen: len(line)}
			if o.App == classify.AppTLS || o.App == classify.AppQUIC {
				r.hello, r.fs, r.meta = true, fs, f.FlowMeta
				r.notesAt, r.notesEnd = w.enc.NotesSpan()
			}
			w.emit(r)
		}
	}
	if o.App == classify.AppDNS && o.DNS.QName != "" {
		m := o.DNS
		r := record{kind: recDNS, fs: fs, dns: &dnsFacts{
			response: m.Response,
			qname:    m.QName,
			time:     o.Packet.Time,
			src:      o.Packet.Key.Src.Addr(),
			mac:      o.Packet.SrcMAC,
			hasMAC:   o.Packet.HasMAC,
			vlan:     o.Packet.VLAN,
			nvlan:    o.Packet.NVLAN,
		}}
		if m.Response {
			if len(m.ECHPublicNames) > 0 {
				r.dns.echNames = append([]string(nil), m.ECHPublicNames...)
			}
			for i := range m.Answers {
				if a := &m.Answers[i]; a.Addr.IsValid() {
					r.dns.addrs = append(r.dns.addrs, addrTTL{a.Addr, a.TTL})
				}
			}
		}
		w.emit(r)
	}
}

// name sets a flow's name; a stronger source replaces a weaker one.
func (w *Worker) name(f *track.Flow, name string, src track.NameSource) {
	if src < f.NameSource || (name == f.Name && src == f.NameSource) {
		return
	}
	f.Name, f.NameSource = name, src
	w.emit(record{kind: recFlowNamed, fs: f.User.(*flowState), meta: f.FlowMeta})
}

// flowEnded is the flow table's end callback.
func (w *Worker) flowEnded(f *track.Flow) {
	fs := f.User.(*flowState)
	w.emit(record{kind: recFlowEnd, fs: fs, meta: f.FlowMeta})
}

// emit queues a record for the merger, ordered after everything this
// worker produced for the same frame.
func (w *Worker) emit(r record) {
	r.n, r.sub = w.n, w.sub
	w.sub++
	w.recs = append(w.recs, r)
}

// advance ends the flows idle at the batch's last packet time; their end
// records sort after the batch's frames, by the flow's first frame.
func (w *Worker) advance(t time.Time, boundary uint64) {
	w.n, w.sub = boundary, 0
	start := len(w.recs)
	w.flows.Advance(t)
	w.orderEnds(start)
}

// flush ends every flow (the end of the run).
func (w *Worker) flush(boundary uint64) {
	w.n, w.sub = boundary, 0
	start := len(w.recs)
	w.recs = slices.Grow(w.recs, w.flows.Len()) // one end record a flow, without regrowing
	w.flows.Flush()
	w.orderEnds(start)
}

// orderEnds keys the end records from start on by their flow's first
// frame, so that their order does not depend on which worker held which
// flow.
func (w *Worker) orderEnds(start int) {
	for i := start; i < len(w.recs); i++ {
		w.recs[i].boundary = true
		w.recs[i].sub = 0
		w.recs[i].firstN = w.recs[i].fs.firstN
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
