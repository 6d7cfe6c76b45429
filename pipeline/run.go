package pipeline

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/egresswatch/egresswatch/capture"
	"github.com/egresswatch/egresswatch/classify"
	"github.com/egresswatch/egresswatch/evidence"
	"github.com/egresswatch/egresswatch/flow"
	"github.com/egresswatch/egresswatch/internal/prefetch"
	"github.com/egresswatch/egresswatch/output"
	"github.com/egresswatch/egresswatch/report"
	"github.com/egresswatch/egresswatch/rules"
	"github.com/egresswatch/egresswatch/track"
)

// Config is what a run needs. The zero value runs with defaults and writes
// nothing.
type Config struct {
	// Events receives one ECS JSON line per observation and per flow; nil
	// writes none.
	Events io.Writer
	// Placer places destinations; nil leaves events without placement.
	// With several workers, NewPlacer makes one per worker (a per-worker
	// cache); Placer is then ignored.
	Placer    Placer
	NewPlacer func() Placer
	Flows     track.TableOptions
	Names     track.NamesOptions

	// Policy is evaluated on every flow, name and DNS question; nil
	// evaluates nothing. Alerts receives them as ECS JSON lines (nil
	// counts them only); Report, when set, is fed every egress flow and
	// alert.
	Policy *rules.Policy
	Alerts io.Writer
	Report *report.Builder
	// PlacementData names the placement data the run lacks, written on
	// every alert (output.Writer.PlacementData); "" when it has all.
	PlacementData string

	// Inventory is the asset inventory devices are named from, besides
	// what DHCP, NBNS, LLMNR and mDNS tell; nil: none. SetInventory
	// replaces it while the engine runs.
	Inventory *track.Inventory
	// PlacementTime, when set, is when the placement data in force was
	// made (output.Writer.PlacementTime).
	PlacementTime func() time.Time

	// Observer, when set, is written into every event and alert
	// (observer.*): the sensor that saw them.
	Observer *output.Observer

	// Workers is the number of flow-sharded workers (default: the number
	// of CPUs). Packets are sharded by a symmetric hash of the host pair,
	// and the output is put back in frame order, so it is the same for
	// any number of workers.
	Workers int
	// BatchFrames is how many frames the reader hands out at a time
	// (default 4096); flows expire at batch boundaries.
	BatchFrames int

	// Memory is the budget every table is sized from (default 512 MiB):
	// flow tables 20 %, reassembly buffers 20 %, IP fragments 5 %,
	// passive DNS 8 %, open suppression windows 6 %; the rest (about 210
	// MiB of the default) is left for batches, placement data (mapped
	// from the cache; some 30 MiB resident) and the runtime. Caps set
	// explicitly in Flows and Names win. Each table evicts its oldest
	// entries at its cap and counts them.
	Memory int64

	// FlushBatches writes events and alerts through after every batch
	// instead of when the output buffer fills: for live capture, where a
	// SIEM tails the files (batches are cut on a quiet link).
	FlushBatches bool

	// Evidence, when set, records the packets of every alerted flow
	// (needs a Policy): the flows a rule could fire on send their first
	// EvidencePackets packets (default 1000) to it. Run closes it.
	Evidence        *evidence.Recorder
	EvidencePackets int
}

// DefaultMemory is the default Config.Memory.
const DefaultMemory = 512 << 20

// Approximate bytes each entry costs, measured with the flood benchmarks
// (bench/): a flow with its records and map entry, a passive DNS entry.
const (
	bytesPerFlow    = 1536
	bytesPerName    = 192
	bytesPerFragDgm = 64 << 10
	// An open suppression window: its map entry and the window record
	// (about 8 MiB for the 28 000 windows a 10 M packet benchmark holds;
	// the default budget's 6 % holds 100 000, the busiest ten minutes of
	// the 20 M packet benchmark).
	bytesPerSuppressKey = 320
	// A device binding: an address's record, its identity and map entries.
	bytesPerBinding = 320
)

// sizes are the table caps a memory budget gives.
type sizes struct {
	flowsPerWorker int   // flow table entries
	reasmPerWorker int64 // reassembly buffer bytes
	fragsPerWorker int   // IP datagrams in reassembly
	names          int   // passive DNS entries
	suppressKeys   int   // open suppression windows
	bindings       int   // device bindings (addresses and DHCP clients)
}

