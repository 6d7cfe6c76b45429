package classify

import "strings"

// BlindSpot names encrypted DNS: traffic that resolves names where the
// passive DNS cache cannot see them, so later flows of the device may go
// unnamed. It is reported as egresswatch.blind_spot.
type BlindSpot uint8

const (
	BlindNone BlindSpot = iota // zero value: nothing hidden that egresswatch knows of
	BlindDoT                   // DNS over TLS (RFC 7858): TLS to TCP 853, or ALPN "dot"
	BlindDoQ                   // DNS over QUIC (RFC 9250): QUIC to UDP 853, or ALPN "doq"
	// BlindDoH is DNS over HTTPS (RFC 8484). It shares port 443 with all
	// other HTTPS and is told by its destination, a known resolver; the
	// pipeline sets it from the policy's encrypted-dns service.
	BlindDoH
)

var blindSpotNames = [...]string{"", "dot", "doq", "doh"}

func (b BlindSpot) String() string {
	if int(b) < len(blindSpotNames) {
		return blindSpotNames[b]
	}
	return ""
}

// DoTPort and DoQPort are the IANA ports of DNS over TLS and DNS over
// QUIC (both 853, "domain-s").
const (
	DoTPort = 853
	DoQPort = 853
)

// EncryptedDNS returns what a ClientHello observation (AppTLS or AppQUIC)
// shows of encrypted DNS by port and ALPN alone: BlindDoT for TLS to TCP
// 853 or with ALPN "dot", BlindDoQ for QUIC to UDP 853 or with ALPN "doq"
// (or a draft's "doq-i..."). It never returns BlindDoH, which needs the
// destination's identity. The hello is sent by the client, so the
// packet's destination port is the server's.
func (o *Observation) EncryptedDNS() BlindSpot {
	if o.Hello == nil || o.Packet == nil {
		return BlindNone
	}
	port := o.Packet.Key.Dst.Port()
	switch o.App {
	case AppTLS:
		if port == DoTPort || hasALPN(o.Hello.ALPN, "dot") {
			return BlindDoT
		}
	case AppQUIC:
		if port == DoQPort {
			return BlindDoQ
		}
		for _, a := range o.Hello.ALPN {
			if a == "doq" || strings.HasPrefix(a, "doq-i") {
				return BlindDoQ
			}
		}
	}
	return BlindNone
}

func hasALPN(list []string, proto string) bool {
	for _, a := range list {
		if a == proto {
			return true
		}
	}
	return false
}
