// Package evidence writes the packets of alerted flows to pcapng files an
// analyst opens in Wireshark: one file a flow, each packet commented with
// the rules that fired on the flow and its Community ID.
//
// A Recorder is fed, in frame order, the packets of every flow that could
// alert. Until the flow alerts it keeps only its last few packets (what a
// reassembly buffer would still hold: the handshake and the ClientHello or
// request that named it); once it alerts, those and the packets that
// follow are kept, up to a bound per flow, and the file is written when
// the flow ends or reaches its bound. A bound on the total bytes written
// stops new files once reached; what it leaves out is counted.
package evidence

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/egresswatch/egresswatch/flow"
)

// Options bound a Recorder. Zero fields take the defaults.
type Options struct {
	Dir string // where the files go (created if missing)
	// Before is how many packets of a flow are kept before it alerts
	// (default 16); Packets and Bytes bound what a flow's file holds in
	// all (default 1000 packets, 4 MiB).
	Before  int
	Packets int
	Bytes   int
	// Total bounds the bytes of the files written over the run (default
	// 256 MiB): once reached, no new flow gets a file.
	Total int64
}

func (o *Options) defaults() {
	if o.Before <= 0 {
		o.Before = 16
	}
	if o.Packets <= 0 {
		o.Packets = 1000
	}
	if o.Bytes <= 0 {
		o.Bytes = 4 << 20
	}
	if o.Total <= 0 {
		o.Total = 256 << 20
	}
}

// Stats counts a Recorder's work.
type Stats struct {
	Files       uint64 // files written
	Packets     uint64 // packets written
	OverFlow    uint64 // packets of alerted flows past a flow's bound
	OverTotal   uint64 // alerted flows left out: the total bound was reached
	WriteErrors uint64
	BufferedNow int // flows with packets held
}

type packet struct {
	data    []byte // a copy
	ci      gopacket.CaptureInfo
	link    layers.LinkType
	comment bool // kept after the alert (else before it)
}

// packetOverhead is about what a packet costs in a file beyond its bytes:
// the enhanced packet block's header and its comment.
const packetOverhead = 32 + 128

type flowRec struct {
	key     flow.Key
	first   time.Time
	pkts    []packet
	bytes   int
	alerted bool
	rules   []string
	full    bool // reached its bound: written, later packets dropped
	file    string
}

// Recorder keeps and writes evidence. It is not safe for concurrent use;
// the pipeline's merger owns it.
type Recorder struct {
	opts    Options
	flows   map[uint64]*flowRec
	written int64 // bytes of the files written
	held    int64 // packet bytes held for alerted flows, not yet written
	stats   Stats
	err     error // the first write error
}

