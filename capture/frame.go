package capture

import (
	"errors"
	"fmt"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Frame is one captured packet as a Source hands it out.
type Frame struct {
	// Data is borrowed: it is valid only until the next call to Next on the
	// Source that returned it. Copy what you keep.
	Data     []byte
	Time     time.Time       // capture timestamp: the only clock the stages use
	WireLen  int             // original length on the wire (>= len(Data))
	LinkType layers.LinkType // per frame: pcapng interfaces may differ
	// Seq is the 1-based frame number within its file (replay) or the
	// running packet count of its ring (live); tshark's frame.number.
	Seq uint64
	// Offset is the byte offset of the frame's record in the (uncompressed)
	// capture stream; -1 for live capture.
	Offset int64
	// Path names the file the frame came from ("-" for stdin, "" for live).
	Path string
}

// Source yields frames until it returns io.EOF.
type Source interface {
	// Next returns the next frame. The frame's Data is valid until the
	// following call. At the end of the input it returns io.EOF; a damaged
	// capture returns a *FormatError after every good frame before it.
	Next() (Frame, error)
	Close() error
}

// FormatError reports a capture file that cannot be read past Offset.
type FormatError struct {
	Path   string
	Offset int64 // byte offset in the uncompressed stream where reading failed
	Err    error
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("%s: offset %d: %v", e.Path, e.Offset, e.Err)
}

func (e *FormatError) Unwrap() error { return e.Err }

// FileError reports a file that cannot be read as a capture at all; Err
// is ErrNotCapture when it is neither pcap nor pcapng.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string { return e.Path + ": " + e.Err.Error() }

func (e *FileError) Unwrap() error { return e.Err }

// ErrTimeout is returned by a live Source's Next when no packet arrived
// within its poll interval. It is not an end: call Next again. It lets a
// reader hand out what it has gathered on a quiet link.
var ErrTimeout = errors.New("capture: no packet within the poll interval")
