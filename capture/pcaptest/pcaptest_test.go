package pcaptest_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/egresswatch/egresswatch/capture"
	"github.com/egresswatch/egresswatch/capture/pcaptest"
)

func TestTicks(t *testing.T) {
	tm := time.Unix(1700000000, 123456789)
	for _, tt := range []struct {
		name string
		ifc  pcaptest.Interface
		want uint64
	}{
		{"default microseconds", pcaptest.Interface{}, 1700000000_123456},
		{"nanoseconds", pcaptest.Interface{TSResol: 9}, 1700000000_123456789},
		{"milliseconds with offset", pcaptest.Interface{TSResol: 3, TSOffset: 1700000000}, 123},
		{"2^-10", pcaptest.Interface{TSResol: 0x80 | 10}, 1700000000<<10 | 126}, // 0.123456789*1024 = 126.4
		{"10^-10", pcaptest.Interface{TSResol: 10}, 1700000000_1234567890},
	} {
		if got := pcaptest.Ticks(tm, tt.ifc); got != tt.want {
			t.Errorf("%s: Ticks = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// TestRoundTrip reads written files back with package capture.
func TestRoundTrip(t *testing.T) {
	ps := []pcaptest.Packet{
		{Time: time.Unix(1, 5000), Data: []byte{1, 2, 3}},
		{Time: time.Unix(2, 0), Data: []byte{4}, WireLen: 100},
	}
	var pcap, ng bytes.Buffer
	if err := pcaptest.WritePcap(&pcap, layers.LinkTypeRaw, true, binary.BigEndian, ps); err != nil {
		t.Fatal(err)
	}
	if err := pcaptest.WritePcapng(&ng, pcaptest.Section{
		Order:      binary.BigEndian,
		Interfaces: []pcaptest.Interface{{LinkType: layers.LinkTypeRaw, TSResol: 9}},
		Packets:    ps,
	}); err != nil {
		t.Fatal(err)
	}
	for name, raw := range map[string][]byte{"pcap": pcap.Bytes(), "pcapng": ng.Bytes()} {
		src, err := capture.NewReader(bytes.NewReader(raw), name)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range ps {
			fr, err := src.Next()
			if err != nil {
				t.Fatalf("%s frame %d: %v", name, i+1, err)
			}
			wire := max(p.WireLen, len(p.Data))
			if !bytes.Equal(fr.Data, p.Data) || !fr.Time.Equal(p.Time) || fr.WireLen != wire || fr.LinkType != layers.LinkTypeRaw {
				t.Errorf("%s frame %d = %+v, want %+v", name, i+1, fr, p)
			}
		}
		if _, err := src.Next(); err != io.EOF {
			t.Errorf("%s: end = %v, want io.EOF", name, err)
		}
	}
}
