package quic

import (
	"bytes"
	"errors"
	"testing"

	"github.com/egresswatch/egresswatch/internal/initialseal"
)

// Q050 Initials are sealed by internal/initialseal, whose key schedule is
// written apart from this package's (crypto/hkdf, checked against the RFC
// 9001 vectors there), so these tests are a round trip between two
// implementations.

func sealQ050(t testing.TB, in initialseal.Initial) []byte {
	t.Helper()
	pkt, err := initialseal.Seal(in)
	if err != nil {
		t.Fatal(err)
	}
	return pkt
}

// googleAck is a Google QUIC ACK frame of type 01nullmm with two-byte
// largest acked and block lengths, one extra block and two timestamps.
var googleAck = []byte{
	0x65,       // ACK, block count present, ll=1 (2 bytes), mm=1 (2 bytes)
	0x00, 0x02, // largest acked
	0x00, 0x10, // ack delay
	0x01,       // one more block
	0x00, 0x01, // first block length
	0x01, 0x00, 0x01, // gap, block length
	0x02,                         // two timestamps
	0x01, 0x00, 0x00, 0x00, 0x20, // delta, time since largest
	0x02, 0x00, 0x10, // delta, time since previous
}

func TestQ050(t *testing.T) {
	dcid := []byte{0xc1, 0xa0, 0x50, 0x50, 1, 2, 3, 4}
	chlo := initialseal.CHLO("q050.example.org")
	cut := 300
	for _, tt := range []struct {
		name string
		dgs  [][]byte
	}{
		{"one packet", [][]byte{
			sealQ050(t, initialseal.Initial{DCID: dcid, PN: 1, Frames: initialseal.CryptoFrame(0, chlo), Size: 1350}),
		}},
		{"two packets, 1-byte packet numbers", [][]byte{
			sealQ050(t, initialseal.Initial{DCID: dcid, PN: 1, PNLen: 1, Frames: initialseal.CryptoFrame(0, chlo[:cut])}),
			sealQ050(t, initialseal.Initial{DCID: dcid, PN: 2, PNLen: 1, Frames: initialseal.CryptoFrame(uint64(cut), chlo[cut:])}),
		}},
		{"reordered, PING and ACK first", [][]byte{
			sealQ050(t, initialseal.Initial{DCID: dcid, PN: 2, Frames: append(append([]byte{0x07}, googleAck...), initialseal.CryptoFrame(uint64(cut), chlo[cut:])...)}),
			sealQ050(t, initialseal.Initial{DCID: dcid, PN: 1, Frames: initialseal.CryptoFrame(0, chlo[:cut])}),
		}},
		{"server's DCID on the second packet", [][]byte{
			sealQ050(t, initialseal.Initial{DCID: dcid, PN: 1, Frames: initialseal.CryptoFrame(0, chlo[:cut])}),
			sealQ050(t, initialseal.Initial{KeyCID: dcid, DCID: []byte{9, 9, 9, 9, 9, 9, 9, 9}, PN: 2, Frames: initialseal.CryptoFrame(uint64(cut), chlo[cut:])}),
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var c Conn
			var res Result
			for i, d := range tt.dgs {
				var err error
				if res, err = c.Feed(d); err != nil {
					t.Fatalf("Feed(datagram %d): %v", i, err)
				}
			}
			if !res.Complete || res.Version != VersionQ050 || !bytes.Equal(res.DCID, dcid) {
				t.Fatalf("Result = complete %v, version %#x, DCID % x; want a complete Q050 CHLO of DCID % x", res.Complete, res.Version, res.DCID, dcid)
			}
			if !bytes.Equal(res.Hello, chlo) {
				t.Errorf("Hello = %q...; want the CHLO sent", res.Hello[:min(len(res.Hello), 16)])
			}
		})
	}
}

