package fleet

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/egresswatch/egresswatch/output"
	"github.com/egresswatch/egresswatch/report"
)

// CollectorOptions configure a Collector.
type CollectorOptions struct {
	Durable string // the durable consumer's name (default "egresswatch-collector")
	// Alerts and Events are the files the fleet's alerts and events are
	// appended to ("": not written). Each line gets event.id, the message
	// id, by which a restarted collector knows what it has written.
	Alerts, Events string
	Report         *report.Builder  // nil: no report
	Observer       *output.Observer // the collector, on its own alerts
	// Misses is how many heartbeats a sensor may miss before a
	// sensor-silent alert (default 3); Drops is the kernel drops between
	// two heartbeats that raise a sensor-drops alert (0: 1000).
	Misses int
	Drops  uint64
	Batch  int // messages awaiting acknowledgement: at most 4×Batch (default 2000)
	// BatchBytes bounds the bytes fetched at a time (default 8 MiB): a
	// message packs up to 256 KiB of records (less, compressed).
	BatchBytes int
	Logf       func(format string, args ...any)
	Now        func() time.Time // default time.Now
}

// Collector consumes the fleet's stream with a durable consumer and writes
// each message once: alerts and events as ECS JSON lines, residency into
// the report; heartbeats keep each sensor's state, and a sensor that goes
// silent or drops packets raises an alert of the collector's own. A batch
// is written through to the files before its messages are acknowledged, so
// a collector killed at any point redelivers only what it may have
// written, and those ids are skipped.
type Collector struct {
	opt  CollectorOptions
	js   jetstream.JetStream
	cons jetstream.Consumer

	alerts, events *appendFile
	raisedLog      *os.File           // the ids of the collector's own alerts (RaisedPath)
	seen           map[string]*seqSet // by sensor.run.kind

	mu      sync.Mutex // guards what metrics read
	sensors map[string]*sensorState
	msgs    [numKinds]uint64
	dups    uint64
	badEnc  uint64 // messages whose encoding is not known: skipped
	raised  uint64
	seqOwn  uint64 // the collector's own alerts
	ownRun  string
	idBuf   []byte
	zbuf    []byte // a compressed message, decoded
}

type sensorState struct {
	lastSeen  time.Time // stream time of its last message
	lastHB    time.Time
	lastHBID  string // the Nats-Msg-Id of that heartbeat
	interval  time.Duration
	lag       time.Duration // now - stream time of its last message, at receipt
	alerts    uint64
	events    uint64
	run       string
	drops     uint64 // kernel drops, as of the last heartbeat
	packets   uint64
	silent    bool
	policyRev string
}

