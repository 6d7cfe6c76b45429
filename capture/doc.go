// Package capture turns packet sources into a stream of Frames.
//
// The replay side reads capture files: classic pcap (microsecond and
// nanosecond, either byte order, and the Kuznetzov "modified" variant) and
// pcapng (several sections with their own byte order, several interfaces
// with their own link type, if_tsresol and if_tsoffset), each optionally
// gzip- or zstd-compressed. The format is detected from the magic number,
// never from the file name.
//
//	src, err := capture.OpenFile("trace.pcapng.gz")
//	if err != nil { ... }
//	defer src.Close()
//	for {
//		fr, err := src.Next()
//		if err == io.EOF { break }
//		if err != nil { ... } // *FormatError: every good frame came first
//		use(fr)               // fr.Data is valid until the next call to Next
//	}
//
// OpenAll reads many files (directories are walked, see Expand) one after
// another as one Source; a damaged file is recorded (Multi.Errors) and the
// next file is read. Multi.Progress reports on-disk bytes read and total.
//
// Allocation contract: a Source owns one read buffer. Frame.Data points into
// it and is valid only until the next call to Next; Next allocates nothing
// once the buffer has grown to the largest record seen. The buffer never
// grows beyond the per-packet limit (DefaultMaxPacket, WithMaxPacket) plus
// block overhead: a record that claims a larger length is a *FormatError,
// never a large allocation.
//
// Errors: a file that is not a capture is a *FileError (with its Path)
// wrapping ErrNotCapture; a damaged file yields *FormatError with the byte
// offset (in the uncompressed stream) of the bad record or block. Callers
// use errors.Is and errors.As, never the text.
package capture
