package quic

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/egresswatch/egresswatch/internal/initialseal"
)

// checkResult asserts the invariants every Result must keep.
func checkResult(t *testing.T, res Result) {
	t.Helper()
	if len(res.DCID) > maxCIDLen {
		t.Fatalf("DCID of %d bytes", len(res.DCID))
	}
	if !res.Complete {
		if res.Hello != nil {
			t.Fatal("Hello set before Complete")
		}
		return
	}
	h := res.Hello
	if res.Version == VersionQ050 {
		if len(h) < 8 || string(h[:4]) != "CHLO" {
			t.Fatalf("Complete with a bad CHLO header % x", h[:min(len(h), 8)])
		}
		n := int(binary.LittleEndian.Uint16(h[4:6]))
		if n > 0 && len(h) != 8+8*n+int(binary.LittleEndian.Uint32(h[8*n+4:])) {
			t.Fatalf("Complete CHLO of %d bytes does not end at its last value", len(h))
		}
		return
	}
	if len(h) < 4 || h[0] != 1 || len(h) != 4+(int(h[1])<<16|int(h[2])<<8|int(h[3])) {
		t.Fatalf("Complete with a bad ClientHello header % x", h[:min(len(h), 4)])
	}
}

// addCaptureSeeds adds the Initial datagrams of a few shared captures, when present.
func addCaptureSeeds(f *testing.F) {
	for _, name := range []string{
		"zeek-quic-multiple-initial-fragmented-crypto.pcap", "arkime-quicietfooo.pcap",
		"ndpi-quic-v2.pcapng", "ndpi-quic-27.pcap", "ndpi-quic_0RTT.pcap", "tcpdump-quic_vn.pcap",
	} {
		path := filepath.Join(pcapDir, name)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		n := 0
		for _, d := range readUDP(f, path) {
			if len(d.payload) > 0 && d.payload[0]&0x80 != 0 && n < 4 {
				f.Add(d.payload)
				n++
			}
		}
	}
}

// FuzzFeed feeds arbitrary datagrams, each to a fresh Conn and all to one shared Conn.
func FuzzFeed(f *testing.F) {
	f.Add(unhex(f, rfc9001ClientInitial))
	f.Add(unhex(f, rfc9369ClientInitial))
	f.Add(unhex(f, rfc9001ServerInitial))
	f.Add(unhex(f, rfc9001Retry))
	hello := testHello("fuzz.example", 900)
	dcid := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	a := seal(f, initialSpec{version: Version1, keyDCID: dcid, frames: cryptoFrame(0, hello[:500])})
	b := seal(f, initialSpec{version: Version1, keyDCID: dcid, pn: 1, frames: cryptoFrame(500, hello[500:])})
	f.Add(append(bytes.Clone(a), b...))
	f.Add(seal(f, initialSpec{version: VersionDraft29, keyDCID: dcid, frames: cryptoFrame(0, hello)}))
	q050, err := initialseal.Seal(initialseal.Initial{DCID: dcid, PN: 1, Frames: initialseal.CryptoFrame(0, initialseal.CHLO("fuzz.example")), Size: 1250})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(q050)
	addCaptureSeeds(f)
	var shared Conn
	f.Fuzz(func(t *testing.T, d []byte) {
		orig := bytes.Clone(d)
		LooksLikeInitial(d)
		InitialDCID(d)
		var c Conn
		res, _ := c.Feed(d)
		checkResult(t, res)
		res, _ = shared.Feed(d)
		checkResult(t, res)
		if res.Complete {
			shared.Reset()
		}
		if !bytes.Equal(d, orig) {
			t.Fatal("Feed modified its input")
		}
	})
}

// FuzzFrames seals arbitrary frame bytes into valid Initial packets, so that the fuzzer
// reaches the frame parser and the reassembly through Feed. The input is split into two
// packets at its first byte's value.
func FuzzFrames(f *testing.F) {
	hello := testHello("frames.example", 700)
	f.Add(append([]byte{0}, cryptoFrame(0, hello)...))
	f.Add(append(append([]byte{40}, cryptoFrame(300, hello[300:])...), cryptoFrame(0, hello[:300])...))
	f.Add([]byte{0, frameAck, 5, 0, 1, 0, 1, 2, frameConnClose, 0, 0, 1, 'x'})
	f.Add([]byte{3, frameCrypto, 0x80, 0, 0xff, 0xf0, 1, 0})
	f.Add(append([]byte{0}, unhex(f, rfcCryptoFrame)...))
	dcid := []byte{0xf0, 0x0d, 1, 2, 3, 4, 5, 6}
	var k keySet
	vi, _ := lookupVersion(Version1)
	if err := k.derive(Version1, vi, dcid); err != nil {
		f.Fatal(err)
	}
	var c Conn
	f.Fuzz(func(t *testing.T, in []byte) { feedSealedFrames(t, &c, &k, dcid, in) })
}

// feedSealedFrames seals in, split into two packets at its first byte's value, with k
// and feeds the packets to c after a Reset.
func feedSealedFrames(t *testing.T, c *Conn, k *keySet, dcid, in []byte) {
	if len(in) == 0 || len(in) > 4000 {
		return
	}
	cut := min(int(in[0]), len(in)-1)
	parts := [][]byte{in[1 : 1+cut], in[1+cut:]}
	c.Reset()
	for i, fr := range parts {
		res, _ := c.Feed(sealWith(k, dcid, uint64(i), fr))
		checkResult(t, res)
		if res.Complete {
			break
		}
	}
}
