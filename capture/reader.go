package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gopacket/gopacket/layers"
)

type format uint8

const (
	formatPcap format = iota + 1
	formatPcapng
)

// reader is the Source of one capture stream (pcap or pcapng).
type reader struct {
	path      string
	maxPacket int
	s         *stream
	file      *os.File  // closed by Close; nil for stdin and NewReader
	closer    io.Closer // decompressor, if any
	format    format
	err       error // sticky: io.EOF, a *FormatError or errClosed
	seq       uint64

	// pcap
	be       bool // big-endian file
	nanos    bool // nanosecond timestamps
	hdrLen   int  // record header length: 16, or 24 for the modified format
	linkType layers.LinkType

	// pcapng: the current section
	ifaces []iface
}

// u16 and u32 read the file's byte order; a bool beats an interface call.
func (r *reader) u16(b []byte) uint16 {
	if r.be {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (r *reader) u32(b []byte) uint32 {
	if r.be {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *reader) u64(b []byte) uint64 {
	if r.be {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}

// fail records err at offset off as the sticky error and returns it.
func (r *reader) fail(off int64, err error) (Frame, error) {
	r.err = &FormatError{Path: r.path, Offset: off, Err: err}
	return Frame{}, r.err
}

// start reads the file header (pcap) or first section header (pcapng).
func (r *reader) start() error {
	n := r.s.fill(4)
	if n < 4 {
		if r.s.err != nil && r.s.err != io.EOF {
			return &FormatError{Path: r.path, Err: fmt.Errorf("read: %w", r.s.err)}
		}
		return &FileError{Path: r.path, Err: ErrNotCapture}
	}
	m := r.s.peek(4)
	le, be := binary.LittleEndian.Uint32(m), binary.BigEndian.Uint32(m)
	switch {
	case be == blockSHB:
		r.format = formatPcapng
		return r.readSHB()
	case le == magicMicro || be == magicMicro:
		r.be = be == magicMicro
	case le == magicNano || be == magicNano:
		r.be, r.nanos = be == magicNano, true
	case le == magicModified || be == magicModified:
		r.be = be == magicModified
	default:
		return &FileError{Path: r.path, Err: ErrNotCapture}
	}
	r.format = formatPcap
	return r.readPcapHeader()
}

// Next returns the next frame; see Source.
func (r *reader) Next() (Frame, error) {
	if r.err != nil {
		return Frame{}, r.err
	}
	if r.format == formatPcap {
		return r.nextPcap()
	}
	return r.nextPcapng()
}

// Close releases the file; Next then fails.
func (r *reader) Close() error {
	if r.err == errClosed {
		return nil
	}
	r.err = errClosed
	var errs []error
	if r.closer != nil {
		errs = append(errs, r.closer.Close())
	}
	if r.file != nil {
		errs = append(errs, r.file.Close())
	}
	return errors.Join(errs...)
}
