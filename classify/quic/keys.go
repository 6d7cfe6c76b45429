package quic

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"fmt"
)

// maxCIDLen is the longest connection ID QUIC v1 and v2 allow (RFC 9000 Section 17.2).
const maxCIDLen = 20

// keySet is the client Initial protection for one (version, DCID) pair.
type keySet struct {
	ready   bool
	version uint32
	dcidLen uint8
	dcid    [maxCIDLen]byte
	iv      [12]byte
	aead    cipher.AEAD  // AEAD_AES_128_GCM with the "quic key"
	hp      cipher.Block // AES-128 with the "quic hp" key, used as AES-ECB on one block
}

func (k *keySet) matches(version uint32, dcid []byte) bool {
	return k.ready && k.version == version && string(k.dcid[:k.dcidLen]) == string(dcid)
}

// clientSecrets are the raw values derived for the client side, kept apart from keySet so
// that tests can compare them with the published vectors.
type clientSecrets struct {
	initial, client [32]byte
	key, hp         [16]byte
	iv              [12]byte
}

// deriveClientSecrets computes the client Initial secrets of RFC 9001 Section 5.2 (RFC
// 9369 Section 3.3 for v2). Every output is at most one SHA-256 block long, so each
// HKDF-Expand-Label is one HMAC; the HMACs are computed over stack buffers with
// sha256.Sum256, which allocates nothing (crypto/hkdf allocates a keyed HMAC for each
// call, some sixty allocations per new connection).
func deriveClientSecrets(vi versionInfo, dcid []byte) (clientSecrets, error) {
	var s clientSecrets
	if len(dcid) > maxCIDLen || len(vi.salt) > sha256.BlockSize {
		return s, ErrMalformed
	}
	s.initial = hmacSHA256([]byte(vi.salt), dcid) // HKDF-Extract(salt, DCID)
	s.client = expandLabel(&s.initial, "client in", 32)
	prefix := "quic "
	if vi.v2 {
		prefix = "quicv2 "
	}
	key := expandLabel(&s.client, prefix+"key", len(s.key))
	iv := expandLabel(&s.client, prefix+"iv", len(s.iv))
	hp := expandLabel(&s.client, prefix+"hp", len(s.hp))
	copy(s.key[:], key[:])
	copy(s.iv[:], iv[:])
	copy(s.hp[:], hp[:])
	return s, nil
}

// expandLabel is HKDF-Expand-Label of TLS 1.3 (RFC 8446 Section 7.1) with SHA-256, an
// empty context and length at most 32: T(1) = HMAC(secret, info || 0x01), cut to length.
func expandLabel(secret *[32]byte, label string, length int) [32]byte {
	var info [64]byte
	n := copy(info[:], []byte{byte(length >> 8), byte(length), byte(len("tls13 ") + len(label))})
	n += copy(info[n:], "tls13 ")
	n += copy(info[n:], label)
	info[n] = 0 // empty context
	info[n+1] = 1
	out := hmacSHA256(secret[:], info[:n+2])
	clear(out[length:])
	return out
}

// hmacSHA256 is HMAC (RFC 2104) with SHA-256 for a key of at most one block and a
// message of at most 64 bytes, the sizes QUIC's key schedule uses.
func hmacSHA256(key, msg []byte) [32]byte {
	var buf [sha256.BlockSize + 64]byte
	for i := range sha256.BlockSize {
		var k byte
		if i < len(key) {
			k = key[i]
		}
		buf[i] = k ^ 0x36
	}
	n := sha256.BlockSize + copy(buf[sha256.BlockSize:], msg)
	inner := sha256.Sum256(buf[:n])
	for i := range sha256.BlockSize {
		buf[i] ^= 0x36 ^ 0x5c
	}
	copy(buf[sha256.BlockSize:], inner[:])
	return sha256.Sum256(buf[:sha256.BlockSize+sha256.Size])
}

// derive fills k with the client Initial keys for version and dcid.
func (k *keySet) derive(version uint32, vi versionInfo, dcid []byte) error {
	k.ready = false
	if len(dcid) > maxCIDLen {
		return ErrMalformed
	}
	s, err := deriveClientSecrets(vi, dcid)
	if err != nil {
		return err
	}
	block, err := aes.NewCipher(s.key[:])
	if err != nil {
		return fmt.Errorf("quic: packet key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return fmt.Errorf("quic: packet AEAD: %w", err)
	}
	hp, err := aes.NewCipher(s.hp[:])
	if err != nil {
		return fmt.Errorf("quic: header protection key: %w", err)
	}
	k.version = version
	k.dcidLen = uint8(copy(k.dcid[:], dcid))
	k.iv = s.iv
	k.aead = aead
	k.hp = hp
	k.ready = true
	return nil
}
