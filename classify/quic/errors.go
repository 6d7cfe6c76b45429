package quic

import "errors"

// Errors returned by Feed. They are fixed values so that rejecting a datagram costs no
// allocation; compare them with errors.Is.
var (
	// ErrNoInitial: the datagram holds no long-header Initial packet (short header,
	// 0-RTT or Handshake only, Retry, or not QUIC at all).
	ErrNoInitial = errors.New("quic: no Initial packet in datagram")
	// ErrVersionNegotiation: the datagram is a Version Negotiation packet (version 0).
	ErrVersionNegotiation = errors.New("quic: version negotiation packet")
	// ErrUnknownVersion: a long header with a version whose Initial keys are unknown.
	ErrUnknownVersion = errors.New("quic: unsupported version")
	// ErrMalformed: a header or frame that does not parse (truncated, bad lengths).
	ErrMalformed = errors.New("quic: malformed packet")
	// ErrDecrypt: the Initial did not authenticate with the client Initial keys (a server
	// Initial, a corrupted packet, or a DCID whose first flight was not seen).
	ErrDecrypt = errors.New("quic: Initial packet authentication failed")
	// ErrFrame: a frame type that may not appear in an Initial packet. Frames before it
	// are kept.
	ErrFrame = errors.New("quic: unexpected frame type in Initial")
	// ErrNotClientHello: the CRYPTO stream does not start with a ClientHello.
	ErrNotClientHello = errors.New("quic: CRYPTO stream is not a ClientHello")
	// ErrLimit: CRYPTO data beyond 64 KiB, or too many gaps; the frame was dropped.
	ErrLimit = errors.New("quic: CRYPTO reassembly limit reached")
)
