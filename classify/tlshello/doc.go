// Package tlshello recognises the first flight of a TLS client and parses its
// ClientHello: server name (SNI), ALPN, offered versions, cipher suites,
// extensions, Encrypted Client Hello / ESNI markers and the JA4 fingerprint.
//
// The flow for a TCP stream is
//
//	if !tlshello.LooksLikeTLS(payload) { ... not TLS, try something else ... }
//	msg, st, need := tlshello.Assemble(stream, scratch) // records -> handshake message
//	switch st {
//	case tlshello.StatusNeedMore: // buffer at least need more bytes, call again
//	case tlshello.StatusNotTLS:   // give up on this stream
//	case tlshello.StatusComplete:
//		err := tlshello.ParseInto(&hello, msg)
//	}
//
// QUIC carries the handshake message without TLS records; the quic package
// hands the reassembled CRYPTO bytes straight to Parse or ParseInto.
//
// Borrowing: Assemble returns a message that may alias stream (when it sits in
// one record) or scratch; it is valid until either is reused. ParseInto copies
// every string it keeps (ServerName, ALPN, JA4), so the ClientHello stays
// valid after msg is reused. ParseInto reuses the slices of the ClientHello it
// fills, and reuses the previous strings when the new values are equal, so a
// worker that keeps one ClientHello allocates nothing in the steady state
// except the strings that change.
//
// ParseInto also computes the JA4 fingerprint (TLS over TCP); it is about
// half of the parse time (two SHA-256 sums over short strings) and allocates
// nothing. QUIC callers recompute it with AppendJA4(dst, JA4QUIC).
//
// Names: ServerName is lower-cased (ASCII only) and otherwise kept as sent;
// a host_name with control bytes, spaces or invalid UTF-8 is not returned
// (ServerNameInvalid is set instead).
//
// Parsers are total: malformed input returns an error wrapping ErrMalformed,
// ErrTruncated or ErrNotClientHello; they never panic and never size a
// buffer from a length field. The package imports no project packages and no
// gopacket; it reads the wire format with golang.org/x/crypto/cryptobyte.
package tlshello
