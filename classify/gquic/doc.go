// Package gquic reads the client hello (CHLO) of Google QUIC with QUIC
// Crypto, the protocol Chrome spoke before IETF QUIC, and the server name
// it carries in its SNI tag.
//
// Versions Q024 to Q043 use the gQUIC public header (flags, an 8-byte
// connection ID, the version, a packet number of 1 to 6 bytes); Q046 uses
// an IETF-style long header with a "Q046" version. In both, the client's
// first packets are not encrypted, only authenticated by a 12-byte hash
// (null encryption), so the CHLO can be read where it is: a STREAM frame of
// stream 1 holds a QUIC Crypto handshake message, the tag "CHLO", a count
// of entries, a table of (tag, end offset) pairs and their values, all
// little-endian (tshark's gquic dissector, field gquic.tag.sni).
//
// Q050 and the T05x versions protect their Initial packets with keys
// derived from the connection ID as IETF QUIC does, and package
// classify/quic opens them: T05x carry a TLS ClientHello, Q050 a CHLO in
// CRYPTO frames, which classify/quic reassembles and ParseMessage reads.
//
// Frames before the STREAM frame are walked when their length is fixed
// (PADDING, PING, STOP_WAITING, WINDOW_UPDATE, BLOCKED, RST_STREAM); when
// an ACK frame, whose layout changed from version to version, comes first,
// the CHLO is found by its tag instead and accepted only if its tag table is
// consistent.
//
// Parse and ParseMessage never panic, allocate nothing and keep nothing:
// CHLO.SNI and CHLO.UAID point into the bytes they were given.
package gquic
