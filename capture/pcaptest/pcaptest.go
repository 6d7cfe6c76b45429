package pcaptest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Kind selects the pcapng block a Packet is written as.
type Kind uint8

const (
	EPB  Kind = iota // Enhanced Packet Block (the zero value)
	SPB              // Simple Packet Block: interface 0, no timestamp
	PB               // obsolete Packet Block
	Skip             // not a packet: a Custom Block carrying Data, which readers skip
)

// Packet is one record to write.
type Packet struct {
	Time      time.Time
	Data      []byte
	WireLen   int  // original length; 0 means len(Data)
	Interface int  // pcapng interface index within its section
	Kind      Kind // pcapng only
}

func (p Packet) wireLen() int {
	if p.WireLen == 0 {
		return len(p.Data)
	}
	return p.WireLen
}

// WritePcap writes a classic pcap file: microsecond or (nanos) nanosecond
// timestamps, in the given byte order, snaplen 262144.
func WritePcap(w io.Writer, linkType layers.LinkType, nanos bool, order binary.ByteOrder, frames []Packet) error {
	magic := uint32(0xa1b2c3d4)
	if nanos {
		magic = 0xa1b23c4d
	}
	hdr := make([]byte, 0, 24)
	hdr = app32(order, hdr, magic)
	hdr = app16(order, hdr, 2)
	hdr = app16(order, hdr, 4)
	hdr = app32(order, hdr, 0) // thiszone
	hdr = app32(order, hdr, 0) // sigfigs
	hdr = app32(order, hdr, 262144)
	hdr = app32(order, hdr, uint32(linkType))
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("pcaptest: write pcap header: %w", err)
	}
	for i, p := range frames {
		frac := uint32(p.Time.Nanosecond())
		if !nanos {
			frac /= 1000
		}
		rec := make([]byte, 0, 16+len(p.Data))
		rec = app32(order, rec, uint32(p.Time.Unix()))
		rec = app32(order, rec, frac)
		rec = app32(order, rec, uint32(len(p.Data)))
		rec = app32(order, rec, uint32(p.wireLen()))
		rec = append(rec, p.Data...)
		if _, err := w.Write(rec); err != nil {
			return fmt.Errorf("pcaptest: write pcap record %d: %w", i+1, err)
		}
	}
	return nil
}

// Interface is a pcapng Interface Description Block.
type Interface struct {
	LinkType layers.LinkType
	SnapLen  uint32 // 0: no limit
	// TSResol is the raw if_tsresol option: 0 omits it (microseconds),
	// 9 is nanoseconds, 0x80|n is 2^-n seconds.
	TSResol  uint8
	TSOffset int64 // if_tsoffset in seconds; 0 omits it
}

// Section is one pcapng section: its byte order, interfaces and packets.
type Section struct {
	Order        binary.ByteOrder // nil: little-endian
	Major, Minor uint16           // version; 0.0 means 1.0
	Interfaces   []Interface
	Packets      []Packet
}

// WritePcapng writes the sections one after another as a pcapng file.
// Packets are written in order after all of the section's interfaces.
func WritePcapng(w io.Writer, sections ...Section) error {
	for si, s := range sections {
		o := s.Order
		if o == nil {
			o = binary.LittleEndian
		}
		major, minor := s.Major, s.Minor
		if major == 0 && minor == 0 {
			major = 1
		}
		body := app32(o, nil, 0x1a2b3c4d)
		body = app16(o, body, major)
		body = app16(o, body, minor)
		body = app64(o, body, ^uint64(0)) // section length unknown
		if err := writeBlock(w, o, 0x0a0d0d0a, body); err != nil {
			return fmt.Errorf("pcaptest: section %d: %w", si, err)
		}
		for _, ifc := range s.Interfaces {
			body := app16(o, nil, uint16(ifc.LinkType))
			body = app16(o, body, 0)
			body = app32(o, body, ifc.SnapLen)
			if ifc.TSResol != 0 {
				body = appendOption(body, o, 9, []byte{ifc.TSResol})
			}
			if ifc.TSOffset != 0 {
				body = appendOption(body, o, 14, app64(o, nil, uint64(ifc.TSOffset)))
			}
			if ifc.TSResol != 0 || ifc.TSOffset != 0 {
				body = app32(o, body, 0) // opt_endofopt
			}
			if err := writeBlock(w, o, 1, body); err != nil {
				return fmt.Errorf("pcaptest: section %d: %w", si, err)
			}
		}
		for pi, p := range s.Packets {
			if err := writePacket(w, o, s.Interfaces, p); err != nil {
				return fmt.Errorf("pcaptest: section %d packet %d: %w", si, pi+1, err)
			}
		}
	}
	return nil
}

