package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// pcapng block types (draft-ietf-opsawg-pcapng).
const (
	blockSHB = 0x0a0d0d0a // section header; a palindrome, so byte-order free
	blockIDB = 0x00000001 // interface description
	blockPB  = 0x00000002 // obsolete packet block
	blockSPB = 0x00000003 // simple packet block
	blockEPB = 0x00000006 // enhanced packet block

	byteOrderMagic = 0x1a2b3c4d

	shbMinLen = 28 // header 8 + BOM 4 + version 4 + section length 8 + trailer 4

	optEndOfOpt = 0
	optTSResol  = 9  // if_tsresol: 1 byte
	optTSOffset = 14 // if_tsoffset: int64 seconds

	// maxInterfaces bounds the interface table of a section (the obsolete
	// packet block has a 16-bit interface id).
	maxInterfaces = 1 << 16
)

// iface is one Interface Description Block of the current section.
type iface struct {
	linkType layers.LinkType
	snapLen  uint32
	binary   bool   // resolution 2^-exp, else 10^-exp
	exp      uint8  // resolution exponent
	unit     uint64 // decimal: 10^exp ticks per second
	scale    uint64 // decimal: 10^|9-exp| between ticks and nanoseconds
	offset   int64  // if_tsoffset, seconds added to every timestamp
}

// setResolution applies an if_tsresol value.
func (i *iface) setResolution(v uint8) error {
	i.binary, i.exp = v&0x80 != 0, v&0x7f
	if i.binary {
		if i.exp > 63 {
			return fmt.Errorf("unsupported if_tsresol 2^-%d", i.exp)
		}
		return nil
	}
	if i.exp > 19 { // 10^20 overflows uint64
		return fmt.Errorf("unsupported if_tsresol 10^-%d", i.exp)
	}
	i.unit = pow10(i.exp)
	if i.exp <= 9 {
		i.scale = pow10(9 - i.exp)
	} else {
		i.scale = pow10(i.exp - 9)
	}
	return nil
}

func pow10(e uint8) uint64 {
	p := uint64(1)
	for range e {
		p *= 10
	}
	return p
}

// time converts a 64-bit pcapng timestamp in this interface's units.
func (i *iface) time(ts uint64) time.Time {
	var sec, ns uint64
	switch {
	case i.binary:
		sec = ts >> i.exp
		if i.exp > 0 {
			hi, lo := bits.Mul64(ts&(1<<i.exp-1), 1e9)
			ns = hi<<(64-i.exp) | lo>>i.exp
		}
	case i.exp <= 9:
		sec, ns = ts/i.unit, ts%i.unit*i.scale
	default:
		sec, ns = ts/i.unit, ts%i.unit/i.scale
	}
	return time.Unix(int64(sec)+i.offset, int64(ns))
}

// checkBlockLen rejects a block length below min or not a multiple of 4.
func (r *reader) checkBlockLen(blen uint32, min uint32) error {
	if blen < min || blen%4 != 0 {
		return fmt.Errorf("invalid block length %d", blen)
	}
	return nil
}

// readSHB reads a section header block at the current offset; it sets the
// byte order of the section and forgets the previous section's interfaces.
func (r *reader) readSHB() error {
	off := r.s.off
	if n := r.s.fill(16); n < 16 {
		return &FormatError{Path: r.path, Offset: off, Err: r.s.short("section header block", 16, int64(n))}
	}
	h := r.s.peek(16)
	switch binary.LittleEndian.Uint32(h[8:]) {
	case byteOrderMagic:
		r.be = false
	case bits.ReverseBytes32(byteOrderMagic):
		r.be = true
	default:
		return &FormatError{Path: r.path, Offset: off,
			Err: fmt.Errorf("section header block: bad byte-order magic %#x", h[8:12])}
	}
	blen := r.u32(h[4:])
	if err := r.checkBlockLen(blen, shbMinLen); err != nil {
		return &FormatError{Path: r.path, Offset: off, Err: fmt.Errorf("section header block: %w", err)}
	}
	if major, minor := r.u16(h[12:]), r.u16(h[14:]); major != 1 || (minor != 0 && minor != 2) {
		return &FormatError{Path: r.path, Offset: off,
			Err: fmt.Errorf("unsupported pcapng version %d.%d", major, minor)}
	}
	if err := r.skipBlock(blen, blockSHB); err != nil {
		return &FormatError{Path: r.path, Offset: off, Err: err}
	}
	r.ifaces = r.ifaces[:0]
	return nil
}

// blockName names a block type in error messages.
func blockName(btype uint32) string {
	switch btype {
	case blockSHB:
		return "section header block"
	case blockIDB:
		return "interface description block"
	case blockEPB:
		return "enhanced packet block"
	case blockSPB:
		return "simple packet block"
	case blockPB:
		return "packet block"
	}
	return fmt.Sprintf("block type %#x", btype)
}

// skipBlock consumes a whole block of length blen whose start is the next
// unread byte, without buffering it, and checks its trailing length.
func (r *reader) skipBlock(blen, btype uint32) error {
	body := int64(blen) - 4
	if n := r.s.skip(body); n < body {
		return r.s.short(blockName(btype), int64(blen), n)
	}
	if n := r.s.fill(4); n < 4 {
		return r.s.short(blockName(btype), int64(blen), body+int64(n))
	}
	if t := r.u32(r.s.take(4)); t != blen {
		return fmt.Errorf("%s: trailing length %d does not match %d", blockName(btype), t, blen)
	}
	return nil
}

