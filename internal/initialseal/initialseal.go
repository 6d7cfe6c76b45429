// Package initialseal builds client Initial packets of the QUIC versions
// with IETF long headers, for tests and for the capture generator: Google
// Q050 above all, which has no capture to check the decoder against, and
// QUIC v1 for the generated captures.
//
// The key schedule is written apart from classify/quic's, on crypto/hkdf,
// crypto/aes and crypto/cipher, from the published description, so a test
// that opens these packets with classify/quic checks one implementation
// against another. Chromium's Q050 initial obfuscators follow
// draft-ietf-quic-tls (RFC 9001 Section 5 kept the scheme): initial_secret =
// HKDF-Extract(salt, client DCID) with SHA-256 and the version's salt;
// client_secret = HKDF-Expand-Label(initial_secret, "client in", "", 32);
// from it the AEAD_AES_128_GCM key ("quic key", 16 bytes), IV ("quic iv",
// 12) and header protection key ("quic hp", 16). The nonce is the IV XOR the
// packet number; header protection (RFC 9001 Section 5.4) masks the four low
// bits of the first byte and the packet number with AES-ECB of a 16-byte
// sample taken 4 bytes after the packet number starts.
//
// What a Q050 packet carries is Google QUIC: frames in its encoding
// (CRYPTO is type 0x08 with the IETF body, PADDING 0x00, see CryptoFrame)
// and a QUIC Crypto handshake message (Message, CHLO) in the CRYPTO stream.
//
// Nothing here is used by the running program.
package initialseal

import (
	"cmp"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"slices"
)

// Version is Q050 on the wire: the ASCII bytes "Q050".
const Version uint32 = 0x51303530

// SaltV1 returns the initial salt of QUIC v1 (RFC 9001 Section 5.2).
func SaltV1() []byte {
	return []byte{
		0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
		0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
	}
}

// Salt returns the Q050 initial salt, as Chromium's QUIC library publishes
// it for the version (Wireshark's QUIC dissector uses the same bytes).
func Salt() []byte {
	return []byte{
		0x50, 0x45, 0x74, 0xef, 0xd0, 0x66, 0xfe, 0x2f, 0x9d, 0x94,
		0x5c, 0xfc, 0xdb, 0xd3, 0xa7, 0xf0, 0xd3, 0xb5, 0x6b, 0x45,
	}
}

// Initial describes one client Initial packet.
type Initial struct {
	// Version on the wire, 0 for Q050; one with the packet type bits of
	// QUIC v1 (not v2).
	Version uint32
	Salt    []byte // initial salt; nil for Salt(), Q050's
	KeyCID  []byte // the DCID the keys come from; DCID when nil
	DCID    []byte // destination connection ID in the header
	SCID    []byte // source connection ID (Chrome sends none)
	PN      uint32 // packet number
	PNLen   int    // packet number length, 1..4; 0 for 4
	Frames  []byte // plaintext frames (see CryptoFrame)
	// Size pads the frames with PADDING so the packet is at least this
	// long, as clients pad their Initials to 1200 bytes or more.
	Size int
}

// Seal builds and protects the Initial.
func Seal(in Initial) ([]byte, error) {
	salt, keyCID, pnLen := in.Salt, in.KeyCID, in.PNLen
	if salt == nil {
		salt = Salt()
	}
	if keyCID == nil {
		keyCID = in.DCID
	}
	if pnLen == 0 {
		pnLen = 4
	}
	if pnLen > 4 || len(in.DCID) > 20 || len(in.SCID) > 20 {
		return nil, errors.New("initialseal: bad packet number length or connection ID")
	}
	key, iv, hp, err := clientKeys(salt, keyCID)
	if err != nil {
		return nil, err
	}

	hdr := []byte{0xc0 | byte(pnLen-1)} // long header, fixed bit, type Initial (0)
	version := in.Version
	if version == 0 {
		version = Version
	}
	hdr = binary.BigEndian.AppendUint32(hdr, version)
	hdr = append(hdr, byte(len(in.DCID)))
	hdr = append(hdr, in.DCID...)
	hdr = append(hdr, byte(len(in.SCID)))
	hdr = append(hdr, in.SCID...)
	hdr = append(hdr, 0) // token length
	payload := slices.Clone(in.Frames)
	// Room for the header protection sample: 4 bytes after the packet
	// number starts, 16 bytes long, the AEAD tag counting.
	short := max(4-pnLen-len(payload), in.Size-(len(hdr)+2+pnLen+len(payload)+16))
	if short > 0 {
		payload = append(payload, make([]byte, short)...)
	}
	length := pnLen + len(payload) + 16
	if length >= 1<<14 {
		return nil, errors.New("initialseal: packet too long")
	}
	hdr = append(hdr, 0x40|byte(length>>8), byte(length)) // two-byte variable-length integer
	pnOffset := len(hdr)
	for i := pnLen - 1; i >= 0; i-- {
		hdr = append(hdr, byte(in.PN>>(8*i)))
	}

	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	nonce := slices.Clone(iv)
	for i := range 4 {
		nonce[len(nonce)-1-i] ^= byte(in.PN >> (8 * i))
	}
	pkt := aead.Seal(hdr, nonce, payload, hdr)

	hpBlock, err := aes.NewCipher(hp)
	if err != nil {
		return nil, err
	}
	var mask [16]byte
	hpBlock.Encrypt(mask[:], pkt[pnOffset+4:pnOffset+4+16])
	pkt[0] ^= mask[0] & 0x0f
	for i := range pnLen {
		pkt[pnOffset+i] ^= mask[1+i]
	}
	return pkt, nil
}

