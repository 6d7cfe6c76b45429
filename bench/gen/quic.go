package main

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// QUIC v1 client Initial protection, RFC 9001 Section 5: the inverse of what package
// classify/quic undoes.

var quicV1Salt = []byte{0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
	0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a}

// initialSealer protects the client Initial packets of one connection attempt.
type initialSealer struct {
	aead cipher.AEAD
	hp   cipher.Block
	iv   [12]byte
}

func hkdfExpandLabel(secret []byte, label string, n int) ([]byte, error) {
	full := "tls13 " + label
	info := []byte{byte(n >> 8), byte(n), byte(len(full))}
	info = append(info, full...)
	info = append(info, 0)
	return hkdf.Expand(sha256.New, secret, string(info), n)
}

func newInitialSealer(dcid []byte) (*initialSealer, error) {
	initial, err := hkdf.Extract(sha256.New, dcid, quicV1Salt)
	if err != nil {
		return nil, fmt.Errorf("quic seal: %w", err)
	}
	client, err := hkdfExpandLabel(initial, "client in", 32)
	if err != nil {
		return nil, fmt.Errorf("quic seal: %w", err)
	}
	key, err1 := hkdfExpandLabel(client, "quic key", 16)
	iv, err2 := hkdfExpandLabel(client, "quic iv", 12)
	hp, err3 := hkdfExpandLabel(client, "quic hp", 16)
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, fmt.Errorf("quic seal: expand: %v %v %v", err1, err2, err3)
	}
	kb, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("quic seal: %w", err)
	}
	aead, err := cipher.NewGCM(kb)
	if err != nil {
		return nil, fmt.Errorf("quic seal: %w", err)
	}
	hb, err := aes.NewCipher(hp)
	if err != nil {
		return nil, fmt.Errorf("quic seal: %w", err)
	}
	s := &initialSealer{aead: aead, hp: hb}
	copy(s.iv[:], iv)
	return s, nil
}

// seal appends to dst one client Initial datagram: a long header with dcid and scid, packet
// number pn (2 bytes on the wire), a CRYPTO frame carrying data at offset off, then PADDING up
// to a datagram of size bytes (at least 1200 as RFC 9000 Section 14.1 asks of clients).
func (s *initialSealer) seal(dst, dcid, scid []byte, pn uint32, off int, data []byte, size int) []byte {
	const pnLen = 2
	var frame []byte
	frame = append(frame, 0x06)
	frame = appendVarint(frame, uint64(off))
	frame = appendVarint(frame, uint64(len(data)))
	frame = append(frame, data...)

	start := len(dst)
	dst = append(dst, 0xc0|(pnLen-1)) // long header, fixed bit, Initial, pn length
	dst = binary.BigEndian.AppendUint32(dst, 1)
	dst = append(dst, byte(len(dcid)))
	dst = append(dst, dcid...)
	dst = append(dst, byte(len(scid)))
	dst = append(dst, scid...)
	dst = append(dst, 0) // token length
	hdrLen := len(dst) - start + 2 + pnLen
	payload := len(frame)
	if min := size - hdrLen - s.aead.Overhead(); payload < min {
		payload = min
	}
	length := pnLen + payload + s.aead.Overhead()
	dst = append(dst, 0x40|byte(length>>8), byte(length)) // 2-byte varint
	pnAt := len(dst)
	dst = append(dst, byte(pn>>8), byte(pn))
	header := dst[start:]
	plain := make([]byte, payload)
	copy(plain, frame) // the rest is PADDING (0x00)
	var nonce [12]byte
	copy(nonce[:], s.iv[:])
	for i := 0; i < 8; i++ {
		nonce[11-i] ^= byte(uint64(pn) >> (8 * i))
	}
	dst = s.aead.Seal(dst, nonce[:], plain, header)
	var mask [16]byte
	s.hp.Encrypt(mask[:], dst[pnAt+4:pnAt+4+16])
	dst[start] ^= mask[0] & 0x0f
	for i := 0; i < pnLen; i++ {
		dst[pnAt+i] ^= mask[1+i]
	}
	return dst
}

func appendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return append(b, 0x40|byte(v>>8), byte(v))
	case v < 1<<30:
		return append(b, 0x80|byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	default:
		return append(b, 0xc0|byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
}