// budget sizes the tables from cfg.Memory (DefaultMemory when unset) for
// n workers; caps set explicitly in cfg.Flows and cfg.Names win.
func (cfg *Config) budget(n int) sizes {
	m := cfg.Memory
	if m <= 0 {
		m = DefaultMemory
	}
	s := sizes{
		flowsPerWorker: cfg.Flows.MaxFlows,
		names:          cfg.Names.MaxEntries,
		suppressKeys:   int(m * 6 / 100 / bytesPerSuppressKey),
		reasmPerWorker: m * 20 / 100 / int64(n),
		fragsPerWorker: max(16, int(m*5/100/bytesPerFragDgm)/n),
		bindings:       max(64, int(m*2/100/bytesPerBinding)),
	}
	if s.flowsPerWorker <= 0 {
		s.flowsPerWorker = int(m * 20 / 100 / bytesPerFlow)
	}
	s.flowsPerWorker = max(1, s.flowsPerWorker/n)
	if s.names <= 0 {
		s.names = int(m * 8 / 100 / bytesPerName)
	}
	return s
}

// Summary is what a run saw, for the end-of-run report on stderr.
type Summary struct {
	Decode   classify.DecodeStats
	Inspect  classify.InspectStats
	Flows    track.TableStats
	Names    track.NameStats
	NamedBy  map[string]uint64 // flows named, by name source
	Events   uint64
	Judge    rules.JudgeStats
	Evidence evidence.Stats
	Devices  track.BindingStats
	Workers  int
}

// Engine runs the pipeline. Its policy can be replaced while it runs.
type Engine struct {
	mu       sync.Mutex
	snapshot Summary // published by the merger after every batch

	cfg     Config
	workers []*Worker
	wstats  []workerStats // merger: each worker's counters as of the last batch
	names   *track.Names
	merger  merger
	events  *output.Writer
	alerts  *output.Writer
}

// New returns an Engine for cfg.
func New(cfg Config) *Engine {
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.NumCPU()
	}
	if cfg.BatchFrames <= 0 {
		cfg.BatchFrames = 4096
	}
	size := cfg.budget(cfg.Workers)
	e := &Engine{cfg: cfg, wstats: make([]workerStats, cfg.Workers)}
	if cfg.Events != nil {
		e.events = output.NewWriter(cfg.Events)
		e.events.SetObserver(cfg.Observer)
	}
	names := cfg.Names
	names.MaxEntries = size.names
	e.names = track.NewNames(names)
	e.merger = merger{events: e.events, flows: map[uint64]*flowState{},
		devices: track.NewBindings(track.BindingOptions{MaxEntries: size.bindings})}
	e.merger.devices.SetInventory(cfg.Inventory)
	var encryptedDNS func(string, netip.Addr, uint32) bool
	if cfg.Policy != nil {
		if cfg.Alerts != nil {
			e.alerts = output.NewWriter(cfg.Alerts)
			e.alerts.PlacementData = cfg.PlacementData
			e.alerts.PlacementTime = cfg.PlacementTime
			e.alerts.SetObserver(cfg.Observer)
		}
		e.merger.judge = rules.NewJudge(cfg.Policy, size.suppressKeys)
		e.merger.alerts = e.alerts
		if cfg.Report != nil {
			e.merger.report = output.NewReport(cfg.Report)
		}
		encryptedDNS = e.merger.judge.IsEncryptedDNS
	}
	e.merger.namer = track.NewNamer(e.names, encryptedDNS)
	var mayAlert func(netip.Addr, *flow.Device, netip.Addr) bool
	if cfg.Evidence != nil && e.merger.judge != nil {
		e.merger.evidence = cfg.Evidence
		judge := e.merger.judge
		mayAlert = func(src netip.Addr, dev *flow.Device, dst netip.Addr) bool {
			return judge.Policy().MayAlert(src, dev, dst)
		}
		if cfg.EvidencePackets <= 0 {
			cfg.EvidencePackets = 1000
		}
	}
	for i := 0; i < cfg.Workers; i++ {
		placer := cfg.Placer
		if cfg.NewPlacer != nil {
			placer = cfg.NewPlacer()
		} else if cfg.Workers > 1 {
			placer = lockedPlacer(cfg.Placer)
		}
		w := newWorker(&cfg, placer, size.flowsPerWorker)
		w.mayAlert, w.evidenceMax = mayAlert, uint64(cfg.EvidencePackets)
		w.insp.Budget = size.reasmPerWorker
		w.dec.SetMaxFragDatagrams(size.fragsPerWorker)
		e.workers = append(e.workers, w)
	}
	return e
}

