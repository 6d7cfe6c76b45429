package classify

import (
	"net/netip"
	"time"

	"github.com/egresswatch/egresswatch/flow"
)

// Result says how far Decode got with a frame.
type Result uint8

const (
	ResultUnknown   Result = iota // zero value: not decoded
	ResultL4                      // TCP, UDP, ICMP or ICMPv6: Packet.Key and Payload are set (ICMP: see icmpPorts)
	ResultIP                      // IP without TCP/UDP/ICMP (ESP, GRE not followed, ...): addresses set, ports zero
	ResultFragment                // an IP fragment held for reassembly; nothing to report yet
	ResultNonIP                   // ARP, LLDP, STP, ...: nothing egresswatch follows
	ResultMalformed               // a header did not decode; counted in Stats.Malformed
)

// TunnelKind names an encapsulation the decoder removed.
type TunnelKind uint8

const (
	TunnelNone TunnelKind = iota
	TunnelGRE
	TunnelERSPAN
	TunnelVXLAN
	TunnelGeneve
	TunnelTeredo
	TunnelIPinIP // 6in4, 4in4, 4in6, 6in6
	TunnelGTPU
)

var tunnelNames = [...]string{"", "gre", "erspan", "vxlan", "geneve", "teredo", "ip-in-ip", "gtp-u"}

func (k TunnelKind) String() string {
	if int(k) < len(tunnelNames) {
		return tunnelNames[k]
	}
	return "unknown"
}

// Tunnel records the outermost encapsulation of a packet whose inner
// packet is what the Packet describes.
type Tunnel struct {
	Kind     TunnelKind
	Src, Dst netip.Addr // outer IP addresses
	ID       uint32     // VXLAN/Geneve VNI, GRE key, ERSPAN session id
	HasID    bool
}

// TCP flag bits as on the wire.
const (
	FlagFIN = 0x01
	FlagSYN = 0x02
	FlagRST = 0x04
	FlagPSH = 0x08
	FlagACK = 0x10
)

// Packet is the decoded L2–L4 view of one frame. Slices are borrowed (see
// the package doc).
type Packet struct {
	Time time.Time
	// Clock, when set by the caller, is a monotonic packet clock (the
	// latest packet time seen so far across the whole input) that flow
	// expiry follows instead of Time: captures whose times go backwards
	// (files out of order, clock steps) then expire flows the same way
	// however the packets are sharded.
	Clock   time.Time
	Seq     uint64 // frame number in its file
	Path    string // capture file, "" for live
	WireLen int

	Key flow.Key // as seen on the wire: Src sent this packet

	// Sender is the link-layer identity of the device that sent the
	// packet (its MAC and VLAN tags); DstMAC the receiver's MAC, set when
	// Sender.HasMAC is.
	Sender flow.Device
	DstMAC [6]byte
	Tunnel Tunnel

	TCPFlags uint8
	TCPSeq   uint32
	// Payload is the transport payload (TCP or UDP data; for ICMP, the
	// message from its type on).
	Payload []byte
	// Reassembled is set when the packet was rebuilt from IP fragments;
	// Seq then names the frame of the last fragment, as tshark does, and
	// WireLen and Frames count all its fragments' frames.
	Reassembled bool
	// Frames is how many frames the packet came in: its fragments' when
	// reassembled; 0 means 1.
	Frames uint16
}
