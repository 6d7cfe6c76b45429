package gquic

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

const pcapDir = "../../../shared/pcaps"

// clientDatagrams returns the UDP payloads sent to port 443 in an Ethernet
// pcap, by frame number; nil when the shared corpus is absent.
func clientDatagrams(tb testing.TB, name string) map[int][]byte {
	tb.Helper()
	f, err := os.Open(filepath.Join(pcapDir, name))
	if err != nil {
		return nil
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[int][]byte{}
	for n := 1; ; n++ {
		data, _, err := r.ReadPacketData()
		if err != nil {
			return out
		}
		p := gopacket.NewPacket(data, r.LinkType(), gopacket.NoCopy)
		if u, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP); ok && u.DstPort == 443 {
			out[n] = u.Payload
		}
	}
}

// TestCorpusSNI reads every client datagram of ndpi-gquic.pcap (Q024,
// Q025, Q030, Q033): the CHLOs with an SNI tag are tshark's, frame by frame
// (truth/ndpi-gquic.pcap.gquic_sni.tsv).
func TestCorpusSNI(t *testing.T) {
	const name = "ndpi-gquic.pcap"
	dgs := clientDatagrams(t, name)
	truth, err := os.ReadFile(filepath.Join(pcapDir, "truth", name+".gquic_sni.tsv"))
	if dgs == nil || err != nil {
		t.Skipf("no shared capture corpus at %s", pcapDir)
	}
	want := map[int]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(truth)), "\n")[1:] {
		var frame int
		cols := strings.Split(line, "\t")
		for _, c := range cols[0] {
			frame = frame*10 + int(c-'0')
		}
		want[frame] = cols[len(cols)-1]
	}
	got := map[int]string{}
	versions := map[string]uint32{} // by the 8 bytes after the flags: the clients' connection IDs
	for frame := range 1000 {
		d := dgs[frame]
		if len(d) < 9 {
			continue
		}
		var c CHLO
		if Parse(d, versions[string(d[1:9])], &c) && c.SNI != nil {
			got[frame] = string(c.SNI)
		}
		if c.Version != 0 {
			versions[string(d[1:9])] = c.Version
		}
	}
	for frame, sni := range want {
		if got[frame] != sni {
			t.Errorf("frame %d: SNI %q; tshark says %q", frame, got[frame], sni)
		}
	}
	for frame, sni := range got {
		if _, ok := want[frame]; !ok {
			t.Errorf("frame %d: SNI %q; tshark has none", frame, sni)
		}
	}
}

// chloMsg builds a CHLO message with the given tags, in order.
func chloMsg(kv ...string) []byte {
	m := []byte("CHLO")
	m = binary.LittleEndian.AppendUint16(m, uint16(len(kv)/2))
	m = append(m, 0, 0)
	end := 0
	for i := 0; i < len(kv); i += 2 {
		m = append(m, kv[i]...)
		end += len(kv[i+1])
		m = binary.LittleEndian.AppendUint32(m, uint32(end))
	}
	for i := 1; i < len(kv); i += 2 {
		m = append(m, kv[i]...)
	}
	return m
}

// publicPacket builds a Q0xx client packet: public header with version and
// CID, 1-byte packet number, hash, private flags before Q034, then frames.
func publicPacket(version string, frames []byte) []byte {
	b := []byte{flagVersion | 0x0c} // 8-byte connection ID
	b = binary.LittleEndian.AppendUint64(b, 0x1122334455667788)
	b = append(b, version...)
	b = append(b, 1)                        // packet number
	b = append(b, make([]byte, hashLen)...) // hash
	if version < "Q034" {
		b = append(b, 0) // private flags
	}
	return append(b, frames...)
}

// streamFrame is a STREAM frame of stream 1 at offset 0 with a 2-byte
// data length, in the byte order of the version.
func streamFrame(be bool, data []byte) []byte {
	f := []byte{0xa0, 1}
	if be {
		return append(binary.BigEndian.AppendUint16(f, uint16(len(data))), data...)
	}
	return append(binary.LittleEndian.AppendUint16(f, uint16(len(data))), data...)
}

