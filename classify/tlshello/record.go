package tlshello

// Limits applied to the record layer and the handshake message. Anything
// larger is not a ClientHello this package will wait for.
const (
	// RecordHeaderLen is the size of a TLS record header: type, version, length.
	RecordHeaderLen = 5
	// MaxRecordLen is the largest record payload accepted: 2^14 plus the
	// 2048 bytes of expansion TLSCiphertext allows (RFC 8446 section 5.2).
	MaxRecordLen = 1<<14 + 2048
	// MaxHandshakeLen is the largest ClientHello body accepted (64 KiB).
	MaxHandshakeLen = 1 << 16

	contentTypeHandshake   = 22
	handshakeTypeClientHlo = 1
	handshakeHeaderLen     = 4
)

// Status is the verdict of Assemble on a stream prefix.
type Status uint8

const (
	// StatusNeedMore (the zero value) means the bytes are plausible so far;
	// call Assemble again when more of the stream has arrived.
	StatusNeedMore Status = iota
	// StatusNotTLS means the bytes cannot start a TLS ClientHello: give up.
	StatusNotTLS
	// StatusComplete means the whole ClientHello handshake message is there.
	StatusComplete
)

// String returns a short lower-case name for the status.
func (s Status) String() string {
	switch s {
	case StatusNeedMore:
		return "need-more"
	case StatusNotTLS:
		return "not-tls"
	case StatusComplete:
		return "complete"
	}
	return "invalid"
}

// LooksLikeTLS is the cheap first-bytes test for "this stream starts with a
// TLS handshake record": content type 22, major version 3, minor version 0 to
// 4, and, when those bytes are present, a non-zero record length no larger
// than MaxRecordLen and handshake type 1 (ClientHello) in the sixth byte. It
// needs at least three bytes; shorter input returns false.
func LooksLikeTLS(b []byte) bool {
	if len(b) < 3 || b[0] != contentTypeHandshake || b[1] != 3 || b[2] > 4 {
		return false
	}
	if len(b) >= RecordHeaderLen {
		n := int(b[3])<<8 | int(b[4])
		if n == 0 || n > MaxRecordLen {
			return false
		}
	}
	return len(b) < 6 || b[5] == handshakeTypeClientHlo
}

// plausibleHeaderPrefix reports whether b (shorter than a record header)
// could begin a handshake record header.
func plausibleHeaderPrefix(b []byte) bool {
	switch {
	case len(b) >= 3 && b[2] > 4:
		return false
	case len(b) >= 2 && b[1] != 3:
		return false
	case len(b) >= 1 && b[0] != contentTypeHandshake:
		return false
	}
	return true
}

// Assemble looks at the start of a TCP byte stream (client to server, first
// flight) and says whether it is TLS handshake records carrying a
// ClientHello. It concatenates the handshake fragments of consecutive records:
// a ClientHello may span several records and the records several TCP
// segments.
//
//   - StatusNotTLS: the bytes cannot be a TLS ClientHello (wrong content type,
//     version, record or message length, or handshake type): give up.
//   - StatusNeedMore: plausible so far; call again with more bytes. need is a
//     lower bound on how many more bytes are required (at least 1).
//   - StatusComplete: msg is the whole handshake message (type 1, 3-byte
//     length, body). msg aliases stream when the message sits in one record;
//     otherwise it is built in scratch (appended to scratch[:0], which grows
//     if too small). Bytes after the message are ignored.
//
// Assemble does not allocate when the message sits in one record or scratch
// has room for it.
func Assemble(stream []byte, scratch []byte) (msg []byte, status Status, need int) {
	var hdr [handshakeHeaderLen]byte
	have := 0      // handshake bytes seen so far, over all records
	msgLen := -1   // total message length (header + body), once known
	firstFrag := 0 // handshake bytes carried by the first record
	off := 0
	for rec := 0; ; rec++ {
		rest := stream[off:]
		if len(rest) < RecordHeaderLen {
			if !plausibleHeaderPrefix(rest) {
				return nil, StatusNotTLS, 0
			}
			need = RecordHeaderLen - len(rest)
			if msgLen > have {
				need += msgLen - have
			} else {
				need++ // a record carries at least one byte
			}
			return nil, StatusNeedMore, need
		}
		if rest[0] != contentTypeHandshake || rest[1] != 3 || rest[2] > 4 {
			return nil, StatusNotTLS, 0
		}
		recLen := int(rest[3])<<8 | int(rest[4])
		if recLen == 0 || recLen > MaxRecordLen {
			return nil, StatusNotTLS, 0
		}
		frag := rest[RecordHeaderLen:min(len(rest), RecordHeaderLen+recLen)]
		// Collect the 4-byte handshake header, which may itself be split.
		i := 0
		for ; have < handshakeHeaderLen && i < len(frag); i++ {
			hdr[have] = frag[i]
			have++
			if have == 1 && hdr[0] != handshakeTypeClientHlo {
				return nil, StatusNotTLS, 0
			}
			if have == handshakeHeaderLen {
				body := int(hdr[1])<<16 | int(hdr[2])<<8 | int(hdr[3])
				if body > MaxHandshakeLen {
					return nil, StatusNotTLS, 0
				}
				msgLen = handshakeHeaderLen + body
			}
		}
		have += len(frag) - i
		if rec == 0 {
			firstFrag = len(frag)
		}
		if msgLen >= 0 && have >= msgLen {
			break
		}
		if len(frag) < recLen {
			// The record itself is cut short; the message may end inside it.
			remaining := recLen - len(frag)
			switch {
			case msgLen < 0:
				need = min(remaining, handshakeHeaderLen-have)
			case msgLen-have <= remaining:
				need = msgLen - have
			default:
				need = remaining + RecordHeaderLen + msgLen - have - remaining
			}
			return nil, StatusNeedMore, need
		}
		off += RecordHeaderLen + recLen
	}
	if firstFrag >= msgLen {
		m := stream[RecordHeaderLen : RecordHeaderLen+msgLen]
		return m[:msgLen:msgLen], StatusComplete, 0
	}
	// Second pass: concatenate the fragments into scratch.
	out := scratch[:0]
	off = 0
	for len(out) < msgLen {
		recLen := int(stream[off+3])<<8 | int(stream[off+4])
		frag := stream[off+RecordHeaderLen : min(len(stream), off+RecordHeaderLen+recLen)]
		out = append(out, frag[:min(len(frag), msgLen-len(out))]...)
		off += RecordHeaderLen + recLen
	}
	return out, StatusComplete, 0
}
