package classify

import (
	"bytes"
	"net/netip"
	"testing"
	"time"
)

// TestHTTPMethodSplit: a request whose first segment ends inside the
// method token must still be found, as it is when the segment ends after
// 1-3 bytes or after the space. (CONNECT split after 4-7 bytes hides the
// proxied destination.)
func TestHTTPMethodSplit(t *testing.T) {
	c := netip.MustParseAddrPort("192.0.2.10:40000")
	s := netip.MustParseAddrPort("198.51.100.1:80")
	for _, req := range []string{
		"CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n",
		"POST /upload HTTP/1.1\r\nHost: up.example.com\r\n\r\n",
		"M-SEARCH * HTTP/1.1\r\nHost: 239.255.255.250:1900\r\n\r\n",
	} {
		method := req[:bytes.IndexByte([]byte(req), ' ')]
		for cut := 1; cut <= len(method)+1; cut++ {
			in := NewInspector()
			var st Stream
			in.Inspect(&st, tcpPacket(c, s, 99, FlagSYN, nil), true)
			var hosts []string
			for _, seg := range []struct {
				seq  uint32
				data string
			}{{100, req[:cut]}, {100 + uint32(cut), req[cut:]}} {
				for _, o := range in.Inspect(&st, tcpPacket(c, s, seg.seq, FlagACK, []byte(seg.data)), true) {
					hosts = append(hosts, o.HTTP.Method+" "+o.HTTP.Host)
				}
			}
			if len(hosts) != 1 || hosts[0][:len(method)] != method {
				t.Errorf("%s split after %q: requests %q; want one %s", method, req[:cut], hosts, method)
			}
		}
	}
}

// TestOOOBufferedBytes: segments held ahead of a gap count against the
// per-direction bound (maxFirstFlight: "bytes buffered per direction
// before giving up"); a half must not hold megabytes for a flow that
// never fills its gap.
func TestOOOBufferedBytes(t *testing.T) {
	in := NewInspector()
	var st Stream
	c, s := testClient, testServer
	in.Inspect(&st, tcpPacket(c, s, 99, FlagSYN, nil), true)
	big := bytes.Repeat([]byte{0x16}, 60000)
	for i := range maxOOOSegments + 4 {
		// Each segment starts beyond the gap at seq 100.
		in.Inspect(&st, tcpPacket(c, s, 200+uint32(i)*70000, FlagACK, big), true)
	}
	held := len(st.half[0].buf)
	for _, o := range st.half[0].ooo {
		held += len(o.data)
	}
	if held > maxDNSStream {
		t.Errorf("one direction holds %d bytes ahead of a gap; want at most %d", held, maxDNSStream)
	}
}

// TestDefragManyTinyFragments: reassembly cost must stay bounded when a
// datagram arrives as thousands of 8-byte fragments with a hole (a chain
// from offset 0 sent in descending order, then repeats). Each fragment
// rescans every piece once per piece of the chain, so the cost grows with
// the cube of the count.
func TestDefragManyTinyFragments(t *testing.T) {
	var f defragmenter
	f.init(16)
	k := fragKey{src: netip.MustParseAddr("192.0.2.1"), dst: netip.MustParseAddr("192.0.2.2"), id: 1, proto: 17}
	data := make([]byte, 8)
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	const chain = 3000
	budget := 2 * time.Second // generous: a linear or capped scheme needs a few ms
	start := time.Now()
	f.add(k, 8*(chain+10), false, data, 60, now) // the last fragment; a hole before it
	for i := chain - 1; i >= 0; i-- {
		f.add(k, 8*i, true, data, 60, now)
	}
	for i := 0; i < 3000; i++ {
		f.add(k, 8*(i%chain), true, data, 60, now) // repeats
		if time.Since(start) > budget {
			t.Fatalf("%d tiny fragments took more than %v (%d repeats done)", chain+1+i, budget, i)
		}
	}
}