// nextPcapng reads blocks until a packet block, the end or an error.
func (r *reader) nextPcapng() (Frame, error) {
	for {
		off := r.s.off
		n := r.s.fill(8)
		if n < 8 {
			if n == 0 && r.s.atEnd() {
				r.err = io.EOF
				return Frame{}, r.err
			}
			if n == 0 {
				return r.fail(off, fmt.Errorf("read: %w", r.s.err))
			}
			return r.fail(off, r.s.short("block header", 8, int64(n)))
		}
		h := r.s.peek(8)
		btype, blen := r.u32(h), r.u32(h[4:])
		switch btype {
		case blockSHB:
			if err := r.readSHB(); err != nil {
				r.err = err
				return Frame{}, err
			}
			continue
		case blockIDB, blockEPB, blockSPB, blockPB:
		default:
			if err := r.checkBlockLen(blen, 12); err != nil {
				return r.fail(off, err)
			}
			if err := r.skipBlock(blen, btype); err != nil {
				return r.fail(off, err)
			}
			continue
		}
		if err := r.checkBlockLen(blen, 12); err != nil {
			return r.fail(off, err)
		}
		if limit := r.s.maxBuf; blen > uint32(limit) {
			return r.fail(off, fmt.Errorf("block length %d exceeds limit %d", blen, limit))
		}
		if n := r.s.fill(int(blen)); n < int(blen) {
			return r.fail(off, r.s.short("block", int64(blen), int64(n)))
		}
		b := r.s.take(int(blen))
		if t := r.u32(b[blen-4:]); t != blen {
			return r.fail(off, fmt.Errorf("trailing block length %d does not match %d", t, blen))
		}
		body := b[8 : blen-4]
		if btype == blockIDB {
			if err := r.addInterface(body); err != nil {
				return r.fail(off, err)
			}
			continue
		}
		fr, err := r.packet(btype, body)
		if err != nil {
			return r.fail(off, err)
		}
		r.seq++
		fr.Seq, fr.Offset, fr.Path = r.seq, off, r.path
		return fr, nil
	}
}

// addInterface parses an Interface Description Block body:
// link type (2), reserved (2), snaplen (4), options.
func (r *reader) addInterface(body []byte) error {
	if len(body) < 8 {
		return errors.New("interface description block too short")
	}
	if len(r.ifaces) >= maxInterfaces {
		return fmt.Errorf("more than %d interfaces in one section", maxInterfaces)
	}
	i := iface{linkType: layers.LinkType(r.u16(body)), snapLen: r.u32(body[4:])}
	if err := i.setResolution(6); err != nil {
		return err
	}
	opts := body[8:]
	for len(opts) >= 4 {
		code, olen := r.u16(opts), int(r.u16(opts[2:]))
		if code == optEndOfOpt {
			break
		}
		padded := (olen + 3) &^ 3
		if 4+padded > len(opts) {
			return fmt.Errorf("interface option %d: length %d overruns the block", code, olen)
		}
		v := opts[4 : 4+olen]
		switch code {
		case optTSResol:
			if olen != 1 {
				return fmt.Errorf("if_tsresol: length %d, want 1", olen)
			}
			if err := i.setResolution(v[0]); err != nil {
				return err
			}
		case optTSOffset:
			if olen != 8 {
				return fmt.Errorf("if_tsoffset: length %d, want 8", olen)
			}
			i.offset = int64(r.u64(v))
		}
		opts = opts[4+padded:]
	}
	r.ifaces = append(r.ifaces, i)
	return nil
}

// packet decodes an EPB, SPB or obsolete PB body into a Frame (without
// Seq, Offset and Path).
func (r *reader) packet(btype uint32, body []byte) (Frame, error) {
	var (
		id          uint32
		ts          uint64
		capl, orig  uint32
		data        []byte
		timestamped = true
	)
	switch btype {
	case blockEPB: // interface id, ts high, ts low, caplen, origlen, data
		if len(body) < 20 {
			return Frame{}, errors.New("enhanced packet block too short")
		}
		id = r.u32(body)
		ts = uint64(r.u32(body[4:]))<<32 | uint64(r.u32(body[8:]))
		capl, orig, data = r.u32(body[12:]), r.u32(body[16:]), body[20:]
	case blockPB: // interface id (2), drops (2), ts high, ts low, caplen, len, data
		if len(body) < 20 {
			return Frame{}, errors.New("packet block too short")
		}
		id = uint32(r.u16(body))
		ts = uint64(r.u32(body[4:]))<<32 | uint64(r.u32(body[8:]))
		capl, orig, data = r.u32(body[12:]), r.u32(body[16:]), body[20:]
	case blockSPB: // original length, data; interface 0, no timestamp
		if len(body) < 4 {
			return Frame{}, errors.New("simple packet block too short")
		}
		orig, data, timestamped = r.u32(body), body[4:], false
		capl = uint32(min(uint64(orig), uint64(len(data))))
		if len(r.ifaces) > 0 && r.ifaces[0].snapLen > 0 {
			capl = min(capl, r.ifaces[0].snapLen)
		}
	}
	if capl > uint32(r.maxPacket) {
		return Frame{}, fmt.Errorf("record length %d exceeds limit %d", capl, r.maxPacket)
	}
	if uint64(capl) > uint64(len(data)) {
		return Frame{}, fmt.Errorf("packet length %d overruns the block (%d bytes)", capl, len(data))
	}
	if uint64(id) >= uint64(len(r.ifaces)) {
		return Frame{}, fmt.Errorf("packet on undefined interface %d (%d defined)", id, len(r.ifaces))
	}
	ifc := &r.ifaces[id]
	fr := Frame{
		Data:     data[:capl:capl],
		WireLen:  int(max(orig, capl)),
		LinkType: ifc.linkType,
	}
	if timestamped {
		fr.Time = ifc.time(ts)
	}
	return fr, nil
}
