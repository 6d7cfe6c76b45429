package quic

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
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
// 9369 Section 3.3 for v2).
func deriveClientSecrets(vi versionInfo, dcid []byte) (clientSecrets, error) {
	var s clientSecrets
	initial, err := hkdf.Extract(sha256.New, dcid, []byte(vi.salt))
	if err != nil {
		return s, fmt.Errorf("quic: initial secret: %w", err)
	}
	copy(s.initial[:], initial)
	client, err := expandLabel(initial, "client in", 32)
	if err != nil {
		return s, err
	}
	copy(s.client[:], client)
	prefix := "quic "
	if vi.v2 {
		prefix = "quicv2 "
	}
	for _, x := range []struct {
		label string
		dst   []byte
	}{{prefix + "key", s.key[:]}, {prefix + "iv", s.iv[:]}, {prefix + "hp", s.hp[:]}} {
		b, err := expandLabel(client, x.label, len(x.dst))
		if err != nil {
			return s, err
		}
		copy(x.dst, b)
	}
	return s, nil
}

// expandLabel is HKDF-Expand-Label of TLS 1.3 (RFC 8446 Section 7.1) with SHA-256 and an
// empty context.
func expandLabel(secret []byte, label string, length int) ([]byte, error) {
	full := "tls13 " + label
	info := make([]byte, 0, 4+len(full))
	info = append(info, byte(length>>8), byte(length), byte(len(full)))
	info = append(info, full...)
	info = append(info, 0) // empty context
	out, err := hkdf.Expand(sha256.New, secret, string(info), length)
	if err != nil {
		return nil, fmt.Errorf("quic: expand label %q: %w", label, err)
	}
	return out, nil
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