// clientKeys derives the client Initial packet key, IV and header
// protection key.
func clientKeys(salt, dcid []byte) (key, iv, hp []byte, err error) {
	initial, err := hkdf.Extract(sha256.New, dcid, salt)
	if err != nil {
		return nil, nil, nil, err
	}
	client, err := hkdf.Expand(sha256.New, initial, label("client in", 32), 32)
	if err != nil {
		return nil, nil, nil, err
	}
	if key, err = hkdf.Expand(sha256.New, client, label("quic key", 16), 16); err != nil {
		return nil, nil, nil, err
	}
	if iv, err = hkdf.Expand(sha256.New, client, label("quic iv", 12), 12); err != nil {
		return nil, nil, nil, err
	}
	hp, err = hkdf.Expand(sha256.New, client, label("quic hp", 16), 16)
	return key, iv, hp, err
}

// label is the HkdfLabel of TLS 1.3 (RFC 8446 Section 7.1) for an empty
// context: length (2 bytes), "tls13 " + label with a length byte, and an
// empty context.
func label(name string, length int) string {
	full := "tls13 " + name
	b := []byte{byte(length >> 8), byte(length), byte(len(full))}
	b = append(b, full...)
	return string(append(b, 0))
}

// CryptoFrame returns a Google QUIC CRYPTO frame: type 0x08, the offset and
// the length as QUIC variable-length integers, the data.
func CryptoFrame(off uint64, data []byte) []byte {
	f := appendVarint([]byte{0x08}, off)
	f = appendVarint(f, uint64(len(data)))
	return append(f, data...)
}

func appendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return binary.BigEndian.AppendUint16(b, uint16(v)|0x4000)
	case v < 1<<30:
		return binary.BigEndian.AppendUint32(b, uint32(v)|0x8000_0000)
	}
	return binary.BigEndian.AppendUint64(b, v|0xc000_0000_0000_0000)
}

// Tag is one entry of a QUIC Crypto handshake message. Tag names shorter
// than four bytes are padded with NULs ("SNI" is "SNI\x00").
type Tag struct {
	Name  string
	Value []byte
}

// Message builds a QUIC Crypto handshake message with tag msg ("CHLO"): the
// tag, the entry count and two bytes of padding, the (tag, end offset)
// table sorted by tag as a little-endian number, as QUIC Crypto requires,
// and the values. All numbers are little-endian.
func Message(msg string, tags ...Tag) []byte {
	type entry struct {
		tag   uint32
		value []byte
	}
	entries := make([]entry, 0, len(tags))
	for _, t := range tags {
		var name [4]byte
		copy(name[:], t.Name)
		entries = append(entries, entry{binary.LittleEndian.Uint32(name[:]), t.Value})
	}
	slices.SortFunc(entries, func(a, b entry) int { return cmp.Compare(a.tag, b.tag) })
	var name [4]byte
	copy(name[:], msg)
	m := append([]byte(nil), name[:]...)
	m = binary.LittleEndian.AppendUint16(m, uint16(len(entries)))
	m = append(m, 0, 0)
	end := uint32(0)
	for _, e := range entries {
		end += uint32(len(e.value))
		m = binary.LittleEndian.AppendUint32(m, e.tag)
		m = binary.LittleEndian.AppendUint32(m, end)
	}
	for _, e := range entries {
		m = append(m, e.value...)
	}
	return m
}

// CHLO builds a client hello for sni as Chrome's first (inchoate) Q050
// CHLO looks: PAD to fill it up, SNI, VER "Q050", a user agent, and a few
// connection parameters.
func CHLO(sni string) []byte {
	return Message("CHLO",
		Tag{"PAD", make([]byte, 600)},
		Tag{"SNI", []byte(sni)},
		Tag{"VER", []byte("Q050")},
		Tag{"UAID", []byte("Chrome/80.0.3987.132 Linux x86_64")},
		Tag{"PDMD", []byte("X509")},
		Tag{"ICSL", []byte{0x1e, 0, 0, 0}},
		Tag{"MIDS", []byte{0x64, 0, 0, 0}},
		Tag{"CFCW", []byte{0, 0, 0xf0, 0}},
		Tag{"SFCW", []byte{0, 0, 0x60, 0}},
	)
}
