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

// NameHiding names how a ClientHello hides the server name it is for. It
// is reported as egresswatch.ech (any kind) and egresswatch.ech_kind
// ("esni" only: "ech" is the default).
type NameHiding uint8

const (
	HidingNone NameHiding = iota // zero value: the server_name, if any, is the name
	// HidingECH: an outer encrypted_client_hello extension (0xfe0d); the
	// server_name is the ECH public name, or for GREASE ECH the real name.
	HidingECH
	// HidingESNI: the draft encrypted_server_name extension (0xffce,
	// draft-ietf-tls-esni-00..02, Firefox and Cloudflare 2018-2020); the
	// real name is encrypted and there is usually no server_name at all.
	HidingESNI
)

var nameHidingNames = [...]string{"", "ech", "esni"}

func (h NameHiding) String() string {
	if int(h) < len(nameHidingNames) {
		return nameHidingNames[h]
	}
	return ""
}

// NameHiding returns how a ClientHello observation hides its server name;
// HidingNone for other observations and for the inner hello of ECH.
func (o *Observation) NameHiding() NameHiding {
	switch {
	case o.Hello == nil:
		return HidingNone
	case o.Hello.ESNI:
		return HidingESNI
	case o.Hello.ECH && !o.Hello.ECHInner:
		return HidingECH
	}
	return HidingNone
}
