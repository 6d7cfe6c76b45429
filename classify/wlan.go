package classify

import (
	"encoding/binary"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// wlanLayer decodes an IEEE 802.11 data frame without FCS, as Aruba
// controllers tunnel their access points' traffic in GRE (protocol 0x8200),
// down to the LLC/SNAP header and the EtherType it names. It claims
// gopacket's Dot11 layer type; gopacket's own Dot11 decoder allocates.
//
// Frames it cannot take further are not errors of the capture: management
// and control frames carry no IP (undecoded stays false), while protected
// (encrypted) data frames and data without LLC/SNAP set undecoded, which
// the Decoder counts (DecodeStats.WLANUndecoded).
type wlanLayer struct {
	payload   []byte
	next      gopacket.LayerType
	src, dst  [6]byte // the station that sent the frame, and its destination
	hasAddr   bool
	undecoded bool
}

func (l *wlanLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypeDot11 }
func (l *wlanLayer) NextLayerType() gopacket.LayerType { return l.next }
func (l *wlanLayer) LayerPayload() []byte              { return l.payload }

// 802.11 frame control bits (first byte: subtype, type, version; second:
// flags).
const (
	wlanTypeData  = 2
	wlanToDS      = 0x01
	wlanFromDS    = 0x02
	wlanProtected = 0x40
	wlanOrder     = 0x80 // with QoS data: an HT Control field follows
)

func (l *wlanLayer) DecodeFromBytes(b []byte, df gopacket.DecodeFeedback) error {
	l.next, l.payload, l.hasAddr, l.undecoded = gopacket.LayerTypeZero, nil, false, false
	if len(b) < 24 {
		df.SetTruncated()
		return errShort
	}
	fc, flags := b[0], b[1]
	if fc&3 != 0 || fc>>2&3 != wlanTypeData { // protocol version 0, data frames only
		return nil
	}
	subtype := fc >> 4
	n := 24
	if flags&(wlanToDS|wlanFromDS) == wlanToDS|wlanFromDS {
		n += 6 // Address 4 (WDS, mesh)
	}
	if subtype&8 != 0 { // QoS data
		n += 2
		if flags&wlanOrder != 0 {
			n += 4
		}
	}
	if len(b) < n {
		df.SetTruncated()
		return errShort
	}
	// Source and destination addresses by the DS bits (802.11-2020 table
	// 9-26): to the DS, SA is Address 2 and DA Address 3; from it, DA is
	// Address 1 and SA Address 3; both, SA is Address 4.
	sa, da := b[10:16], b[4:10]
	switch flags & (wlanToDS | wlanFromDS) {
	case wlanToDS:
		da = b[16:22]
	case wlanFromDS:
		sa = b[16:22]
	case wlanToDS | wlanFromDS:
		sa, da = b[24:30], b[16:22]
	}
	copy(l.src[:], sa)
	copy(l.dst[:], da)
	l.hasAddr = true
	if subtype&4 != 0 { // Null and QoS Null: no frame body
		return nil
	}
	body := b[n:]
	if flags&wlanProtected != 0 || len(body) < 8 || body[0] != 0xaa || body[1] != 0xaa || body[2] != 0x03 {
		l.undecoded = true // encrypted, or not LLC/SNAP
		return nil
	}
	l.next = layers.EthernetType(binary.BigEndian.Uint16(body[6:8])).LayerType()
	l.payload = body[8:]
	return nil
}
