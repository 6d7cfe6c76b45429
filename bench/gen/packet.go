package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
)

// pcapWriter streams a classic little-endian microsecond pcap with Ethernet frames.
type pcapWriter struct {
	w     *bufio.Writer
	rec   [16]byte
	n     int
	bytes int64
}

func newPcapWriter(w io.Writer) (*pcapWriter, error) {
	p := &pcapWriter{w: bufio.NewWriterSize(w, 1<<20)}
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 262144)
	binary.LittleEndian.PutUint32(h[20:], 1) // LINKTYPE_ETHERNET
	if _, err := p.w.Write(h[:]); err != nil {
		return nil, fmt.Errorf("pcap header: %w", err)
	}
	return p, nil
}

// write adds one frame at t microseconds since the epoch.
func (p *pcapWriter) write(tMicros int64, frame []byte) error {
	binary.LittleEndian.PutUint32(p.rec[0:], uint32(tMicros/1e6))
	binary.LittleEndian.PutUint32(p.rec[4:], uint32(tMicros%1e6))
	binary.LittleEndian.PutUint32(p.rec[8:], uint32(len(frame)))
	binary.LittleEndian.PutUint32(p.rec[12:], uint32(len(frame)))
	if _, err := p.w.Write(p.rec[:]); err != nil {
		return fmt.Errorf("pcap record %d: %w", p.n, err)
	}
	if _, err := p.w.Write(frame); err != nil {
		return fmt.Errorf("pcap record %d: %w", p.n, err)
	}
	p.n++
	p.bytes += int64(len(frame))
	return nil
}

func (p *pcapWriter) flush() error {
	if err := p.w.Flush(); err != nil {
		return fmt.Errorf("pcap flush: %w", err)
	}
	return nil
}

const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpPSH = 0x08
	tcpACK = 0x10
)

// ends is one direction of a packet: layer 2 and 3 addresses, ports.
type ends struct {
	srcMAC, dstMAC [6]byte
	vlan           uint16 // 0: untagged
	src, dst       netip.Addr
	sport, dport   uint16
}

// frameBuilder builds Ethernet frames with valid IPv4 header, TCP and UDP checksums into one
// reused buffer.
type frameBuilder struct {
	buf  []byte
	ipID uint16
}

// l3 appends Ethernet (with an 802.1Q tag when e.vlan != 0) and the IP header for an l4 of
// l4len bytes, and returns the offset of the L4 header.
func (f *frameBuilder) l3(e *ends, proto byte, l4len int) int {
	b := f.buf[:0]
	b = append(b, e.dstMAC[:]...)
	b = append(b, e.srcMAC[:]...)
	if e.vlan != 0 {
		b = append(b, 0x81, 0x00, byte(e.vlan>>8)&0x0f, byte(e.vlan))
	}
	if e.src.Is4() {
		b = append(b, 0x08, 0x00)
		ip := len(b)
		f.ipID++
		tl := 20 + l4len
		b = append(b, 0x45, 0, byte(tl>>8), byte(tl), byte(f.ipID>>8), byte(f.ipID), 0x40, 0, 64, proto, 0, 0)
		s, d := e.src.As4(), e.dst.As4()
		b = append(b, s[:]...)
		b = append(b, d[:]...)
		c := ^fold(sum(0, b[ip:ip+20]))
		b[ip+10], b[ip+11] = byte(c>>8), byte(c)
	} else {
		b = append(b, 0x86, 0xdd)
		b = append(b, 0x60, 0, 0, 0, byte(l4len>>8), byte(l4len), proto, 64)
		s, d := e.src.As16(), e.dst.As16()
		b = append(b, s[:]...)
		b = append(b, d[:]...)
	}
	f.buf = b
	return len(b)
}

// finish computes the L4 checksum of the segment starting at off (its checksum field at
// off+csum) with the pseudo-header of e.
func (f *frameBuilder) finish(e *ends, proto byte, off, csum int) []byte {
	b := f.buf
	l4 := b[off:]
	var s uint32
	if e.src.Is4() {
		a, d := e.src.As4(), e.dst.As4()
		s = sum(s, a[:])
		s = sum(s, d[:])
	} else {
		a, d := e.src.As16(), e.dst.As16()
		s = sum(s, a[:])
		s = sum(s, d[:])
	}
	s += uint32(proto) + uint32(len(l4))
	c := ^fold(sum(s, l4))
	if proto == 17 && c == 0 {
		c = 0xffff
	}
	l4[csum], l4[csum+1] = byte(c>>8), byte(c)
	return b
}

var synOptions = []byte{2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 0, 0} // MSS 1460, NOP, wscale 7, SACK permitted, EOL

// tcp builds a TCP segment; payload is filled by fill (which must fill exactly n bytes).
func (f *frameBuilder) tcp(e *ends, seq, ack uint32, flags byte, n int, fill func([]byte)) []byte {
	hl := 20
	if flags&tcpSYN != 0 {
		hl += len(synOptions)
	}
	off := f.l3(e, 6, hl+n)
	b := f.buf
	b = append(b, byte(e.sport>>8), byte(e.sport), byte(e.dport>>8), byte(e.dport))
	b = binary.BigEndian.AppendUint32(b, seq)
	b = binary.BigEndian.AppendUint32(b, ack)
	b = append(b, byte(hl/4)<<4, flags, 0x01, 0xf6, 0, 0, 0, 0) // window 502
	if flags&tcpSYN != 0 {
		b = append(b, synOptions...)
	}
	b = grow(b, n)
	if n > 0 {
		fill(b[len(b)-n:])
	}
	f.buf = b
	return f.finish(e, 6, off, 16)
}

// udp builds a UDP datagram carrying payload.
func (f *frameBuilder) udp(e *ends, payload []byte) []byte {
	l := 8 + len(payload)
	off := f.l3(e, 17, l)
	b := append(f.buf, byte(e.sport>>8), byte(e.sport), byte(e.dport>>8), byte(e.dport), byte(l>>8), byte(l), 0, 0)
	b = append(b, payload...)
	f.buf = b
	return f.finish(e, 17, off, 6)
}

func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), 2*cap(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

func sum(s uint32, b []byte) uint32 {
	for len(b) >= 8 {
		s += uint32(b[0])<<8 | uint32(b[1])
		s += uint32(b[2])<<8 | uint32(b[3])
		s += uint32(b[4])<<8 | uint32(b[5])
		s += uint32(b[6])<<8 | uint32(b[7])
		b = b[8:]
		if s > 1<<30 {
			s = uint32(fold(s))
		}
	}
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

func fold(s uint32) uint16 {
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}
