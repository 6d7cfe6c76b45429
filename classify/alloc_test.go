package classify

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/egresswatch/egresswatch/flow"
)

// bulkFrames are the data packets the hot path sees most: TCP data on a
// plain Ethernet link, behind one 802.1Q tag, behind QinQ, and over IPv6.
func bulkFrames(tb testing.TB) []struct {
	name  string
	frame []byte
	vlans []uint16
} {
	payload := bytes.Repeat([]byte{0x17, 0x03, 0x03, 0x01, 0x00}, 100)
	v6c := netip.MustParseAddrPort("[2001:db8::10]:49152")
	v6s := netip.MustParseAddrPort("[2001:db8::20]:443")
	return []struct {
		name  string
		frame []byte
		vlans []uint16
	}{
		{"eth-ipv4-tcp", tcpFrame(tb, segSpec{src: testClient, dst: testServer, seq: 1000, flags: FlagACK | FlagPSH, payload: payload}), nil},
		{"vlan-ipv4-tcp", tcpFrame(tb, segSpec{src: testClient, dst: testServer, seq: 1000, flags: FlagACK, payload: payload, vlans: []uint16{42}}), []uint16{42}},
		{"qinq-ipv4-tcp", tcpFrame(tb, segSpec{src: testClient, dst: testServer, seq: 1000, flags: FlagACK, payload: payload, vlans: []uint16{100, 120}}), []uint16{100, 120}},
		{"eth-ipv6-tcp", tcpFrame(tb, segSpec{src: v6c, dst: v6s, seq: 1000, flags: FlagACK, payload: payload}), nil},
	}
}

// TestDecodeBulk checks what Decode makes of the bulk frames before
// TestDecodeAllocs measures it.
func TestDecodeBulk(t *testing.T) {
	d := NewDecoder(Options{})
	for _, tc := range bulkFrames(t) {
		var p Packet
		if r := d.Decode(ethCapture(tc.frame), &p); r != ResultL4 {
			t.Fatalf("%s: Decode = %d; want ResultL4", tc.name, r)
		}
		if p.Key.Proto != flow.TCP || p.Key.Src.Port() != 49152 || p.Key.Dst.Port() != 443 {
			t.Errorf("%s: key = %v", tc.name, p.Key)
		}
		if p.TCPSeq != 1000 || len(p.Payload) != 500 || p.Payload[0] != 0x17 {
			t.Errorf("%s: seq %d, payload %d bytes", tc.name, p.TCPSeq, len(p.Payload))
		}
		if int(p.Sender.NVLAN) != len(tc.vlans) {
			t.Errorf("%s: NVLAN = %d; want %d", tc.name, p.Sender.NVLAN, len(tc.vlans))
		}
		for i, id := range tc.vlans {
			if p.Sender.VLAN[i] != id {
				t.Errorf("%s: VLAN[%d] = %d; want %d", tc.name, i, p.Sender.VLAN[i], id)
			}
		}
		if !p.Sender.HasMAC || !bytes.Equal(p.Sender.MAC[:], testClientMAC) {
			t.Errorf("%s: Sender.MAC = %x", tc.name, p.Sender.MAC)
		}
	}
}

// TestDecodeAllocs guards the package doc's claim: decoding a data packet
// allocates nothing.
func TestDecodeAllocs(t *testing.T) {
	d := NewDecoder(Options{})
	var p Packet
	for _, tc := range bulkFrames(t) {
		fr := ethCapture(tc.frame)
		if n := testing.AllocsPerRun(200, func() { d.Decode(fr, &p) }); n != 0 {
			t.Errorf("%s: Decode allocates %.1f times per frame; want 0", tc.name, n)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, tc := range bulkFrames(b) {
		b.Run(tc.name, func(b *testing.B) {
			d := NewDecoder(Options{})
			var p Packet
			fr := ethCapture(tc.frame)
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.frame)))
			for b.Loop() {
				d.Decode(fr, &p)
			}
		})
	}
}

// flowSetup feeds packets to a fresh Stream and returns it.
func flowSetup(in *Inspector, pkts ...struct {
	p    *Packet
	init bool
}) *Stream {
	st := new(Stream)
	for _, x := range pkts {
		in.Inspect(st, x.p, x.init)
	}
	return st
}

type dirPkt = struct {
	p    *Packet
	init bool
}

