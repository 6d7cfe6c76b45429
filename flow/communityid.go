package flow

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
)

// CommunityID returns the Community ID v1 flow hash of k with the given
// seed (0 is the default everybody uses), as Zeek, Suricata and Elastic emit
// it: "1:" followed by the base64 of a SHA-1 over seed, the ordered
// addresses, the protocol, a zero pad byte and the ordered ports.
// See https://github.com/corelight/community-id-spec.
//
// Only port-bearing protocols are ordered by (address, port); for others
// the ports are zero. ICMP keys from classify already carry the spec's
// ICMP "ports": the type, and the counterpart type or else the code.
func CommunityID(k Key, seed uint16) string {
	var buf [2 + 16 + 16 + 2 + 4]byte
	return string(AppendCommunityID(buf[:0], k, seed))
}

// AppendCommunityID appends the Community ID of k to dst.
func AppendCommunityID(dst []byte, k Key, seed uint16) []byte {
	a, b := k.Src, k.Dst
	if endpointLess(b, a) {
		a, b = b, a
	}
	var in [2 + 16 + 16 + 1 + 1 + 4]byte
	binary.BigEndian.PutUint16(in[0:2], seed)
	n := 2
	if a.Addr().Is4() || a.Addr().Is4In6() {
		x, y := a.Addr().Unmap().As4(), b.Addr().Unmap().As4()
		n += copy(in[n:], x[:])
		n += copy(in[n:], y[:])
	} else {
		x, y := a.Addr().As16(), b.Addr().As16()
		n += copy(in[n:], x[:])
		n += copy(in[n:], y[:])
	}
	in[n] = byte(k.Proto)
	in[n+1] = 0
	n += 2
	binary.BigEndian.PutUint16(in[n:], a.Port())
	binary.BigEndian.PutUint16(in[n+2:], b.Port())
	n += 4
	sum := sha1.Sum(in[:n])
	dst = append(dst, "1:"...)
	return base64.StdEncoding.AppendEncode(dst, sum[:])
}
