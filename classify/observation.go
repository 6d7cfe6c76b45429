package classify

import (
	"net/netip"

	"github.com/egresswatch/egresswatch/classify/gquic"
	"github.com/egresswatch/egresswatch/classify/tlshello"
)

// App is the application protocol an Observation reports.
type App uint8

const (
	AppUnknown App = iota // zero value: nothing recognised
	AppDNS
	AppTLS
	AppHTTP
	AppQUIC
)

var appNames = [...]string{"unknown", "dns", "tls", "http", "quic"}

func (a App) String() string {
	if n, ok := deviceAppName(a); ok {
		return n
	}
	if int(a) < len(appNames) {
		return appNames[a]
	}
	return "unknown"
}

// Observation is one application-level fact: a DNS message, a TLS or QUIC
// ClientHello, an HTTP request. Packet is the packet that completed it
// (for a reassembled message, the last piece, as tshark numbers it).
// Observations and everything they point to are valid until the next call
// to Inspect; strings are copies and may be kept.
type Observation struct {
	App    App
	Packet *Packet
	DNS    *DNSMessage           // AppDNS
	Hello  *tlshello.ClientHello // AppTLS, AppQUIC
	HTTP   HTTPRequest           // AppHTTP
	DHCP   *DHCPMessage          // AppDHCP
	NBNS   *NBNSMessage          // AppNBNS
	// QUICVersion is the version of the Initial that carried Hello; for
	// Google QUIC (see GoogleQUIC), of the packet that carried the CHLO,
	// whose Hello then holds only the server name.
	QUICVersion uint32
}

// DNSMessage is the part of a DNS message egresswatch reports.
type DNSMessage struct {
	ID       uint16
	Response bool
	Opcode   uint8
	RCode    uint16 // including the EDNS extended bits when an OPT record is present
	QName    string // as on the wire, without the trailing dot; "" when there is no question
	QType    uint16
	QClass   uint16
	Answers  []DNSRecord // answer section
	// Partial is set when only the header and question could be read
	// (the rest of the message is malformed or cut short).
	Partial   bool
	Truncated bool // TC bit
	// ECH is set when an HTTPS/SVCB answer carries an ech parameter;
	// ECHPublicNames are the public names of its configs (see
	// tlshello.ECHPublicNames), the names a client using them puts in the
	// outer ClientHello.
	ECH            bool
	ECHPublicNames []string
}

// DNSRecord is one resource record of the answer section.
type DNSRecord struct {
	Name string
	Type uint16
	TTL  uint32
	Data string     // the RDATA in presentation form: an address, a target name, ...
	Addr netip.Addr // set for A and AAAA
}

// HTTPRequest is the request line and Host of a plaintext HTTP/1.x request.
type HTTPRequest struct {
	Method string
	Host   string // without a :port suffix, lower-case
	Port   uint16 // port given in Host, 0 if none
	Target string // request target, cut to 2048 bytes
}

// GoogleQUIC reports whether v is a Google QUIC version with QUIC Crypto
// ("Q046" as big-endian ASCII): its hello is a CHLO, not a TLS ClientHello.
func GoogleQUIC(v uint32) bool { return gquic.IsVersion(v) }