// SetPolicy replaces the policy for everything evaluated from now on. A
// run that started without a policy keeps running without one. It is
// safe to call while Run runs.
func (e *Engine) SetPolicy(p *rules.Policy) {
	if p != nil && e.merger.judge != nil {
		e.merger.judge.SetPolicy(p)
	}
}

// SetInventory replaces the asset inventory (nil: none) for the flows
// that start from now on. It is safe to call while Run runs.
func (e *Engine) SetInventory(inv *track.Inventory) { e.merger.devices.SetInventory(inv) }

// Run reads src to the end (or until ctx is done) and returns what it
// saw: New(cfg).Run(ctx, src).
func Run(ctx context.Context, src capture.Source, cfg Config) (Summary, error) {
	return New(cfg).Run(ctx, src)
}

// batchBytes is the most frame data a batch gathers.
const batchBytes = 4 << 20

// batch is a run of frames handed to every worker at once; each worker
// takes the frames of its shard and leaves its records in the batch.
type batch struct {
	frames []capture.Frame
	data   []byte // the frames' bytes: the source's buffers are reused
	shard  []uint16
	clock  []time.Time // per frame: the latest packet time so far
	last   time.Time
	first  uint64 // global number of frames[0]
	final  bool   // flush every flow after the frames
	out    []outbox
	wg     sync.WaitGroup
}

type workerStats struct {
	dec   classify.DecodeStats
	insp  classify.InspectStats
	flows track.TableStats
}

// Run reads src to the end (or until ctx is done) and returns what it
// saw. A *capture.FormatError ends the current file, not the run: the
// caller's Source (capture.Multi) records it and goes on; Run returns only
// errors that stop everything.
func (e *Engine) Run(ctx context.Context, src capture.Source) (Summary, error) {
	nw := len(e.workers)
	pool := make(chan *batch, 4)
	for i := 0; i < cap(pool); i++ {
		pool <- &batch{
			out:    make([]outbox, nw),
			frames: make([]capture.Frame, 0, e.cfg.BatchFrames),
			clock:  make([]time.Time, 0, e.cfg.BatchFrames),
			// A batch ends at batchBytes; one more frame of at most the
			// reader's packet limit still fits without growing.
			data: make([]byte, 0, batchBytes+capture.DefaultMaxPacket),
		}
	}
	toWorker := make([]chan *batch, nw)
	for i := range toWorker {
		toWorker[i] = make(chan *batch, cap(pool))
	}
	toMerger := make(chan *batch, cap(pool))

	var wg sync.WaitGroup
	for i, w := range e.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range toWorker[i] {
				e.work(w, uint16(i), b)
			}
		}()
	}
	mergeDone := make(chan struct{})
	go func() {
		defer close(mergeDone)
		var msgs []*message
		for b := range toMerger {
			b.wg.Wait()
			msgs = msgs[:0]
			for i := range b.out {
				for k := range b.out[i].msgs {
					msgs = append(msgs, &b.out[i].msgs[k])
				}
			}
			slices.SortFunc(msgs, func(x, y *message) int { return x.at.compare(&y.at) })
			for _, msg := range msgs {
				e.merger.handle(msg)
			}
			for i := range b.out {
				e.wstats[i] = b.out[i].stats
			}
			if b.final {
				e.merger.flush()
			}
			e.publish()
			if e.cfg.FlushBatches {
				e.flushOutputs()
			}
			if b.final {
				continue
			}
			pool <- b
		}
	}()

	err := e.read(ctx, src, pool, toWorker, toMerger)
	for _, c := range toWorker {
		close(c)
	}
	close(toMerger)
	wg.Wait()
	<-mergeDone
	return e.summary(err)
}

// read fills batches from src and hands them out, then a final one.
func (e *Engine) read(ctx context.Context, src capture.Source, pool chan *batch, toWorker []chan *batch, toMerger chan *batch) error {
	var n uint64 // frames handed out so far
	var err error
	var last time.Time
	nw := len(e.workers)
	for done := false; !done; {
		b := <-pool
		b.frames, b.data, b.shard, b.clock, b.final, b.first = b.frames[:0], b.data[:0], b.shard[:0], b.clock[:0], false, n+1
		for len(b.frames) < e.cfg.BatchFrames && len(b.data) < batchBytes {
			if len(b.frames)&255 == 0 && ctx.Err() != nil {
				err, done = ctx.Err(), true
				break
			}
			fr, rerr := src.Next()
			if errors.Is(rerr, capture.ErrTimeout) {
				if len(b.frames) > 0 {
					break // a quiet link: hand out what there is
				}
				continue
			}
			if rerr != nil {
				if !errors.Is(rerr, io.EOF) {
					err = rerr
				}
				done = true
				break
			}
			if !fr.Time.IsZero() && fr.Time.After(last) {
				last = fr.Time
			}
			b.frames = append(b.frames, fr)
			b.clock = append(b.clock, last)
			b.data = append(b.data, fr.Data...)
			if nw > 1 {
				b.shard = append(b.shard, uint16(classify.ShardHash(fr.Data, fr.LinkType)%uint64(nw)))
			}
		}
		// The frames borrow from b.data, which may have moved while it grew.
		off := 0
		for i := range b.frames {
			l := len(b.frames[i].Data)
			b.frames[i].Data = b.data[off : off+l : off+l]
			off += l
		}
		n += uint64(len(b.frames))
		b.last = last
		b.final = done
		e.dispatch(b, toWorker, toMerger)
	}
	return err
}

