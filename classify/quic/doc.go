// Package quic recovers a client's TLS ClientHello from the QUIC Initial packets it sends.
//
// Initial packets are encrypted, but with keys anyone can compute: they are derived from the
// Destination Connection ID of the client's first Initial and a salt fixed by the QUIC
// version (RFC 9001 Section 5.2). The package removes header protection (RFC 9001 Section
// 5.4), opens the AEAD_AES_128_GCM payload, walks the frames and reassembles the CRYPTO
// stream by offset until the ClientHello handshake message is whole. Parsing the
// ClientHello (SNI, ALPN) is left to the caller (package classify/tlshello).
//
// Supported versions: QUIC v1 (RFC 9000), QUIC v2 (RFC 9369: its own salt, "quicv2" labels
// and packet type bits), IETF drafts 23 to 34, Facebook mvfst 0xfaceb002/0xfaceb00e
// (draft-27 keys) and Google T050/T051 (TLS over IETF-style long headers, their own salts).
//
// Google Q050 protects its Initials the same way (its own salt, the draft labels,
// AEAD_AES_128_GCM, header protection), but its frames are Google QUIC's (CRYPTO is type
// 0x08 there) and its CRYPTO stream carries a QUIC Crypto handshake message, a CHLO,
// instead of a TLS ClientHello. For Q050 Feed reassembles that message and Result.Hello
// holds it once whole; reading its tags (SNI) is left to the caller (package
// classify/gquic). The older Google QUIC versions (Q024..Q046) send their CHLO without
// encryption and are not handled here.
//
// Usage: keep one Conn per client-to-server UDP flow and feed it the flow's datagrams until
// Result.Complete:
//
//	var c quic.Conn
//	for each datagram d from client to server {
//		res, err := c.Feed(d)
//		if err != nil { count it; continue }
//		if res.Complete { parse res.Hello; break }
//	}
//	c.Reset() // ready for another flow, buffers and cached keys are kept
//
// Connection IDs and Retry: the Initial keys of a connection attempt come from the DCID of
// the client's first Initial. Later client Initials of the same attempt may carry a
// different DCID (the one the server chose) but keep the original keys, so a Conn first
// tries the keys it has latched. Only if they fail does it derive keys from the packet's
// own DCID; when those open the packet, it is the first flight of a new attempt (after a
// Retry, or a new connection reusing the 5-tuple), which resends the ClientHello from
// offset 0, so the Conn latches the new keys and discards the CRYPTO data gathered so
// far. Server Initials use the server's keys and fail authentication, so they never mix in.
//
// Coalesced packets: every long-header packet in a datagram is visited; Initials are
// decrypted, 0-RTT and Handshake packets are skipped by their Length field, and processing
// stops at a short header, a Retry, a Version Negotiation packet, trailing padding or a
// packet whose DCID differs from the first one (RFC 9000 Section 12.2).
//
// Bounds: at most 64 KiB of CRYPTO data and 32 disjoint received ranges per Conn; frames
// beyond that are dropped with ErrLimit. Memory and time per datagram are linear in its size.
//
// Allocation contract: Feed does not allocate once a Conn's buffers have grown and the keys
// for the DCID are known. Deriving keys for a new DCID allocates (HKDF, AES and GCM
// setup); a Conn caches the two most recent key sets and keeps them across Reset. Errors
// are sentinel values (compare with errors.Is) so the error path does not allocate either.
//
// Borrowed bytes: Feed never modifies or retains the datagram. Result.DCID and Result.Hello
// point into the Conn and are valid until the next Feed or Reset; copy what you keep.
//
// A Conn is not safe for concurrent use.
package quic