// New returns a Recorder that writes into opts.Dir, creating it.
func New(opts Options) (*Recorder, error) {
	opts.defaults()
	if opts.Dir == "" {
		return nil, errors.New("evidence: no directory")
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	return &Recorder{opts: opts, flows: map[uint64]*flowRec{}}, nil
}

// FileName is the name, in the Recorder's directory, of the evidence
// file of the flow numbered id that began at first: known before the
// file exists, so an alert can name it.
func FileName(id uint64, first time.Time, key flow.Key) string {
	return fmt.Sprintf("%s-%s-%s-%d.pcapng", first.UTC().Format("20060102T150405Z"),
		addrName(key.Src.Addr().Unmap().String()), addrName(key.Dst.Addr().Unmap().String()), id)
}

func addrName(s string) string { return strings.ReplaceAll(s, ":", "_") }

// Packet adds one frame of the flow numbered id (key, the time of its
// first packet). data is copied.
func (r *Recorder) Packet(id uint64, key flow.Key, first time.Time, data []byte, t time.Time, wireLen int, link layers.LinkType) {
	f := r.flows[id]
	if f == nil {
		f = &flowRec{key: key, first: first}
		r.flows[id] = f
	}
	if f.full {
		r.stats.OverFlow++
		return
	}
	var buf []byte
	if !f.alerted && len(f.pkts) >= r.opts.Before {
		// Before the alert only the last Before packets count: drop the
		// oldest, and reuse its buffer.
		buf = f.pkts[0].data[:0]
		f.bytes -= len(f.pkts[0].data)
		copy(f.pkts, f.pkts[1:])
		f.pkts = f.pkts[:len(f.pkts)-1]
	}
	if f.alerted && r.written+r.held >= r.opts.Total {
		// The total bound: what this flow holds is written, the rest dropped.
		r.stats.OverFlow++
		r.finish(f)
		return
	}
	f.pkts = append(f.pkts, packet{data: append(buf, data...), link: link, comment: f.alerted,
		ci: gopacket.CaptureInfo{Timestamp: t, CaptureLength: len(data), Length: wireLen}})
	f.bytes += len(data)
	if f.alerted {
		r.held += int64(len(data)) + packetOverhead
		if len(f.pkts) >= r.opts.Packets || f.bytes >= r.opts.Bytes {
			r.finish(f)
		}
	}
}

// Alert records that rule fired on the flow numbered id (key, the time of
// its first packet) and returns the name of its evidence file ("" when the
// total bound has been reached).
func (r *Recorder) Alert(id uint64, key flow.Key, first time.Time, rule string) string {
	f := r.flows[id]
	if f == nil {
		f = &flowRec{key: key, first: first}
		r.flows[id] = f
	}
	if !f.alerted {
		if r.written+r.held >= r.opts.Total {
			r.stats.OverTotal++
			delete(r.flows, id)
			return ""
		}
		f.alerted = true
		f.file = FileName(id, f.first, f.key)
		r.held += int64(f.bytes) + int64(len(f.pkts))*packetOverhead
	}
	for _, have := range f.rules {
		if have == rule {
			return f.file
		}
	}
	f.rules = append(f.rules, rule)
	return f.file
}

// End writes the file of the flow numbered id if it alerted, and forgets
// the flow.
func (r *Recorder) End(id uint64) {
	f := r.flows[id]
	if f == nil {
		return
	}
	delete(r.flows, id)
	if f.alerted && !f.full {
		r.finish(f)
	}
}

// finish writes an alerted flow's file and drops its packets; later
// packets of the flow are counted, not kept.
func (r *Recorder) finish(f *flowRec) {
	r.write(f)
	r.held -= int64(f.bytes) + int64(len(f.pkts))*packetOverhead
	f.full, f.pkts, f.bytes = true, nil, 0
}

// Close writes the files of the alerted flows still open and returns the
// first write error.
func (r *Recorder) Close() error {
	for id := range r.flows {
		r.End(id)
	}
	return r.err
}

// Stats returns the counters so far.
func (r *Recorder) Stats() Stats {
	s := r.stats
	s.BufferedNow = len(r.flows)
	return s
}

func (r *Recorder) write(f *flowRec) {
	if err := r.writeFile(f); err != nil {
		r.stats.WriteErrors++
		if r.err == nil {
			r.err = err
		}
		return
	}
	r.stats.Files++
	r.stats.Packets += uint64(len(f.pkts))
}

func (r *Recorder) writeFile(f *flowRec) error {
	path := filepath.Join(r.opts.Dir, f.file)
	tmp := path + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	bw := bufio.NewWriter(out)
	link := layers.LinkTypeEthernet
	if len(f.pkts) > 0 {
		link = f.pkts[0].link
	}
	cid := flow.CommunityID(f.key, 0)
	w, err := pcapgo.NewNgWriterInterface(bw, pcapgo.NgInterface{Name: "egresswatch", LinkType: link, SnapLength: 0},
		pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "egresswatch",
			Comment: "evidence of " + strings.Join(f.rules, ", ") + "; community_id " + cid}})
	if err != nil {
		out.Close()
		os.Remove(tmp)
		return fmt.Errorf("evidence %s: %w", path, err)
	}
	ifaces := map[layers.LinkType]int{link: 0}
	after := "egresswatch alert " + strings.Join(f.rules, ", ") + "; community_id " + cid
	before := "before the alert (" + strings.Join(f.rules, ", ") + "); community_id " + cid
	for i := range f.pkts {
		p := &f.pkts[i]
		id, ok := ifaces[p.link]
		if !ok {
			if id, err = w.AddInterface(pcapgo.NgInterface{Name: "egresswatch", LinkType: p.link}); err != nil {
				break
			}
			ifaces[p.link] = id
		}
		p.ci.InterfaceIndex = id
		comment := before
		if p.comment {
			comment = after
		}
		if err = w.WritePacketWithOptions(p.ci, p.data, pcapgo.NgPacketOptions{Comments: []string{comment}}); err != nil {
			break
		}
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = bw.Flush()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		if fi, serr := os.Stat(path); serr == nil {
			r.written += fi.Size() // the file as a whole: blocks, options and comments too
		}
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("evidence %s: %w", path, err)
	}
	return nil
}
