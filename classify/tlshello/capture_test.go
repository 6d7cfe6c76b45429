package tlshello

import (
	"bufio"
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// This file checks the package against real captures in ../../../shared/pcaps
// and their tshark truth. It carries a deliberately tiny packet reader (pcap
// and pcapng; Ethernet with VLAN tags, raw IP, BSD NULL, Linux cooked; IPv4,
// IPv6, 6in4 and VXLAN; TCP) and an equally tiny in-order TCP stream builder.
// The real decoding is the classify package's job; this reader only exists to
// feed Assemble and Parse with real first flights.

const sharedPcaps = "../../../shared/pcaps"

type segment struct {
	seq  uint32
	data []byte
}

type dirKey struct {
	src, dst netip.AddrPort
}

type tinyReader struct {
	flows map[dirKey][]segment
	order []dirKey
}

func (r *tinyReader) addIP(b []byte, depth int) {
	if depth > 3 || len(b) < 1 {
		return
	}
	var src, dst netip.Addr
	var proto uint8
	var payload []byte
	switch b[0] >> 4 {
	case 4:
		if len(b) < 20 {
			return
		}
		ihl := int(b[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(b[2:4]))
		if ihl < 20 || total < ihl || len(b) < total {
			return
		}
		if binary.BigEndian.Uint16(b[6:8])&0x3fff != 0 {
			return // fragment
		}
		src, dst = netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20]))
		proto, payload = b[9], b[ihl:total]
	case 6:
		if len(b) < 40 {
			return
		}
		plen := int(binary.BigEndian.Uint16(b[4:6]))
		if len(b) < 40+plen {
			return
		}
		src, dst = netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))
		proto, payload = b[6], b[40:40+plen]
	default:
		return
	}
	switch proto {
	case 41: // 6in4
		r.addIP(payload, depth+1)
	case 17: // VXLAN on UDP 4789
		if len(payload) >= 16 && binary.BigEndian.Uint16(payload[2:4]) == 4789 {
			r.addEthernet(payload[16:], depth+1)
		}
	case 6:
		if len(payload) < 20 {
			return
		}
		off := int(payload[12]>>4) * 4
		if off < 20 || off > len(payload) {
			return
		}
		k := dirKey{
			netip.AddrPortFrom(src, binary.BigEndian.Uint16(payload[0:2])),
			netip.AddrPortFrom(dst, binary.BigEndian.Uint16(payload[2:4])),
		}
		seq := binary.BigEndian.Uint32(payload[4:8])
		if payload[13]&0x02 != 0 { // SYN: the stream starts at seq+1
			seq++
		}
		if _, ok := r.flows[k]; !ok {
			r.order = append(r.order, k)
		}
		r.flows[k] = append(r.flows[k], segment{seq, slices.Clone(payload[off:])})
	}
}

func (r *tinyReader) addEthernet(b []byte, depth int) {
	if len(b) < 14 {
		return
	}
	et, p := binary.BigEndian.Uint16(b[12:14]), b[14:]
	for (et == 0x8100 || et == 0x88a8) && len(p) >= 4 {
		et, p = binary.BigEndian.Uint16(p[2:4]), p[4:]
	}
	if et == 0x0800 || et == 0x86dd {
		r.addIP(p, depth)
	}
}

func (r *tinyReader) addFrame(link uint32, b []byte) {
	switch link {
	case 1:
		r.addEthernet(b, 0)
	case 101, 228, 229:
		r.addIP(b, 0)
	case 0:
		if len(b) > 4 {
			r.addIP(b[4:], 0)
		}
	case 113:
		if len(b) > 16 {
			r.addIP(b[16:], 0)
		}
	case 276:
		if len(b) > 20 {
			r.addIP(b[20:], 0)
		}
	}
}