func (e *Engine) dispatch(b *batch, toWorker []chan *batch, toMerger chan *batch) {
	b.wg.Add(len(toWorker))
	for _, c := range toWorker {
		c <- b
	}
	toMerger <- b
}

// work runs one worker's share of a batch.
func (e *Engine) work(w *Worker, id uint16, b *batch) {
	defer b.wg.Done()
	w.out = &b.out[id]
	w.out.reset()
	w.handleFrames(b, id)
	boundary := b.first + uint64(len(b.frames))
	if !b.last.IsZero() {
		w.advance(b.last, boundary)
	}
	if b.final {
		w.flush(boundary)
	}
	w.out.stats = workerStats{w.dec.Stats, w.insp.Stats, w.flows.Stats}
}

// handleFrames runs the frames of shard id in b through w. The reader
// wrote them moments ago on another core: the first bytes of the frame a
// few places ahead are prefetched, so that fetching them overlaps the
// work on this one.
func (w *Worker) handleFrames(b *batch, id uint16) {
	const ahead = 4
	for i := range b.frames {
		if j := i + ahead; j < len(b.frames) && len(b.frames[j].Data) > 0 {
			d := b.frames[j].Data
			prefetch.Line(&d[0])
			prefetch.Line(&d[min(len(d)-1, 64)]) // headers often straddle two lines
		}
		if len(b.shard) > 0 && b.shard[i] != id {
			continue
		}
		w.pkt.Clock = b.clock[i]
		w.Handle(b.frames[i], b.first+uint64(i))
	}
}

// Snapshot returns the counters as of the last batch the merger finished.
// It is safe to call while Run runs (for metrics and the periodic summary).
func (e *Engine) Snapshot() Summary {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.snapshot
	s.NamedBy = maps.Clone(s.NamedBy)
	s.Judge.ByRule = maps.Clone(s.Judge.ByRule)
	return s
}

// publish copies the counters for Snapshot. It runs in the merger after a
// batch; the workers' counters are the copies they left in that batch.
func (e *Engine) publish() {
	s := e.collect()
	e.mu.Lock()
	e.snapshot = s
	e.mu.Unlock()
}

func (e *Engine) collect() Summary {
	s := Summary{NamedBy: map[string]uint64{}, Workers: len(e.workers), Names: e.names.Stats()}
	for i := range e.wstats {
		w := &e.wstats[i]
		s.add(&Summary{Decode: w.dec, Inspect: w.insp, Flows: w.flows}) // counters.go
	}
	for i, n := range e.merger.namedBy {
		if n > 0 {
			s.NamedBy[flow.NameSource(i).String()] = n
		}
	}
	if j := e.merger.judge; j != nil {
		s.Judge = j.Stats()
	}
	if ev := e.merger.evidence; ev != nil {
		s.Evidence = ev.Stats()
	}
	s.Devices = e.merger.devices.Stats
	if e.events != nil {
		s.Events = e.events.Count()
	}
	return s
}

// flushOutputs writes buffered events and alerts through; a write error
// stays in the writer and is returned by Run.
func (e *Engine) flushOutputs() {
	if e.alerts != nil {
		e.alerts.Flush()
	}
	if e.events != nil {
		e.events.Flush()
	}
}

func (e *Engine) summary(err error) (Summary, error) {
	if ev := e.merger.evidence; ev != nil {
		if cerr := ev.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	s := e.collect()
	if e.alerts != nil {
		if ferr := e.alerts.Flush(); ferr != nil && err == nil {
			err = ferr
		}
	}
	if e.events != nil {
		if ferr := e.events.Flush(); ferr != nil && err == nil {
			err = ferr
		}
	}
	return s, err
}
