//go:build linux

package afpacket

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/egresswatch/egresswatch/capture"
)

// Config says what to capture and how the rings are sized.
type Config struct {
	Interfaces []string
	// Rings is the number of rings per interface, joined in a fanout group
	// (hash by flow) when more than one (default 1).
	Rings int
	// RingBytes is the size of each ring (default 64 MiB), in blocks of
	// BlockBytes (default 1 MiB, a multiple of the page size).
	RingBytes  int
	BlockBytes int
	// BlockTimeout is how long the kernel keeps a block that is not full
	// before handing it over (default 10 ms): the capture's latency.
	BlockTimeout time.Duration
	// PollTimeout is how long Next waits before it returns
	// capture.ErrTimeout (default 100 ms).
	PollTimeout time.Duration
	// Filter is a classic BPF program (for example tcpdump -ddd output)
	// attached to every ring; it also decides the snap length. Without it,
	// Snaplen > 0 cuts frames to that many bytes.
	Filter  []bpf.RawInstruction
	Snaplen int
	// NoPromisc leaves promiscuous mode off.
	NoPromisc bool
}

func (cfg *Config) defaults() error {
	if len(cfg.Interfaces) == 0 {
		return errors.New("afpacket: no interface")
	}
	if cfg.Rings <= 0 {
		cfg.Rings = 1
	}
	if cfg.BlockBytes <= 0 {
		cfg.BlockBytes = 1 << 20
	}
	if page := unix.Getpagesize(); cfg.BlockBytes%page != 0 {
		return fmt.Errorf("afpacket: block size %d is not a multiple of the page size %d", cfg.BlockBytes, page)
	}
	if cfg.RingBytes <= 0 {
		cfg.RingBytes = 64 << 20
	}
	if cfg.RingBytes < 2*cfg.BlockBytes {
		cfg.RingBytes = 2 * cfg.BlockBytes
	}
	if cfg.BlockTimeout < time.Millisecond {
		cfg.BlockTimeout = 10 * time.Millisecond
	}
	if cfg.PollTimeout <= 0 {
		cfg.PollTimeout = 100 * time.Millisecond
	}
	return nil
}

// Source merges the rings of every interface into one stream of frames in
// timestamp order. Next must be called from one goroutine; Stop and Stats
// may be called from any.
type Source struct {
	cfg     Config
	rings   []*ring
	hold    time.Duration // how long a packet waits for older ones on other rings
	seq     uint64
	scratch []byte
	pfds    []unix.PollFd
	pidx    []int

	stop     atomic.Bool
	deadline time.Time // after Stop: when the drain ends
}

// Open opens cfg.Rings rings on each interface. It needs CAP_NET_RAW; the
// privilege can be dropped once it returns.
func Open(cfg Config) (*Source, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	s := &Source{cfg: cfg}
	for _, iface := range cfg.Interfaces {
		idx, err := ifIndex(iface)
		if err != nil {
			s.Close()
			return nil, err
		}
		for i := 0; i < cfg.Rings; i++ {
			r, err := cfg.openRing(iface, i, idx)
			if err != nil {
				s.Close()
				return nil, err
			}
			s.rings = append(s.rings, r)
		}
	}
	// A block reaches user space at most BlockTimeout after its first
	// packet (plus timer slack); wait that long for the other rings
	// before handing a packet out, so frames come in timestamp order.
	s.hold = 2*cfg.BlockTimeout + 5*time.Millisecond
	return s, nil
}

// Next returns the oldest packet ready on any ring. Its Data points into
// the ring (or, rarely, a reused buffer) and is valid until the next call.
// It returns capture.ErrTimeout when nothing arrived within the poll
// interval, and io.EOF once Stop was called and the rings are drained.
func (s *Source) Next() (capture.Frame, error) {
	for {
		var best *ring
		ready := 0
		for _, r := range s.rings {
			if r.fill() {
				ready++
				if best == nil || r.before(best) {
					best = r
				}
			}
		}
		now := time.Time{}
		stopping := s.stop.Load()
		if stopping {
			now = time.Now()
			if s.deadline.IsZero() {
				s.deadline = now.Add(s.hold + s.cfg.BlockTimeout)
			}
		}
		wait := s.cfg.PollTimeout
		if best != nil {
			if ready == len(s.rings) {
				return s.emit(best), nil
			}
			if now.IsZero() {
				now = time.Now()
			}
			wait = best.headTime().Add(s.hold).Sub(now)
			if wait <= 0 || (stopping && now.After(s.deadline)) {
				return s.emit(best), nil
			}
		}
		if stopping {
			if now.After(s.deadline) {
				return capture.Frame{}, io.EOF
			}
			wait = min(wait, s.deadline.Sub(now)+time.Millisecond)
		}
		n, err := s.poll(wait)
		if err != nil {
			return capture.Frame{}, err
		}
		if n == 0 && best == nil && !stopping {
			return capture.Frame{}, capture.ErrTimeout
		}
	}
}

func (s *Source) emit(r *ring) capture.Frame {
	t := r.headTime()
	data, wire := r.take(&s.scratch)
	s.seq++
	return capture.Frame{Data: data, Time: t, WireLen: wire, LinkType: r.link, Seq: s.seq, Offset: -1, Path: r.iface}
}

// poll waits up to d for a ring without a ready packet to get one.
func (s *Source) poll(d time.Duration) (int, error) {
	s.pfds, s.pidx = s.pfds[:0], s.pidx[:0]
	for i, r := range s.rings {
		if !r.held || r.left == 0 {
			s.pfds = append(s.pfds, unix.PollFd{Fd: int32(r.fd), Events: unix.POLLIN | unix.POLLERR})
			s.pidx = append(s.pidx, i)
		}
	}
	ms := int((d + time.Millisecond - 1) / time.Millisecond)
	if ms < 1 {
		ms = 1
	}
	for {
		n, err := unix.Poll(s.pfds, ms)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("afpacket: poll: %w", err)
		}
		return n, nil
	}
}

// Stop asks Next to return what the rings hold (and what reaches them
// within about two block timeouts), then io.EOF.
func (s *Source) Stop() { s.stop.Store(true) }

// Stats returns every ring's kernel counters since it was opened, in ring
// order (interfaces in the order given).
func (s *Source) Stats() ([]RingStats, error) {
	out := make([]RingStats, 0, len(s.rings))
	var first error
	for _, r := range s.rings {
		st, err := r.readStats()
		if err != nil && first == nil {
			first = err
		}
		st.Interface, st.Ring = r.iface, r.index
		out = append(out, st)
	}
	return out, first
}

// Close closes every ring. Stats still returns the final counts.
func (s *Source) Close() error {
	var first error
	for _, r := range s.rings {
		if err := r.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