// NewCollector opens the output files (reading back the message ids and
// the report they hold) and the durable consumer.
func NewCollector(ctx context.Context, nc *nats.Conn, opt CollectorOptions) (*Collector, error) {
	if opt.Durable == "" {
		opt.Durable = "egresswatch-collector"
	}
	if opt.Misses <= 0 {
		opt.Misses = 3
	}
	if opt.Drops == 0 {
		opt.Drops = 1000
	}
	if opt.Batch <= 0 {
		opt.Batch = 2000
	}
	if opt.BatchBytes <= 0 {
		opt.BatchBytes = 8 << 20
	}
	if opt.Logf == nil {
		opt.Logf = func(string, ...any) {}
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Observer == nil {
		opt.Observer = &output.Observer{Name: "collector", Type: "collector"}
	}
	c := &Collector{opt: opt, seen: map[string]*seqSet{}, sensors: map[string]*sensorState{}, ownRun: NewRunID()}
	var err error
	if c.alerts, err = c.open(opt.Alerts); err != nil {
		return nil, err
	}
	if c.events, err = c.open(opt.Events); err != nil {
		return nil, err
	}
	if opt.Alerts != "" {
		if c.raisedLog, err = c.openRaised(RaisedPath(opt.Alerts)); err != nil {
			return nil, err
		}
	}
	if c.js, err = jetstream.New(nc); err != nil {
		return nil, err
	}
	if _, err := EnsureStream(ctx, c.js); err != nil {
		return nil, err
	}
	c.seedSensors(ctx)
	c.cons, err = c.js.CreateOrUpdateConsumer(ctx, Stream, jetstream.ConsumerConfig{
		Durable: opt.Durable, // no filter: the stream holds only the fleet's subjects
		// Each message is acknowledged once its batch is in the files.
		// (AckAll would also cover messages a killed collector fetched
		// and never wrote.) Those come again after AckWait.
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       10 * time.Second,
		MaxAckPending: 4 * opt.Batch,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("consumer %s: %w", opt.Durable, err)
	}
	return c, nil
}

// Run consumes until ctx is done, then finishes the batch in hand,
// acknowledges it and returns nil.
func (c *Collector) Run(ctx context.Context) error {
	var msgs []jetstream.Msg
	for ctx.Err() == nil {
		batch, err := c.cons.FetchBytes(c.opt.BatchBytes, jetstream.FetchMaxWait(500*time.Millisecond))
		if err != nil {
			c.opt.Logf("collect: fetch: %v", err)
			sleep(ctx, time.Second)
			continue
		}
		msgs = msgs[:0]
		size := 0
		for m := range batch.Messages() {
			c.handle(m)
			msgs = append(msgs, m)
			size += len(m.Data())
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, jetstream.ErrNoMessages) {
			c.opt.Logf("collect: fetch: %v", err)
		}
		if size < c.opt.BatchBytes/2 { // caught up: a missing heartbeat is news now
			c.checkSensors()
		}
		if err := c.flush(); err != nil {
			return err
		}
		for _, m := range msgs {
			if err := m.Ack(); err != nil {
				c.opt.Logf("collect: ack: %v (the message comes again and is skipped)", err)
				break
			}
		}
	}
	return c.flush()
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// handle writes one message where it goes, once.
func (c *Collector) handle(m jetstream.Msg) {
	sensor, kind, ok := ParseSubject(m.Subject())
	if !ok {
		return
	}
	var stored time.Time
	if md, err := m.Metadata(); err == nil {
		stored = md.Timestamp
	}
	now := c.opt.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.sensor(sensor)
	if stored.After(st.lastSeen) {
		st.lastSeen = stored
	}
	if !stored.IsZero() {
		st.lag = now.Sub(stored)
	}
	hdr := m.Headers()
	if kind == KindHealth {
		c.msgs[kind]++
		c.health(st, sensor, m.Data(), hdr.Get(jetstream.MsgIDHeader), stored)
		return
	}
	id := hdr.Get(jetstream.MsgIDHeader)
	data := m.Data()
	switch enc := hdr.Get(ContentEncoding); enc {
	case "":
	case EncodingS2:
		if n, err := s2.DecodedLen(data); err == nil && n > maxDecoded {
			c.undecodable(sensor, id, fmt.Errorf("decodes to %d bytes, over the %d a pack may hold", n, maxDecoded))
			return
		}
		var err error
		if c.zbuf, err = s2.Decode(c.zbuf[:cap(c.zbuf)], data); err != nil {
			c.undecodable(sensor, id, err)
			return
		}
		data = c.zbuf
	default:
		c.undecodable(sensor, id, fmt.Errorf("unknown %s %q", ContentEncoding, enc))
		return
	}
	stream, seq, n, ok := ParsePackID(id)
	if !ok || n == 1 {
		c.record(st, sensor, kind, data, id, stream, seq, ok)
		return
	}
	// A pack: n lines, the i-th with the id stream.(seq+i).
	for i := uint64(0); len(data) > 0; i++ {
		line := data
		if j := bytes.IndexByte(data, '\n'); j >= 0 {
			line, data = data[:j], data[j+1:]
		} else {
			data = nil
		}
		c.idBuf = strconv.AppendUint(append(append(c.idBuf[:0], stream...), '.'), seq+i, 10)
		c.record(st, sensor, kind, line, string(c.idBuf), stream, seq+i, true)
	}
}

// undecodable counts and logs a message that cannot be read: it is
// acknowledged with its batch (it would not read better the next time).
// maxDecoded bounds what one compressed message may decode to: a pack is
// at most 1 MiB of records, and the length an S2 block claims is
// allocated before it is checked.
const maxDecoded = 8 << 20

func (c *Collector) undecodable(sensor, id string, err error) {
	c.badEnc++
	c.opt.Logf("collect: message %s from %s skipped: %v", id, sensor, err)
}

// record writes one alert or event line with its id, unless that id was
// written before (ok: stream and seq are the id's parts).
func (c *Collector) record(st *sensorState, sensor string, kind Kind, line []byte, id, stream string, seq uint64, ok bool) {
	c.msgs[kind]++
	if ok && !c.firstSeq(stream, seq) {
		c.dups++
		return
	}
	if kind == KindAlert {
		st.alerts++
		c.alerts.writeLine(line, id)
		c.reportAlert(sensor, line)
		return
	}
	st.events++
	c.events.writeLine(line, id)
	c.reportFlow(sensor, line)
}

func (c *Collector) sensor(name string) *sensorState {
	st := c.sensors[name]
	if st == nil {
		st = &sensorState{}
		c.sensors[name] = st
	}
	return st
}

// first records id and reports whether it is new.
func (c *Collector) first(id string) bool {
	stream, seq, ok := ParseMsgID(id)
	if !ok {
		return true
	}
	return c.firstSeq(stream, seq)
}

// firstSeq records seq in stream and reports whether it is new.
func (c *Collector) firstSeq(stream string, seq uint64) bool {
	s := c.seen[stream]
	if s == nil {
		s = &seqSet{}
		c.seen[stream] = s
	}
	return s.add(seq)
}

// seqSet is the set of sequence numbers seen in one stream of ids: all up
// to contig, and the few above it. Messages come nearly in order, so it
// stays small.
type seqSet struct {
	contig uint64
	above  map[uint64]struct{}
}

func (s *seqSet) add(seq uint64) bool {
	if seq <= s.contig {
		return false
	}
	if seq == s.contig+1 {
		s.contig++
		for len(s.above) > 0 {
			if _, ok := s.above[s.contig+1]; !ok {
				break
			}
			delete(s.above, s.contig+1)
			s.contig++
		}
		return true
	}
	if s.above == nil {
		s.above = map[uint64]struct{}{}
	}
	if _, ok := s.above[seq]; ok {
		return false
	}
	s.above[seq] = struct{}{}
	return true
}

// alertFields are the parts of an alert line the report needs.
type alertFields struct {
	Timestamp time.Time `json:"@timestamp"`
	Event     struct {
		Action string `json:"action"`
	} `json:"event"`
	Rule struct {
		ID string `json:"id"`
	} `json:"rule"`
	Source struct {
		IP string `json:"ip"`
	} `json:"source"`
	Egresswatch struct {
		Group    []string `json:"group"`
		Service  string   `json:"service"`
		Country  string   `json:"country"`
		Evidence struct {
			Suppressed uint64 `json:"suppressed_count"`
		} `json:"evidence"`
	} `json:"egresswatch"`
}

// fleetGroups puts the sensor in front of each group: the fleet report
// is sensor × group × service × country.
func fleetGroups(sensor string, groups []string) []string {
	if len(groups) == 0 {
		return []string{sensor}
	}
	out := make([]string, len(groups))
	for i, g := range groups {
		out[i] = sensor + " / " + g
	}
	return out
}

func (c *Collector) reportAlert(sensor string, line []byte) {
	if c.opt.Report == nil {
		return
	}
	var a alertFields
	if !parseAlertFields(line, &a) {
		return
	}
	e := &a.Egresswatch
	row := report.Alert{Rule: a.Rule.ID, Groups: fleetGroups(sensor, e.Group), Service: e.Service, Country: e.Country, Time: a.Timestamp, Count: 1}
	row.Device, _ = netip.ParseAddr(a.Source.IP)
	if a.Event.Action == "suppressed-summary" {
		row.Count = e.Evidence.Suppressed
	}
	c.opt.Report.AddAlert(row)
}

func (c *Collector) reportFlow(sensor string, line []byte) {
	if c.opt.Report == nil || !bytes.Contains(line[:min(len(line), 200)], []byte(DatasetResidency)) {
		return
	}
	var r Residency
	if json.Unmarshal(line, &r) != nil {
		return
	}
	e := &r.Egresswatch
	f := report.FlowSummary{Groups: fleetGroups(sensor, e.Group), Service: e.Service, Country: e.Country,
		Indeterminate: e.Indeterminate, Reason: e.Reason, Name: r.Destination.Domain,
		Bytes: r.Network.Bytes, Packets: r.Network.Packets, First: r.Event.Start, Last: r.Event.End}
	f.Dst, _ = netip.ParseAddr(r.Destination.IP)
	f.Device, _ = netip.ParseAddr(r.Source.IP)
	c.opt.Report.AddFlow(f)
}

// health takes a heartbeat (its message id is id): the sensor's
// interval, counters and drops. The drops are those since the last
// heartbeat of the run this collector took (heartbeats lost on the way
// included), or, for the first it takes of a run (a collector that
// restarted), those the heartbeat counts since the sensor's previous one.
func (c *Collector) health(st *sensorState, sensor string, data []byte, id string, stored time.Time) {
	var h Health
	if json.Unmarshal(data, &h) != nil {
		return
	}
	hs := &h.Egresswatch.Health
	if stored.IsZero() {
		stored = h.Timestamp
	}
	if !stored.Before(st.lastHB) {
		st.lastHB, st.lastHBID = stored, id
	}
	st.interval = time.Duration(hs.IntervalSeconds * float64(time.Second))
	st.policyRev = hs.PolicyRevision
	if st.silent {
		st.silent = false
		c.opt.Logf("collect: sensor %s is heard again", sensor)
	}
	drops, packets := hs.KernelDropsInterval, hs.PacketsInterval
	if hs.Run == st.run && hs.KernelDrops >= st.drops {
		drops, packets = hs.KernelDrops-st.drops, hs.Packets-st.packets
	}
	if drops > 0 && drops >= c.opt.Drops {
		c.raise(ownAlertID("sensor-drops", id), stored, "sensor-drops", sensor, 47, "warning",
			fmt.Sprintf("Sensor %s dropped %d packets in the kernel since its last heartbeat (threshold %d).", sensor, drops, c.opt.Drops),
			map[string]any{"kernel_drops": drops, "packets": packets})
	}
	st.run, st.drops, st.packets = hs.Run, hs.KernelDrops, hs.Packets
}

// ownAlertID is the event.id of the collector's own alert rule about the
// sensor's heartbeat hb (a message id): "fleet.<rule>.<hb>", e.g.
// "fleet.sensor-silent.site-7.lq3x9a-1f2e.h.42". The alert is a function of
// the heartbeat, so a restarted collector that reaches the same verdict
// makes the same id, and writes the alert once. "" when hb is not a
// message id (the alert then gets a number of the collector's run).
func ownAlertID(rule, hb string) string {
	if _, _, ok := ParseMsgID(hb); !ok {
		return ""
	}
	return "fleet." + rule + "." + hb
}

// seedSensors reads each sensor's last heartbeat from the stream, so that
// a collector that restarts knows, before any message comes, the sensors
// it must hear from: one that went silent while no collector ran is found
// silent too. Without the right to read the stream (a collector account
// that may only consume) silence is judged from the next heartbeat on.
func (c *Collector) seedSensors(ctx context.Context) {
	st, err := c.js.Stream(ctx, Stream)
	if err != nil {
		c.opt.Logf("collect: sensors' last heartbeats: %v (silence is judged from their next heartbeat)", err)
		return
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(Subject("*", KindHealth)))
	if err != nil {
		c.opt.Logf("collect: sensors' last heartbeats: %v (silence is judged from their next heartbeat)", err)
		return
	}
	for subj := range info.State.Subjects {
		sensor, kind, ok := ParseSubject(subj)
		if !ok || kind != KindHealth {
			continue
		}
		m, err := st.GetLastMsgForSubject(ctx, subj)
		if err != nil {
			c.opt.Logf("collect: last heartbeat of %s: %v", sensor, err)
			continue
		}
		var h Health
		if json.Unmarshal(m.Data, &h) != nil {
			continue
		}
		c.mu.Lock()
		s := c.sensor(sensor)
		if m.Time.After(s.lastHB) {
			s.lastHB, s.lastHBID = m.Time, m.Header.Get(jetstream.MsgIDHeader)
			s.interval = time.Duration(h.Egresswatch.Health.IntervalSeconds * float64(time.Second))
			s.policyRev = h.Egresswatch.Health.PolicyRevision
		}
		if m.Time.After(s.lastSeen) {
			s.lastSeen = m.Time
		}
		c.mu.Unlock()
	}
}

// checkSensors raises sensor-silent for each sensor whose last heartbeat
// is more than Misses intervals old.
func (c *Collector) checkSensors() {
	now := c.opt.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	names := make([]string, 0, len(c.sensors))
	for n := range c.sensors {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		st := c.sensors[n]
		if st.silent || st.interval <= 0 || st.lastHB.IsZero() {
			continue
		}
		if now.Sub(st.lastHB) > time.Duration(c.opt.Misses)*st.interval {
			st.silent = true
			c.raise(ownAlertID("sensor-silent", st.lastHBID), now, "sensor-silent", n, 73, "error",
				fmt.Sprintf("Sensor %s has sent no heartbeat for %s (%d intervals of %s): it, its link or its broker account is down.",
					n, now.Sub(st.lastHB).Round(time.Second), c.opt.Misses, st.interval),
				map[string]any{"last_seen": st.lastHB.UTC(), "heartbeat_interval_seconds": st.interval.Seconds()})
		}
	}
}

// DatasetFleet is the event.dataset of the collector's own alerts.
const DatasetFleet = "egresswatch.fleet"

// raise writes one of the collector's own alerts, with the id id, unless
// it wrote it before (a restart); with no id it numbers it in its run.
func (c *Collector) raise(id string, t time.Time, rule, sensor string, severity int, level, msg string, extra map[string]any) {
	if id == "" {
		c.seqOwn++
		id = c.opt.Observer.Name + "." + c.ownRun + ".a." + strconv.FormatUint(c.seqOwn, 10)
	}
	if !c.first(id) {
		return // raised before this collector restarted
	}
	c.raised++
	type ruleObj struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		Ruleset string `json:"ruleset"`
	}
	ew := map[string]any{"sensor": sensor}
	for k, v := range extra {
		ew[k] = v
	}
	a := struct {
		Timestamp time.Time `json:"@timestamp"`
		Event     struct {
			Kind     string `json:"kind"`
			Dataset  string `json:"dataset"`
			Severity int    `json:"severity"`
			Action   string `json:"action"`
		} `json:"event"`
		Log struct {
			Level string `json:"level"`
		} `json:"log"`
		Rule        ruleObj         `json:"rule"`
		Message     string          `json:"message"`
		Egresswatch map[string]any  `json:"egresswatch"`
		Observer    json.RawMessage `json:"observer"`
	}{Timestamp: t.UTC(), Rule: ruleObj{rule, rule, "egresswatch-fleet"}, Message: msg, Egresswatch: ew}
	a.Event.Kind, a.Event.Dataset, a.Event.Severity, a.Event.Action = "alert", DatasetFleet, severity, rule
	a.Log.Level = level
	a.Observer = output.AppendObserver(nil, c.opt.Observer)[len(`"observer":`):]
	line, _ := json.Marshal(&a)
	c.alerts.writeLine(line, id)
	if c.raisedLog != nil {
		if _, err := fmt.Fprintln(c.raisedLog, id); err != nil {
			c.opt.Logf("collect: %v", err)
		}
	}
	c.opt.Logf("collect: %s", msg)
}

// RaisedPath is the file beside the alerts file that lists the ids of
// the collector's own alerts, a line each. A restarted collector judges
// the sensors again from the heartbeats the stream holds (for days), and
// the alerts file that holds what it raised then may have been rotated
// away since: this list is how it knows it raised them.
func RaisedPath(alerts string) string { return alerts + ".raised-ids" }

// raisedKeep is how many ids the list keeps when it is opened (the most
// recent): far more than a week of verdicts (the stream's age) on a fleet.
const raisedKeep = 100000

// openRaised marks the ids listed in path seen and opens it for appending,
// rewriting it first with the most recent raisedKeep when it holds more.
func (c *Collector) openRaised(path string) (*os.File, error) {
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("collect: %w", err)
	}
	var ids []string
	for l := range bytes.Lines(b) {
		if l = bytes.TrimSpace(l); len(l) > 0 {
			ids = append(ids, string(l))
		}
	}
	if len(ids) > raisedKeep {
		ids = ids[len(ids)-raisedKeep:]
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(strings.Join(ids, "\n")+"\n"), 0o644); err != nil {
			return nil, fmt.Errorf("collect: %w", err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return nil, fmt.Errorf("collect: %w", err)
		}
	}
	for _, id := range ids {
		c.first(id)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("collect: %w", err)
	}
	return f, nil
}

func (c *Collector) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.alerts.flush(); err != nil {
		return err
	}
	return c.events.flush()
}

