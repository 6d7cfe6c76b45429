package capture

import (
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Classic pcap magic numbers, as read in the file's own byte order.
const (
	magicMicro    = 0xa1b2c3d4 // microsecond timestamps
	magicNano     = 0xa1b23c4d // nanosecond timestamps
	magicModified = 0xa1b2cd34 // Kuznetzov's patched libpcap: 24-byte record headers
)

const pcapFileHeaderLen = 24

// readPcapHeader reads the 24-byte file header:
// magic, version major/minor, thiszone, sigfigs, snaplen, link type.
func (r *reader) readPcapHeader() error {
	if n := r.s.fill(pcapFileHeaderLen); n < pcapFileHeaderLen {
		return &FormatError{Path: r.path, Err: r.s.short("pcap file header", pcapFileHeaderLen, int64(n))}
	}
	h := r.s.take(pcapFileHeaderLen)
	if major := r.u16(h[4:]); major != 2 {
		return &FormatError{Path: r.path, Err: fmt.Errorf("unsupported pcap version %d.%d", major, r.u16(h[6:]))}
	}
	// The link type's upper bits carry FCS information (LINKTYPE_* is the
	// low 16 bits; bits 16..25 are reserved).
	r.linkType = layers.LinkType(r.u32(h[20:]) & 0xffff)
	r.hdrLen = 16
	if r.u32(h[0:]) == magicModified {
		r.hdrLen = 24 // + ifindex, protocol, pkt_type, padding
	}
	return nil
}

// nextPcap reads one record: ts_sec, ts_usec|ts_nsec, incl_len, orig_len.
func (r *reader) nextPcap() (Frame, error) {
	off := r.s.off
	hl := r.hdrLen
	if n := r.s.fill(hl); n < hl {
		if n == 0 && r.s.atEnd() {
			r.err = io.EOF
			return Frame{}, r.err
		}
		if n == 0 {
			return r.fail(off, fmt.Errorf("read: %w", r.s.err))
		}
		return r.fail(off, r.s.short("packet record header", int64(hl), int64(n)))
	}
	h := r.s.peek(hl)
	incl, orig := r.u32(h[8:]), r.u32(h[12:])
	if incl > uint32(r.maxPacket) {
		return r.fail(off, fmt.Errorf("record length %d exceeds limit %d", incl, r.maxPacket))
	}
	need := hl + int(incl)
	if n := r.s.fill(need); n < need {
		return r.fail(off, r.s.short("packet record", int64(incl), int64(n-hl)))
	}
	rec := r.s.take(need)
	sec, frac := int64(r.u32(rec[0:])), int64(r.u32(rec[4:]))
	if !r.nanos {
		frac *= 1000
	}
	r.seq++
	return Frame{
		Data:     rec[hl:],
		Time:     time.Unix(sec, frac),
		WireLen:  max(int(orig), int(incl)),
		LinkType: r.linkType,
		Seq:      r.seq,
		Offset:   off,
		Path:     r.path,
	}, nil
}