// TestQ050Rejects: keys from another salt do not open a Q050 Initial (the
// datagram is counted as not decrypted), and a CRYPTO stream that is no
// CHLO is refused.
func TestQ050Rejects(t *testing.T) {
	dcid := []byte{8, 7, 6, 5, 4, 3, 2, 1}
	frames := initialseal.CryptoFrame(0, initialseal.CHLO("q050.example.org"))
	for _, tt := range []struct {
		name string
		pkt  []byte
		want error
	}{
		{"QUIC v1 salt", sealQ050(t, initialseal.Initial{Salt: []byte(saltV1), DCID: dcid, PN: 1, Frames: frames, Size: 1200}), ErrDecrypt},
		{"T050 salt", sealQ050(t, initialseal.Initial{Salt: []byte(saltT050), DCID: dcid, PN: 1, Frames: frames, Size: 1200}), ErrDecrypt},
		{"keys of another DCID", sealQ050(t, initialseal.Initial{KeyCID: []byte{1}, DCID: dcid, PN: 1, Frames: frames}), ErrDecrypt},
		{"SHLO", sealQ050(t, initialseal.Initial{DCID: dcid, PN: 1, Frames: initialseal.CryptoFrame(0, initialseal.Message("SHLO"))}), ErrNotClientHello},
		{"IETF ACK frame type", sealQ050(t, initialseal.Initial{DCID: dcid, PN: 1, Frames: append([]byte{frameAck, 0, 0, 0, 0}, frames...)}), ErrFrame},
		{"too many entries", sealQ050(t, initialseal.Initial{DCID: dcid, PN: 1, Frames: initialseal.CryptoFrame(0, []byte("CHLO\xff\x00\x00\x00"))}), ErrMalformed},
		{"truncated ACK", sealQ050(t, initialseal.Initial{DCID: dcid, PN: 1, Frames: googleAck[:9]}), ErrMalformed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var c Conn
			res, err := c.Feed(tt.pkt)
			if !errors.Is(err, tt.want) || res.Complete {
				t.Errorf("Feed = complete %v, %v; want %v", res.Complete, err, tt.want)
			}
		})
	}
}

// TestQ050Allocs: once the keys of a DCID are known, opening a Q050 Initial
// and reassembling its CHLO allocates nothing.
func TestQ050Allocs(t *testing.T) {
	dcid := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	pkt := sealQ050(t, initialseal.Initial{DCID: dcid, PN: 1, Frames: initialseal.CryptoFrame(0, initialseal.CHLO("allocs.example")), Size: 1350})
	var c Conn
	if res, err := c.Feed(pkt); err != nil || !res.Complete {
		t.Fatalf("Feed = %v, %v", res.Complete, err)
	}
	n := testing.AllocsPerRun(100, func() {
		c.Reset()
		c.Feed(pkt)
	})
	if n != 0 {
		t.Errorf("Feed(Q050 Initial) = %v allocs, want 0", n)
	}
}

// FuzzQ050Frames seals arbitrary frame bytes into Q050 Initials (with this
// package's keys, for speed) so that the fuzzer reaches the Google QUIC
// frame walk and the CHLO reassembly. The input is split into two packets
// at its first byte's value.
func FuzzQ050Frames(f *testing.F) {
	chlo := initialseal.CHLO("fuzz.example.org")
	f.Add(append([]byte{0}, initialseal.CryptoFrame(0, chlo)...))
	f.Add(append(append([]byte{40}, initialseal.CryptoFrame(300, chlo[300:])...), initialseal.CryptoFrame(0, chlo[:300])...))
	f.Add(append(append([]byte{byte(len(googleAck) + 1), 0x07}, googleAck...), initialseal.CryptoFrame(0, chlo)...))
	f.Add(append([]byte{0}, initialseal.CryptoFrame(0, []byte("CHLO\x01\x00\x00\x00SNI\x00\xff\xff\xff\x7f"))...))
	f.Add([]byte{2, 0x40, 0, 0, 0, 0, 0, 0x08, 0, 1, 'C'})
	dcid := []byte{0xf0, 0x0d, 0x50, 0x50, 1, 2, 3, 4}
	var k keySet
	vi, _ := lookupVersion(VersionQ050)
	if err := k.derive(VersionQ050, vi, dcid); err != nil {
		f.Fatal(err)
	}
	var c Conn
	f.Fuzz(func(t *testing.T, in []byte) { feedSealedFrames(t, &c, &k, dcid, in) })
}