// Close flushes and closes the output files.
func (c *Collector) Close() error {
	err := c.flush()
	for _, f := range []*appendFile{c.alerts, c.events} {
		if f != nil && f.f != nil {
			if cerr := f.f.Close(); err == nil {
				err = cerr
			}
		}
	}
	if c.raisedLog != nil {
		if cerr := c.raisedLog.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// Locked runs f while no message is being handled (to read the report
// the collector feeds).
func (c *Collector) Locked(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f()
}

// SensorStatus is one sensor as the collector sees it.
type SensorStatus struct {
	Name           string
	LastSeen       time.Time
	Lag            time.Duration
	Alerts, Events uint64
	Silent         bool
	KernelDrops    uint64
}

// CollectorStatus is the collector's state: every sensor's, by name, and
// its counters.
type CollectorStatus struct {
	Sensors     []SensorStatus
	Messages    [numKinds]uint64 // records consumed, by kind
	Duplicates  uint64           // records skipped: already written
	Undecodable uint64           // messages skipped: an encoding not known
	Raised      uint64           // the collector's own alerts
}

// Status returns the collector's state. Safe for concurrent use.
func (c *Collector) Status() CollectorStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := CollectorStatus{Messages: c.msgs, Duplicates: c.dups, Undecodable: c.badEnc, Raised: c.raised}
	for n, st := range c.sensors {
		s.Sensors = append(s.Sensors, SensorStatus{n, st.lastSeen, st.lag, st.alerts, st.events, st.silent, st.drops})
	}
	slices.SortFunc(s.Sensors, func(a, b SensorStatus) int { return cmp.Compare(a.Name, b.Name) })
	return s
}

// WriteMetrics writes the collector's metrics in the Prometheus text
// format.
func (c *Collector) WriteMetrics(w io.Writer) {
	st := c.Status()
	sensors, msgs, dups, raised := st.Sensors, st.Messages, st.Duplicates, st.Raised
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	fmt.Fprintln(bw, "# HELP egresswatch_collector_messages_total Records consumed, by kind: alert and event lines (a message packs several), heartbeats.")
	fmt.Fprintln(bw, "# TYPE egresswatch_collector_messages_total counter")
	for k := range numKinds {
		fmt.Fprintf(bw, "egresswatch_collector_messages_total{kind=%q} %d\n", k.String(), msgs[k])
	}
	fmt.Fprintln(bw, "# HELP egresswatch_collector_duplicates_total Messages skipped: already written.")
	fmt.Fprintln(bw, "# TYPE egresswatch_collector_duplicates_total counter")
	fmt.Fprintf(bw, "egresswatch_collector_duplicates_total %d\n", dups)
	fmt.Fprintln(bw, "# HELP egresswatch_collector_undecodable_total Messages skipped: their Content-Encoding is not known or their data does not decode.")
	fmt.Fprintln(bw, "# TYPE egresswatch_collector_undecodable_total counter")
	fmt.Fprintf(bw, "egresswatch_collector_undecodable_total %d\n", st.Undecodable)
	fmt.Fprintln(bw, "# HELP egresswatch_collector_raised_total The collector's own alerts (sensor-silent, sensor-drops).")
	fmt.Fprintln(bw, "# TYPE egresswatch_collector_raised_total counter")
	fmt.Fprintf(bw, "egresswatch_collector_raised_total %d\n", raised)
	gauge := func(name, help string, v func(s *SensorStatus) float64) {
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
		for i := range sensors {
			fmt.Fprintf(bw, "%s{sensor=%q} %g\n", name, sensors[i].Name, v(&sensors[i]))
		}
	}
	gauge("egresswatch_collector_sensor_last_seen_timestamp_seconds", "When the broker stored the sensor's last message (Unix time).",
		func(s *SensorStatus) float64 { return float64(s.LastSeen.UnixNano()) / 1e9 })
	gauge("egresswatch_collector_sensor_lag_seconds", "Time from the broker storing the sensor's last message to the collector reading it.",
		func(s *SensorStatus) float64 { return s.Lag.Seconds() })
	gauge("egresswatch_collector_sensor_silent", "1 when the sensor has missed its heartbeats.",
		func(s *SensorStatus) float64 { return b2f(s.Silent) })
	gauge("egresswatch_collector_sensor_kernel_drops", "The sensor's kernel drops in its current run, as of its last heartbeat.",
		func(s *SensorStatus) float64 { return float64(s.KernelDrops) })
	fmt.Fprintln(bw, "# HELP egresswatch_collector_sensor_alerts_total Alerts written, by sensor.")
	fmt.Fprintln(bw, "# TYPE egresswatch_collector_sensor_alerts_total counter")
	for _, s := range sensors {
		fmt.Fprintf(bw, "egresswatch_collector_sensor_alerts_total{sensor=%q} %d\n", s.Name, s.Alerts)
	}
	fmt.Fprintln(bw, "# HELP egresswatch_collector_sensor_events_total Events written, by sensor.")
	fmt.Fprintln(bw, "# TYPE egresswatch_collector_sensor_events_total counter")
	for _, s := range sensors {
		fmt.Fprintf(bw, "egresswatch_collector_sensor_events_total{sensor=%q} %d\n", s.Name, s.Events)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