// readCapture reads a pcap or pcapng file into per-direction TCP segments.
func readCapture(t *testing.T, path string) *tinyReader {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	r := &tinyReader{flows: map[dirKey][]segment{}}
	if len(data) < 24 {
		return r
	}
	switch binary.LittleEndian.Uint32(data) {
	case 0xa1b2c3d4, 0xa1b23c4d, 0xd4c3b2a1, 0x4d3cb2a1:
		var bo binary.ByteOrder = binary.LittleEndian
		if m := binary.BigEndian.Uint32(data); m == 0xa1b2c3d4 || m == 0xa1b23c4d {
			bo = binary.BigEndian
		}
		link := bo.Uint32(data[20:24]) & 0x0fffffff
		for off := 24; off+16 <= len(data); {
			n := int(bo.Uint32(data[off+8:]))
			if off+16+n > len(data) {
				break
			}
			r.addFrame(link, data[off+16:off+16+n])
			off += 16 + n
		}
	case 0x0a0d0d0a:
		var bo binary.ByteOrder = binary.LittleEndian
		var links []uint32
		for off := 0; off+12 <= len(data); {
			typ := bo.Uint32(data[off:])
			if typ == 0x0a0d0d0a { // section header: byte order from the magic
				if binary.BigEndian.Uint32(data[off+8:]) == 0x1a2b3c4d {
					bo = binary.BigEndian
				} else {
					bo = binary.LittleEndian
				}
				links = links[:0]
			}
			n := int(bo.Uint32(data[off+4:]))
			if n < 12 || off+n > len(data) {
				break
			}
			blk := data[off : off+n]
			switch typ {
			case 1: // interface description
				links = append(links, uint32(bo.Uint16(blk[8:])))
			case 6: // enhanced packet
				if n >= 32 {
					iface, capLen := int(bo.Uint32(blk[8:])), int(bo.Uint32(blk[20:]))
					if iface < len(links) && 28+capLen <= n {
						r.addFrame(links[iface], blk[28:28+capLen])
					}
				}
			}
			off += n
		}
	default:
		t.Fatalf("%s: unknown capture format", path)
	}
	return r
}

// stream returns the in-order bytes of one direction, from the lowest
// sequence number (or the SYN) up to the first gap, and no more than limit.
func stream(segs []segment, limit int) []byte {
	if len(segs) == 0 {
		return nil
	}
	base := segs[0].seq
	for _, s := range segs {
		if int32(s.seq-base) < 0 {
			base = s.seq
		}
	}
	sorted := slices.Clone(segs)
	slices.SortStableFunc(sorted, func(a, b segment) int { return int(int32(a.seq - b.seq)) })
	var out []byte
	for _, s := range sorted {
		rel := int(int32(s.seq - base))
		end := rel + len(s.data)
		if rel > len(out) || len(out) >= limit {
			break // a gap, or enough
		}
		if end > len(out) {
			out = append(out, s.data[len(out)-rel:]...)
		}
	}
	return out
}

type sniRow struct {
	dsts []string // every ip.dst / ipv6.dst value (outer and inner)
	port string
	sni  string
}

func readTruth(t *testing.T, path string) []sniRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open truth: %v", err)
	}
	defer f.Close()
	var rows []sniRow
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) != 7 {
			t.Fatalf("%s: row %q has %d columns", path, sc.Text(), len(c))
		}
		dsts := slices.Concat(strings.Split(c[3], ","), strings.Split(c[4], ","))
		ports := strings.Split(c[5], ",")
		rows = append(rows, sniRow{dsts, ports[len(ports)-1], c[6]})
	}
	return rows
}

type found struct {
	dst  netip.AddrPort
	sni  string
	ech  bool
	esni bool
}

// helloes returns the ClientHellos that Assemble and Parse find at the start
// of every TCP direction of a capture.
func helloes(t *testing.T, path string) []found {
	r := readCapture(t, path)
	var out []found
	var h ClientHello
	scratch := make([]byte, 0, 1<<16)
	for _, k := range r.order {
		st := stream(r.flows[k], MaxHandshakeLen+8*RecordHeaderLen+64)
		if !LooksLikeTLS(st) {
			continue
		}
		msg, status, _ := Assemble(st, scratch)
		if status != StatusComplete {
			t.Logf("%s %v -> %v: %v after %d bytes", filepath.Base(path), k.src, k.dst, status, len(st))
			continue
		}
		if err := ParseInto(&h, msg); err != nil {
			t.Errorf("%s %v -> %v: %v", filepath.Base(path), k.src, k.dst, err)
			continue
		}
		out = append(out, found{k.dst, h.ServerName, h.ECH, h.ESNI})
	}
	return out
}