func TestParse(t *testing.T) {
	msg := chloMsg("PAD\x00", "\x2d\x2d\x2d", "SNI\x00", "www.example.org", "UAID", "Chrome/50")
	q046 := []byte{0xc3, 'Q', '0', '4', '6', 0x50, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 1}
	q046 = append(append(q046, make([]byte, hashLen)...), streamFrame(true, msg)...)
	for _, tt := range []struct {
		name    string
		pkt     []byte
		known   uint32
		version string
		sni     string
		ok      bool
	}{
		{"Q025 stream frame", publicPacket("Q025", streamFrame(false, msg)), 0, "Q025", "www.example.org", true},
		{"Q043 big-endian frame", publicPacket("Q043", streamFrame(true, msg)), 0, "Q043", "www.example.org", true},
		{"Q035 after PING and STOP_WAITING", publicPacket("Q035", append([]byte{0x07, 0x06, 0x01}, streamFrame(false, msg)...)), 0, "Q035", "www.example.org", true},
		{"Q030 after an ACK: found by its tag", publicPacket("Q030", append([]byte{0x40, 9, 9, 9, 9}, streamFrame(false, msg)...)), 0, "Q030", "www.example.org", true},
		{"Q046 long header", q046, 0, "Q046", "www.example.org", true},
		{"no version: the connection's", publicPacket("Q025", streamFrame(false, msg))[13-4:], 0, "", "", false},
		{"padding only", publicPacket("Q025", make([]byte, 100)), 0, "Q025", "", false},
		{"stream 3", publicPacket("Q025", append([]byte{0xa0, 3, byte(len(msg)), 0}, msg...)), 0, "Q025", "", false},
		{"Q050: encrypted", append([]byte{0xc3, 'Q', '0', '5', '0'}, make([]byte, 60)...), 0, "", "", false},
		{"IETF QUIC v1", append([]byte{0xc3, 0, 0, 0, 1}, make([]byte, 60)...), 0, "", "", false},
		{"broken table", publicPacket("Q025", streamFrame(false, []byte("CHLO\x02\x00\x00\x00SNI\x00\x09\x00\x00\x00PAD\x00\x01\x00\x00\x00"))), 0, "Q025", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var c CHLO
			ok := Parse(tt.pkt, tt.known, &c)
			if ok != tt.ok || ok && (string(c.SNI) != tt.sni || versionString(c.Version) != tt.version) {
				t.Errorf("Parse = %v, %s %q; want %v, %s %q", ok, versionString(c.Version), c.SNI, tt.ok, tt.version, tt.sni)
			}
			if ok && string(c.UAID) != "Chrome/50" {
				t.Errorf("UAID %q", c.UAID)
			}
		})
	}
}

func versionString(v uint32) string {
	if v == 0 {
		return ""
	}
	return string(binary.BigEndian.AppendUint32(nil, v))
}

func TestParseAllocs(t *testing.T) {
	pkt := publicPacket("Q025", streamFrame(false, chloMsg("SNI\x00", "a.example")))
	var c CHLO
	if n := testing.AllocsPerRun(100, func() { Parse(pkt, 0, &c) }); n != 0 {
		t.Errorf("Parse = %v allocs, want 0", n)
	}
}

func BenchmarkParse(b *testing.B) {
	pkt := publicPacket("Q025", streamFrame(false, chloMsg("PAD\x00", strings.Repeat("-", 900), "SNI\x00", "www.example.org")))
	var c CHLO
	b.ReportAllocs()
	for b.Loop() {
		Parse(pkt, 0, &c)
	}
}

// FuzzParse checks that Parse never panics and that what it returns lies
// within the datagram.
func FuzzParse(f *testing.F) {
	f.Add(publicPacket("Q025", streamFrame(false, chloMsg("SNI\x00", "www.example.org"))), uint32(0))
	f.Add(publicPacket("Q043", streamFrame(true, chloMsg("SNI\x00", "x", "UAID", "y"))), uint32(0))
	f.Add(publicPacket("Q030", append([]byte{0x40, 1, 2}, streamFrame(false, chloMsg("SNI\x00", "x"))...)), uint32(0))
	f.Add([]byte{0x0c, 1, 2, 3, 4, 5, 6, 7, 8, 1}, uint32('Q'<<24|'0'<<16|'2'<<8|'5'))
	for _, d := range clientDatagrams(f, "ndpi-gquic.pcap") {
		if len(d) > 0 && d[0]&flagVersion != 0 {
			f.Add(d, uint32(0))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte, known uint32) {
		var c CHLO
		if !Parse(b, known, &c) {
			return
		}
		if !IsVersion(c.Version) {
			t.Fatalf("version %08x", c.Version)
		}
		for _, v := range [][]byte{c.SNI, c.UAID} {
			if len(v) > len(b) {
				t.Fatalf("value of %d bytes from a %d-byte datagram", len(v), len(b))
			}
		}
	})
}

// TestParseMessage reads CHLO messages on their own, as Q050's CRYPTO
// stream carries them.
func TestParseMessage(t *testing.T) {
	for _, tt := range []struct {
		name    string
		msg     []byte
		sni, ua string
		ok      bool
	}{
		{"SNI and UAID", chloMsg("PAD\x00", "\x00\x00\x00", "SNI\x00", "q050.example.org", "UAID", "Chrome/80"), "q050.example.org", "Chrome/80", true},
		{"no SNI", chloMsg("VER\x00", "Q050"), "", "", true},
		{"no entries", chloMsg(), "", "", false},
		{"REJ", append([]byte("REJ\x00"), chloMsg("SNI\x00", "x")[4:]...), "", "", false},
		{"offsets go back", []byte("CHLO\x02\x00\x00\x00SNI\x00\x02\x00\x00\x00UAID\x01\x00\x00\x00ab"), "", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var c CHLO
			ok := ParseMessage(tt.msg, &c)
			if ok != tt.ok || string(c.SNI) != tt.sni || string(c.UAID) != tt.ua || c.Version != 0 {
				t.Errorf("ParseMessage = %v, SNI %q, UAID %q, version %#x; want %v, %q, %q, 0", ok, c.SNI, c.UAID, c.Version, tt.ok, tt.sni, tt.ua)
			}
		})
	}
}