// TestInspectBulkAllocs: once a flow has told what it will tell, its data
// packets cost no allocation, whether or not the caller checks Done.
func TestInspectBulkAllocs(t *testing.T) {
	hello := recordedHello(t)
	c, s := testClient, testServer
	appData := bytes.Repeat([]byte{0x17, 0x03, 0x03, 0x00, 0x10}, 60)
	tests := []struct {
		name     string
		setup    []dirPkt
		bulk     *Packet
		init     bool
		wantDone bool
	}{
		{
			name: "tls-after-hello", // both directions finished: Stream.Done
			setup: []dirPkt{
				{tcpPacket(c, s, 100, FlagSYN, nil), true},
				{tcpPacket(s, c, 900, FlagSYN|FlagACK, nil), false},
				{tcpPacket(c, s, 101, FlagACK, hello), true},
				{tcpPacket(s, c, 901, FlagACK, []byte{0x16, 0x03, 0x03, 0x00, 0x02, 0x02, 0x00}), false},
				{tcpPacket(c, s, 101+uint32(len(hello)), FlagACK, appData), true},
				{tcpPacket(s, c, 908, FlagACK, appData), false},
			},
			bulk:     tcpPacket(c, s, 101+uint32(len(hello)+len(appData)), FlagACK, appData),
			init:     true,
			wantDone: true,
		},
		{
			name: "unrecognised-after-first", // the client's half gave up at its first segment
			setup: []dirPkt{
				{tcpPacket(c, s, 100, FlagSYN, nil), true},
				{tcpPacket(c, s, 101, FlagACK, []byte("\x00\x00\x00\x10binary protocol")), true},
			},
			bulk: tcpPacket(c, s, 120, FlagACK, appData),
			init: true,
		},
		{
			name: "http-body", // between requests: body bytes are not looked at
			setup: []dirPkt{
				{tcpPacket(c, s, 100, FlagSYN, nil), true},
				{tcpPacket(c, s, 101, FlagACK, []byte("POST /upload HTTP/1.1\r\nHost: up.example.com\r\nContent-Length: 100000\r\n\r\n")), true},
			},
			bulk: tcpPacket(c, s, 200, FlagACK, appData),
			init: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := NewInspector()
			st := flowSetup(in, tc.setup...)
			if st.Done() != tc.wantDone {
				t.Fatalf("Done() = %v after setup; want %v", st.Done(), tc.wantDone)
			}
			if in.Stats.TLSHellos+in.Stats.HTTPRequests == 0 && tc.name != "unrecognised-after-first" {
				t.Fatalf("setup recognised nothing: %+v", in.Stats)
			}
			p := *tc.bulk
			q := new(Packet) // observations point at the packet, so it lives on the heap, as in a Worker
			n := testing.AllocsPerRun(200, func() {
				*q = p // Inspect may adjust the packet (SYN data); keep the input fixed
				if obs := in.Inspect(st, q, tc.init); len(obs) != 0 {
					t.Fatalf("bulk packet produced %d observations", len(obs))
				}
			})
			if n != 0 {
				t.Errorf("Inspect allocates %.1f times per bulk packet; want 0", n)
			}
		})
	}
}

// BenchmarkInspectTLSHello measures finding the SNI in a real (post-quantum,
// 1.5 KB) ClientHello, in one segment and split over three.
func BenchmarkInspectTLSHello(b *testing.B) {
	hello := recordedHello(b)
	for _, parts := range []int{1, 3} {
		name := "1seg"
		if parts == 3 {
			name = "3seg"
		}
		b.Run(name, func(b *testing.B) {
			in := NewInspector()
			var st Stream
			n := (len(hello) + parts - 1) / parts
			p := new(Packet) // one packet, reused, as a Worker does
			b.ReportAllocs()
			b.SetBytes(int64(len(hello)))
			for b.Loop() {
				st.Release() // a new flow each time, as in a capture
				found := false
				for off := 0; off < len(hello); off += n {
					end := min(off+n, len(hello))
					*p = *tcpPacket(testClient, testServer, 101+uint32(off), FlagACK, hello[off:end])
					for _, o := range in.Inspect(&st, p, true) {
						found = found || o.Hello.ServerName == "split.example.org"
					}
				}
				if !found {
					b.Fatal("SNI not found")
				}
			}
		})
	}
}

// TestInspectTLSHelloSplits finds the SNI of the recorded hello whatever
// the segment size, in order.
func TestInspectTLSHelloSplits(t *testing.T) {
	hello := recordedHello(t)
	for _, size := range []int{1, 2, 5, 6, 7, 100, 536, 1400, len(hello)} {
		in := NewInspector()
		var st Stream
		var got []string
		for off := 0; off < len(hello); off += size {
			end := min(off+size, len(hello))
			p := tcpPacket(testClient, testServer, 101+uint32(off), FlagACK, hello[off:end])
			for _, o := range in.Inspect(&st, p, true) {
				got = append(got, o.App.String()+":"+o.Hello.ServerName)
			}
		}
		if len(got) != 1 || got[0] != "tls:split.example.org" {
			t.Errorf("segments of %d bytes: observations %q; want [tls:split.example.org]", size, got)
		}
	}
}
