package tlshello

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
)

// JA4 transports, the first character of a JA4 fingerprint.
const (
	JA4TCP  byte = 't'
	JA4QUIC byte = 'q'
	JA4DTLS byte = 'd'
)

// JA4Len is the length of a JA4 fingerprint: a_b_c with 10, 12 and 12 chars.
const JA4Len = 36

// IsGREASE reports whether v is one of the RFC 8701 GREASE values
// (0x0a0a, 0x1a1a, ..., 0xfafa).
func IsGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}

// AppendJA4 appends the JA4 fingerprint of h (FoxIO JA4 specification) for the
// given transport (JA4TCP, JA4QUIC or JA4DTLS) to dst. It uses h's scratch
// buffers and allocates only if dst has no room.
func (h *ClientHello) AppendJA4(dst []byte, transport byte) []byte {
	dst = append(dst, transport)
	dst = append(dst, ja4Version(h)...)
	if slices.Contains(h.Extensions, ExtServerName) {
		dst = append(dst, 'd')
	} else {
		dst = append(dst, 'i')
	}
	ciphers := 0
	for _, c := range h.CipherSuites {
		if !IsGREASE(c) {
			ciphers++
		}
	}
	exts := 0
	for _, e := range h.Extensions {
		if !IsGREASE(e) {
			exts++
		}
	}
	dst = appendCount(dst, ciphers)
	dst = appendCount(dst, exts)
	dst = appendALPNChars(dst, h.ALPN)
	dst = append(dst, '_')

	// b: sorted cipher suites.
	h.sortBuf = h.sortBuf[:0]
	for _, c := range h.CipherSuites {
		if !IsGREASE(c) {
			h.sortBuf = append(h.sortBuf, c)
		}
	}
	slices.Sort(h.sortBuf)
	h.textBuf = appendHexList(h.textBuf[:0], h.sortBuf)
	dst = appendTruncHash(dst, h.textBuf, len(h.sortBuf) == 0)
	dst = append(dst, '_')

	// c: sorted extensions without SNI and ALPN, then signature algorithms.
	h.sortBuf = h.sortBuf[:0]
	for _, e := range h.Extensions {
		if !IsGREASE(e) && e != ExtServerName && e != ExtALPN {
			h.sortBuf = append(h.sortBuf, e)
		}
	}
	slices.Sort(h.sortBuf)
	h.textBuf = appendHexList(h.textBuf[:0], h.sortBuf)
	noExts := len(h.sortBuf) == 0
	h.sortBuf = h.sortBuf[:0]
	for _, s := range h.SignatureAlgs {
		if !IsGREASE(s) {
			h.sortBuf = append(h.sortBuf, s)
		}
	}
	if len(h.sortBuf) > 0 {
		h.textBuf = append(h.textBuf, '_')
		h.textBuf = appendHexList(h.textBuf, h.sortBuf)
	}
	return appendTruncHash(dst, h.textBuf, noExts)
}

// ja4String computes the JA4 fingerprint and returns old when it is equal,
// so that a repeated client costs no allocation.
func ja4String(h *ClientHello, transport byte, old string) string {
	var buf [JA4Len + 8]byte
	b := h.AppendJA4(buf[:0], transport)
	if old == string(b) {
		return old
	}
	return string(b)
}

func ja4Version(h *ClientHello) string {
	v := h.Version
	if slices.Contains(h.Extensions, ExtSupportedVersions) {
		v = 0
		for _, sv := range h.SupportedVersions {
			if !IsGREASE(sv) && sv > v {
				v = sv
			}
		}
	}
	switch v {
	case 0x0304:
		return "13"
	case 0x0303:
		return "12"
	case 0x0302:
		return "11"
	case 0x0301:
		return "10"
	case 0x0300:
		return "s3"
	case 0x0002:
		return "s2"
	case 0xfeff:
		return "d1"
	case 0xfefd:
		return "d2"
	case 0xfefc:
		return "d3"
	}
	return "00"
}

func appendCount(dst []byte, n int) []byte {
	n = min(n, 99)
	return append(dst, byte('0'+n/10), byte('0'+n%10))
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// appendALPNChars appends the first and last characters of the first ALPN
// value, or of its hex form when either is not alphanumeric, or "00".
func appendALPNChars(dst []byte, alpn []string) []byte {
	if len(alpn) == 0 || alpn[0] == "" {
		return append(dst, '0', '0')
	}
	a := alpn[0]
	first, last := a[0], a[len(a)-1]
	if isAlnum(first) && isAlnum(last) {
		return append(dst, first, last)
	}
	const digits = "0123456789abcdef"
	return append(dst, digits[first>>4], digits[last&0x0f])
}

func appendHexList(dst []byte, vals []uint16) []byte {
	for i, v := range vals {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = hex.AppendEncode(dst, []byte{byte(v >> 8), byte(v)})
	}
	return dst
}

// appendTruncHash appends the first 12 hex digits of SHA-256(text), or twelve
// zeros when empty is set.
func appendTruncHash(dst, text []byte, empty bool) []byte {
	if empty {
		return append(dst, "000000000000"...)
	}
	sum := sha256.Sum256(text)
	return hex.AppendEncode(dst, sum[:6])
}