// TestCaptures compares the ClientHellos found in every capture with the
// tshark truth: each truth row must be matched by a ClientHello to the same
// destination address and port with the same server name.
func TestCaptures(t *testing.T) {
	if _, err := os.Stat(sharedPcaps); err != nil {
		t.Skipf("real captures not available at %s: %v", sharedPcaps, err)
	}
	truthFiles, _ := filepath.Glob(filepath.Join(sharedPcaps, "truth", "*.tls_sni.tsv"))
	// Rows this tiny reader cannot reach: a Geneve tunnel, TLS inside an HTTP
	// CONNECT tunnel, and second ClientHellos of one connection (after a
	// HelloRetryRequest in ndpi-reddit: CCS then a new ClientHello with the
	// same SNI; two ClientHellos in a row in suricata-tls-duplicate-hello).
	unreachable := map[string]int{
		"ndpi-reddit.pcap":                   1,
		"zeek-geneve-47101.pcap":             1,
		"zeek-http-connect-with-header.pcap": 1,
		"suricata-tls-duplicate-hello.pcap":  1,
	}
	total, matched := 0, 0
	for _, tf := range truthFiles {
		name := strings.TrimSuffix(filepath.Base(tf), ".tls_sni.tsv")
		rows := readTruth(t, tf)
		if len(rows) == 0 {
			continue
		}
		t.Run(name, func(t *testing.T) {
			got := helloes(t, filepath.Join(sharedPcaps, name))
			used := make([]bool, len(got))
			miss := 0
			for _, row := range rows {
				ok := false
				for i, g := range got {
					if used[i] || g.sni != row.sni || strconv.Itoa(int(g.dst.Port())) != row.port ||
						!slices.Contains(row.dsts, g.dst.Addr().String()) {
						continue
					}
					used[i], ok = true, true
					break
				}
				if !ok {
					miss++
					t.Logf("missed: %v port %s sni %q", row.dsts, row.port, row.sni)
				}
			}
			total += len(rows)
			matched += len(rows) - miss
			if miss > unreachable[name] {
				t.Errorf("matched %d of %d truth rows", len(rows)-miss, len(rows))
			}
			for i, g := range got {
				if !used[i] {
					t.Logf("extra ClientHello (not in truth): %v sni %q", g.dst, g.sni)
				}
			}
		})
	}
	t.Logf("TLS ClientHellos matched against tshark truth: %d of %d rows", matched, total)
	if total == 0 {
		t.Fatal("no truth rows read")
	}
}

// TestCaptureSpecials checks captures with a known peculiarity.
func TestCaptureSpecials(t *testing.T) {
	if _, err := os.Stat(sharedPcaps); err != nil {
		t.Skipf("real captures not available at %s: %v", sharedPcaps, err)
	}
	count := func(path string, f func(found) bool) int {
		n := 0
		for _, g := range helloes(t, filepath.Join(sharedPcaps, path)) {
			if f(g) {
				n++
			}
		}
		return n
	}
	if n := count("ndpi-tls_ech.pcapng", func(g found) bool { return g.ech && g.sni == "performance.radar.cloudflare.com" }); n != 1 {
		t.Errorf("tls_ech: %d ECH ClientHellos with the public name, want 1", n)
	}
	if n := count("ndpi-encrypted_sni.pcap", func(g found) bool { return g.esni && g.sni == "" }); n != 3 {
		t.Errorf("encrypted_sni: %d ESNI-only ClientHellos, want 3", n)
	}
	if n := count("ndpi-tls_with_huge_ch.pcapng", func(g found) bool { return g.sni == "" }); n < 1 {
		t.Errorf("tls_with_huge_ch: the 11 KB ClientHello was not assembled")
	}
	if n := count("ndpi-tls_missing_ch_frag.pcap", func(found) bool { return true }); n != 0 {
		t.Errorf("tls_missing_ch_frag: %d ClientHellos assembled over a missing segment, want 0", n)
	}
	if n := count("ndpi-tls_port_80.pcapng", func(g found) bool { return g.dst.Port() == 80 }); n != 1 {
		t.Errorf("tls_port_80: %d ClientHellos on port 80, want 1 (tshark with decode-as)", n)
	}
}
