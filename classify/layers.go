package classify

import (
	"encoding/binary"
	"errors"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// The gopacket layers package has no DecodingLayer for PPPoE, PPP and MPLS
// (it decodes them only through the allocating Packet API), so these small
// ones fill the gap. They claim gopacket's existing layer types, so the
// container dispatches to them from the EtherType as usual.

var errShort = errors.New("header truncated")

// pppoeLayer decodes a PPPoE session header (RFC 2516) and the PPP protocol
// field that follows it.
type pppoeLayer struct {
	payload []byte
	next    gopacket.LayerType
}

func (l *pppoeLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypePPPoE }
func (l *pppoeLayer) NextLayerType() gopacket.LayerType { return l.next }
func (l *pppoeLayer) LayerPayload() []byte              { return l.payload }

func (l *pppoeLayer) DecodeFromBytes(b []byte, df gopacket.DecodeFeedback) error {
	if len(b) < 8 {
		df.SetTruncated()
		return errShort
	}
	if b[1] != 0 { // code 0 = session data; discovery packets carry no IP
		l.next, l.payload = gopacket.LayerTypeZero, nil
		return nil
	}
	n := int(binary.BigEndian.Uint16(b[4:6]))
	body := b[6:]
	if n < len(body) {
		body = body[:n]
	}
	// The PPP protocol field may be compressed to one byte here too
	// (suricata-pppoe-session-http.pcap).
	proto, rest, ok := pppProtocol(body)
	if !ok {
		return errShort
	}
	l.next, l.payload = pppNext(proto), rest
	return nil
}

// pppLayer decodes a PPP frame (RFC 1661), with or without the HDLC-like
// address and control bytes (0xff 0x03) and with a 1- or 2-byte protocol.
type pppLayer struct {
	payload []byte
	next    gopacket.LayerType
}

func (l *pppLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypePPP }
func (l *pppLayer) NextLayerType() gopacket.LayerType { return l.next }
func (l *pppLayer) LayerPayload() []byte              { return l.payload }

func (l *pppLayer) DecodeFromBytes(b []byte, df gopacket.DecodeFeedback) error {
	if len(b) >= 2 && b[0] == 0xff && b[1] == 0x03 {
		b = b[2:]
	}
	proto, rest, ok := pppProtocol(b)
	if !ok {
		df.SetTruncated()
		return errShort
	}
	l.next, l.payload = pppNext(proto), rest
	return nil
}

// pppProtocol reads a PPP protocol field, two bytes or one when compressed
// (RFC 1661 section 6.5: an odd first byte), and returns what follows it.
func pppProtocol(b []byte) (proto uint16, rest []byte, ok bool) {
	switch {
	case len(b) >= 1 && b[0]&1 == 1:
		return uint16(b[0]), b[1:], true
	case len(b) >= 2:
		return binary.BigEndian.Uint16(b[:2]), b[2:], true
	}
	return 0, nil, false
}

func pppNext(proto uint16) gopacket.LayerType {
	switch proto {
	case 0x0021:
		return layers.LayerTypeIPv4
	case 0x0057:
		return layers.LayerTypeIPv6
	case 0x0281:
		return layers.LayerTypeMPLS
	}
	return gopacket.LayerTypeZero
}

// mplsLayer skips an MPLS label stack (RFC 3032) and guesses what it
// carries, as tshark does: IPv4 or IPv6 from the first nibble, else an
// Ethernet pseudowire with (nibble 0) or without a control word.
type mplsLayer struct {
	payload []byte
	next    gopacket.LayerType
	labels  int
}

func (l *mplsLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypeMPLS }
func (l *mplsLayer) NextLayerType() gopacket.LayerType { return l.next }
func (l *mplsLayer) LayerPayload() []byte              { return l.payload }

func (l *mplsLayer) DecodeFromBytes(b []byte, df gopacket.DecodeFeedback) error {
	l.labels = 0
	for {
		if len(b) < 4 {
			df.SetTruncated()
			return errShort
		}
		bottom := b[2]&1 == 1
		b = b[4:]
		l.labels++
		if bottom {
			break
		}
		if l.labels > 16 {
			return errors.New("mpls: label stack too deep")
		}
	}
	l.payload = b
	if len(b) == 0 {
		l.next = gopacket.LayerTypeZero
		return nil
	}
	switch b[0] >> 4 {
	case 4:
		l.next = layers.LayerTypeIPv4
	case 6:
		l.next = layers.LayerTypeIPv6
	case 0:
		if len(b) < 4 {
			return errShort
		}
		l.payload, l.next = b[4:], layers.LayerTypeEthernet // control word
	default:
		l.next = layers.LayerTypeEthernet
	}
	return nil
}

// ipVersionNext returns the layer type of a raw IP packet from its first nibble.
func ipVersionNext(b []byte) gopacket.LayerType {
	if len(b) == 0 {
		return gopacket.LayerTypeZero
	}
	switch b[0] >> 4 {
	case 4:
		return layers.LayerTypeIPv4
	case 6:
		return layers.LayerTypeIPv6
	}
	return gopacket.LayerTypeZero
}

// nflogPayload returns the packet inside a Linux NFLOG record
// (LINKTYPE_NFLOG, 239): a 4-byte header (address family, version,
// resource id) and TLVs whose length and type are in host byte order,
// which for captures seen in practice is little-endian; NFULA_PAYLOAD (9)
// holds the packet.
func nflogPayload(b []byte) ([]byte, gopacket.LayerType) {
	if len(b) < 4 {
		return nil, gopacket.LayerTypeZero
	}
	family := b[0]
	b = b[4:]
	for len(b) >= 4 {
		n := int(binary.LittleEndian.Uint16(b[0:2]))
		typ := binary.LittleEndian.Uint16(b[2:4]) & 0x7fff
		if n < 4 || n > len(b) {
			return nil, gopacket.LayerTypeZero
		}
		if typ == 9 {
			p := b[4:n]
			switch family {
			case 2:
				return p, layers.LayerTypeIPv4
			case 10:
				return p, layers.LayerTypeIPv6
			}
			return p, ipVersionNext(p)
		}
		adv := (n + 3) &^ 3
		if adv > len(b) {
			break
		}
		b = b[adv:]
	}
	return nil, gopacket.LayerTypeZero
}
