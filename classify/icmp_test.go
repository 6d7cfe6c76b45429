package classify

import (
	"testing"

	"github.com/egresswatch/egresswatch/flow"
)

func TestICMPPorts(t *testing.T) {
	for _, tt := range []struct {
		name     string
		proto    flow.Proto
		msg      []byte
		src, dst uint16
		ok       bool
	}{
		{"echo request", flow.ICMP, []byte{8, 0, 0, 0, 0x12, 0x34, 0, 1}, 8, 0, true},
		{"echo reply", flow.ICMP, []byte{0, 0, 0, 0, 0x12, 0x34, 0, 1}, 0, 8, true},
		{"port unreachable", flow.ICMP, []byte{3, 3, 0, 0}, 3, 3, true},
		{"time exceeded", flow.ICMP, []byte{11, 0, 0, 0}, 11, 0, true},
		{"v6 echo request", flow.ICMPv6, []byte{128, 0, 0, 0}, 128, 129, true},
		{"v6 neighbor advertisement", flow.ICMPv6, []byte{136, 0, 0, 0}, 136, 135, true},
		{"v6 packet too big", flow.ICMPv6, []byte{2, 0, 0, 0}, 2, 0, true},
		{"v4 type 128 is not paired", flow.ICMP, []byte{128, 5}, 128, 5, true},
		{"one byte", flow.ICMP, []byte{8}, 0, 0, false},
	} {
		src, dst, ok := icmpPorts(tt.proto, tt.msg)
		if src != tt.src || dst != tt.dst || ok != tt.ok {
			t.Errorf("%s: icmpPorts = %d, %d, %v; want %d, %d, %v", tt.name, src, dst, ok, tt.src, tt.dst, tt.ok)
		}
	}
}