func writePacket(w io.Writer, o binary.ByteOrder, ifaces []Interface, p Packet) error {
	if p.Kind == Skip {
		// Custom Block (may be copied) with Private Enterprise Number 0.
		return writeBlock(w, o, 0x00000bad, pad(append(app32(o, nil, 0), p.Data...)))
	}
	if p.Interface < 0 || p.Interface >= len(ifaces) {
		return errors.New("packet on an undefined interface")
	}
	var body []byte
	switch p.Kind {
	case SPB:
		body = app32(o, nil, uint32(p.wireLen()))
		return writeBlock(w, o, 3, pad(append(body, p.Data...)))
	case PB:
		body = app16(o, nil, uint16(p.Interface))
		body = app16(o, body, 0) // drops
	case EPB:
		body = app32(o, nil, uint32(p.Interface))
	default:
		return fmt.Errorf("unknown packet kind %d", p.Kind)
	}
	ts := Ticks(p.Time, ifaces[p.Interface])
	body = app32(o, body, uint32(ts>>32))
	body = app32(o, body, uint32(ts))
	body = app32(o, body, uint32(len(p.Data)))
	body = app32(o, body, uint32(p.wireLen()))
	btype := uint32(6)
	if p.Kind == PB {
		btype = 2
	}
	return writeBlock(w, o, btype, pad(append(body, p.Data...)))
}

// Ticks converts t to the 64-bit timestamp of interface ifc (if_tsresol,
// if_tsoffset), truncating what the resolution cannot hold. Times that do
// not fit in 64 bits at that resolution (after 1970-08 at 10^-12) wrap.
func Ticks(t time.Time, ifc Interface) uint64 {
	sec, ns := uint64(t.Unix()-ifc.TSOffset), uint64(t.Nanosecond())
	res := ifc.TSResol
	if res == 0 {
		res = 6
	}
	if res&0x80 != 0 {
		e := res & 0x7f
		hi, lo := bits.Mul64(ns, 1<<e)
		q, _ := bits.Div64(hi, lo, 1e9)
		return sec<<e | q
	}
	unit := uint64(1)
	for range res {
		unit *= 10
	}
	if res <= 9 {
		div := uint64(1)
		for range 9 - res {
			div *= 10
		}
		return sec*unit + ns/div
	}
	mul := uint64(1)
	for range res - 9 {
		mul *= 10
	}
	return sec*unit + ns*mul
}

func appendOption(b []byte, o binary.ByteOrder, code uint16, v []byte) []byte {
	b = app16(o, b, code)
	b = app16(o, b, uint16(len(v)))
	return pad(append(b, v...))
}

func pad(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func writeBlock(w io.Writer, o binary.ByteOrder, btype uint32, body []byte) error {
	n := uint32(12 + len(body))
	b := make([]byte, 0, n)
	b = app32(o, b, btype)
	b = app32(o, b, n)
	b = append(b, body...)
	b = app32(o, b, n)
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write block type %#x: %w", btype, err)
	}
	return nil
}

func app16(o binary.ByteOrder, b []byte, v uint16) []byte {
	var a [2]byte
	o.PutUint16(a[:], v)
	return append(b, a[:]...)
}

func app32(o binary.ByteOrder, b []byte, v uint32) []byte {
	var a [4]byte
	o.PutUint32(a[:], v)
	return append(b, a[:]...)
}

func app64(o binary.ByteOrder, b []byte, v uint64) []byte {
	var a [8]byte
	o.PutUint64(a[:], v)
	return append(b, a[:]...)
}
