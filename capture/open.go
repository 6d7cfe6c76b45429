package capture

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/klauspost/compress/zstd"
)

// ErrNotCapture is wrapped, in a *FileError naming the file, by the error
// of a file that is neither pcap nor pcapng (after decompression).
var ErrNotCapture = errors.New("not a capture file (pcap or pcapng)")

// DefaultMaxPacket is the largest packet record a reader accepts unless
// WithMaxPacket says otherwise (libpcap's and Wireshark's limit too).
const DefaultMaxPacket = 256 << 10

// blockOverhead is what a pcapng packet block may carry besides the packet
// bytes (block header, fixed fields, options such as comments).
const blockOverhead = 64 << 10

// Option configures OpenFile, NewReader and OpenAll.
type Option func(*options)

type options struct {
	maxPacket int
	onError   func(error)
	progress  func(n int64) // on-disk bytes read (Multi)
}

func buildOptions(opts []Option) options {
	o := options{maxPacket: DefaultMaxPacket}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxPacket <= 0 {
		o.maxPacket = DefaultMaxPacket
	}
	return o
}

// WithMaxPacket sets the largest packet record accepted, in bytes; a record
// claiming more is a *FormatError. n <= 0 means DefaultMaxPacket.
func WithMaxPacket(n int) Option { return func(o *options) { o.maxPacket = n } }

// WithErrorHandler makes a Multi call fn with each per-file error as it
// happens (in addition to collecting it for Multi.Errors). fn runs on the
// goroutine that calls Next. Ignored by OpenFile and NewReader.
func WithErrorHandler(fn func(error)) Option { return func(o *options) { o.onError = fn } }

// OpenFile opens one capture file, or standard input when path is "-".
// The format (pcap, pcapng, gzip- or zstd-compressed) comes from the magic
// number. A file that is not a capture gives a *FileError wrapping
// ErrNotCapture; a damaged header gives a *FormatError.
func OpenFile(path string, opts ...Option) (Source, error) {
	r, err := openFile(path, buildOptions(opts))
	if err != nil {
		return nil, err
	}
	return r, nil
}

func openFile(path string, o options) (*reader, error) {
	var f *os.File
	if path == "-" {
		f = os.Stdin
	} else {
		var err error
		if f, err = os.Open(path); err != nil {
			return nil, fmt.Errorf("capture: %w", err)
		}
		if st, err := f.Stat(); err == nil && st.IsDir() {
			f.Close()
			return nil, fmt.Errorf("capture: %s: is a directory", path)
		}
	}
	var in io.Reader = f
	if o.progress != nil {
		in = &countingReader{r: f, add: o.progress}
	}
	r, err := newReader(in, path, o)
	if err != nil {
		if f != os.Stdin {
			f.Close()
		}
		return nil, err
	}
	if f != os.Stdin {
		r.file = f
	}
	return r, nil
}

// NewReader reads a capture from r, which may be compressed like a file
// given to OpenFile. path names the capture in frames and errors. The
// Source does not close r.
func NewReader(r io.Reader, path string, opts ...Option) (Source, error) {
	rd, err := newReader(r, path, buildOptions(opts))
	if err != nil {
		return nil, err
	}
	return rd, nil
}

var (
	magicGzip = []byte{0x1f, 0x8b}
	magicZstd = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

func newReader(in io.Reader, path string, o options) (*reader, error) {
	br := bufio.NewReaderSize(in, 4096)
	head, err := br.Peek(4)
	if err != nil && err != io.EOF {
		return nil, &FormatError{Path: path, Err: fmt.Errorf("read: %w", err)}
	}
	var (
		src    io.Reader = br
		closer io.Closer
	)
	switch {
	case bytes.HasPrefix(head, magicGzip):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, &FormatError{Path: path, Err: fmt.Errorf("gzip: %w", err)}
		}
		src, closer = zr, zr
	case bytes.HasPrefix(head, magicZstd):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, &FormatError{Path: path, Err: fmt.Errorf("zstd: %w", err)}
		}
		src, closer = zr, zstdCloser{zr}
	}
	r := &reader{
		path:      path,
		maxPacket: o.maxPacket,
		closer:    closer,
		s:         newStream(src, o.maxPacket+blockOverhead),
	}
	if err := r.start(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

type zstdCloser struct{ d *zstd.Decoder }

func (z zstdCloser) Close() error { z.d.Close(); return nil }

// countingReader reports every byte read from the file on disk.
type countingReader struct {
	r   io.Reader
	add func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.add(int64(n))
	}
	return n, err
}

// errClosed is returned by Next after Close.
var errClosed = fmt.Errorf("capture: read after Close: %w", fs.ErrClosed)
