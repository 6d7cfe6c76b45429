package quic

// Version numbers of the QUIC versions whose Initial packets this package can open.
const (
	Version1       uint32 = 0x00000001 // RFC 9000
	Version2       uint32 = 0x6b3343cf // RFC 9369
	VersionDraft29 uint32 = 0xff00001d
	VersionDraft27 uint32 = 0xff00001b
	VersionT051    uint32 = 0x54303531 // Google T051: TLS 1.3 over IETF long headers
	VersionQ050    uint32 = 0x51303530 // Google Q050: QUIC Crypto over IETF long headers
)

// Long header packet types, normalised to the QUIC v1 encoding (RFC 9000 Section 17.2).
const (
	typeInitial   = 0
	typeZeroRTT   = 1
	typeHandshake = 2
	typeRetry     = 3
)

// versionInfo holds what differs between QUIC versions for Initial protection.
type versionInfo struct {
	salt string // 20 bytes
	v2   bool   // QUIC v2: "quicv2 " labels and rotated packet type bits
	// quicCrypto: Google QUIC frames (CRYPTO is type 0x08) carrying a QUIC Crypto
	// handshake message (a CHLO) instead of a TLS ClientHello: Q050.
	quicCrypto bool
}

// Initial salts, as published in RFC 9001 Section 5.2, RFC 9369 Section 3.3.1, the
// drafts draft-ietf-quic-tls-23 and -29, and for Google's Q050, T050 and T051 by Chromium
// (its QUIC library's initial salts for the versions that use initial obfuscators;
// Wireshark's QUIC dissector uses the same Q050 salt).
const (
	saltV1      = "\x38\x76\x2c\xf7\xf5\x59\x34\xb3\x4d\x17\x9a\xe6\xa4\xc8\x0c\xad\xcc\xbb\x7f\x0a"
	saltV2      = "\x0d\xed\xe3\xde\xf7\x00\xa6\xdb\x81\x93\x81\xbe\x6e\x26\x9d\xcb\xf9\xbd\x2e\xd9"
	saltDraft23 = "\xc3\xee\xf7\x12\xc7\x2e\xbb\x5a\x11\xa7\xd2\x43\x2b\xb4\x63\x65\xbe\xf9\xf5\x02"
	saltDraft29 = "\xaf\xbf\xec\x28\x99\x93\xd2\x4c\x9e\x97\x86\xf1\x9c\x61\x11\xe0\x43\x90\xa8\x99"
	saltQ050    = "\x50\x45\x74\xef\xd0\x66\xfe\x2f\x9d\x94\x5c\xfc\xdb\xd3\xa7\xf0\xd3\xb5\x6b\x45"
	saltT050    = "\x7f\xf5\x79\xe5\xac\xd0\x72\x91\x55\x80\x30\x4c\x43\xa2\x36\x7c\x60\x48\x83\x10"
	saltT051    = "\x7a\x4e\xde\xf4\xe7\xcc\xee\x5f\xa4\x50\x6c\x19\x12\x4f\xc8\xcc\xda\x6e\x03\x3d"
)

// lookupVersion reports the Initial parameters of version v, or false for versions this
// package cannot open (including 0, Version Negotiation).
func lookupVersion(v uint32) (versionInfo, bool) {
	switch {
	case v == Version1:
		return versionInfo{salt: saltV1}, true
	case v == Version2:
		return versionInfo{salt: saltV2, v2: true}, true
	case v >= 0xff000017 && v <= 0xff00001c: // drafts 23..28
		return versionInfo{salt: saltDraft23}, true
	case v >= 0xff00001d && v <= 0xff000020: // drafts 29..32
		return versionInfo{salt: saltDraft29}, true
	case v == 0xff000021 || v == 0xff000022: // drafts 33, 34 already use the v1 salt
		return versionInfo{salt: saltV1}, true
	case v == 0xfaceb002 || v == 0xfaceb00e: // Facebook mvfst, draft-27 keys
		return versionInfo{salt: saltDraft23}, true
	case v == VersionQ050:
		return versionInfo{salt: saltQ050, quicCrypto: true}, true
	case v == 0x54303530: // Google T050
		return versionInfo{salt: saltT050}, true
	case v == VersionT051:
		return versionInfo{salt: saltT051}, true
	}
	return versionInfo{}, false
}

// KnownVersion reports whether Feed can open Initial packets of QUIC version v.
func KnownVersion(v uint32) bool {
	_, ok := lookupVersion(v)
	return ok
}

// packetType maps the two type bits of a long header first byte to the v1 numbering.
// QUIC v2 rotates them: Initial 0b01, 0-RTT 0b10, Handshake 0b11, Retry 0b00.
func (vi versionInfo) packetType(b0 byte) int {
	t := int(b0>>4) & 3
	if vi.v2 {
		t = (t + 3) & 3
	}
	return t
}
