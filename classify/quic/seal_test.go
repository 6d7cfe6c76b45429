package quic

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"testing"
)

// This file builds client Initial packets with the package's own key schedule (checked
// against the RFC vectors in rfc_test.go) to exercise reassembly, coalescing and the
// connection ID rules with inputs no capture holds.

// appendVarint appends v as a QUIC variable-length integer of the shortest form.
func appendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return append(b, byte(v>>8)|0x40, byte(v))
	case v < 1<<30:
		return append(b, byte(v>>24)|0x80, byte(v>>16), byte(v>>8), byte(v))
	}
	return append(b, byte(v>>56)|0xc0, byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

func cryptoFrame(off int, data []byte) []byte {
	f := appendVarint([]byte{frameCrypto}, uint64(off))
	f = appendVarint(f, uint64(len(data)))
	return append(f, data...)
}

// initialSpec describes one client Initial packet to build.
type initialSpec struct {
	version  uint32
	keyDCID  []byte // DCID the keys come from (the original DCID of the attempt)
	dcid     []byte // DCID in the header; keyDCID when nil
	scid     []byte
	token    []byte
	pn       uint64
	pnLen    int // 1..4
	frames   []byte
	longType int // typeInitial unless set otherwise (for 0-RTT/Handshake, not encrypted)
}

// seal builds and protects a client Initial (RFC 9001 Section 5).
func seal(t testing.TB, s initialSpec) []byte {
	t.Helper()
	vi, ok := lookupVersion(s.version)
	if !ok {
		t.Fatalf("version %#x unknown", s.version)
	}
	if s.dcid == nil {
		s.dcid = s.keyDCID
	}
	if s.pnLen == 0 {
		s.pnLen = 2
	}
	var k keySet
	if err := k.derive(s.version, vi, s.keyDCID); err != nil {
		t.Fatal(err)
	}
	return sealKeys(&k, vi, s)
}

// sealWith protects a v1 Initial carrying frames with ready keys (for fuzzing).
func sealWith(k *keySet, dcid []byte, pn uint64, frames []byte) []byte {
	vi, _ := lookupVersion(k.version)
	return sealKeys(k, vi, initialSpec{version: k.version, keyDCID: dcid, dcid: dcid, pn: pn, pnLen: 2, frames: frames})
}

func sealKeys(k *keySet, vi versionInfo, s initialSpec) []byte {
	typeBits := byte(s.longType)
	if vi.v2 {
		typeBits = byte((s.longType + 1) & 3)
	}
	payload := s.frames
	if minLen := 4 + sampleLen - s.pnLen; len(payload) < minLen { // room for the sample
		payload = append(bytes.Clone(payload), make([]byte, minLen-len(payload))...)
	}
	hdr := []byte{0xc0 | typeBits<<4 | byte(s.pnLen-1)}
	hdr = binary.BigEndian.AppendUint32(hdr, s.version)
	hdr = append(hdr, byte(len(s.dcid)))
	hdr = append(hdr, s.dcid...)
	hdr = append(hdr, byte(len(s.scid)))
	hdr = append(hdr, s.scid...)
	if s.longType == typeInitial {
		hdr = appendVarint(hdr, uint64(len(s.token)))
		hdr = append(hdr, s.token...)
	}
	hdr = appendVarint(hdr, uint64(s.pnLen+len(payload)+aeadTag))
	pnOffset := len(hdr)
	for i := s.pnLen - 1; i >= 0; i-- {
		hdr = append(hdr, byte(s.pn>>(8*i)))
	}
	nonce := k.iv
	for i := range 8 {
		nonce[4+i] ^= byte(s.pn >> (56 - 8*i))
	}
	pkt := k.aead.Seal(bytes.Clone(hdr), nonce[:], payload, hdr)
	var mask [16]byte
	k.hp.Encrypt(mask[:], pkt[pnOffset+4:pnOffset+4+sampleLen])
	pkt[0] ^= mask[0] & 0x0f
	for i := range s.pnLen {
		pkt[pnOffset+i] ^= mask[1+i]
	}
	return pkt
}

// testHello builds a ClientHello handshake message of about size bytes with the given SNI.
func testHello(sni string, size int) []byte {
	ext := []byte{0, 0} // server_name
	name := []byte(sni)
	body := binary.BigEndian.AppendUint16(nil, uint16(len(name)+3))
	body = append(body, 0)
	body = binary.BigEndian.AppendUint16(body, uint16(len(name)))
	body = append(body, name...)
	ext = binary.BigEndian.AppendUint16(ext, uint16(len(body)))
	ext = append(ext, body...)
	if pad := size - 100 - len(ext); pad > 0 { // a padding extension (21) to reach size
		ext = append(ext, 0, 21, byte(pad>>8), byte(pad))
		ext = append(ext, make([]byte, pad)...)
	}
	ch := []byte{3, 3}
	ch = append(ch, bytes.Repeat([]byte{0xab}, 32)...)
	ch = append(ch, 0)                      // session id
	ch = append(ch, 0, 2, 0x13, 0x01, 1, 0) // one suite, null compression
	ch = binary.BigEndian.AppendUint16(ch, uint16(len(ext)))
	ch = append(ch, ext...)
	msg := []byte{1, byte(len(ch) >> 16), byte(len(ch) >> 8), byte(len(ch))}
	return append(msg, ch...)
}

func TestRoundTripVersions(t *testing.T) {
	hello := testHello("versions.example", 600)
	for _, v := range []uint32{Version1, Version2, 0xff000017, VersionDraft27, 0xff00001c, VersionDraft29,
		0xff000020, 0xff000022, 0xfaceb002, 0x54303530, VersionT051} {
		pkt := seal(t, initialSpec{version: v, keyDCID: []byte{1, 2, 3, 4, 5, 6, 7, 8}, frames: cryptoFrame(0, hello)})
		if !LooksLikeInitial(pkt) {
			t.Errorf("%#x: LooksLikeInitial = false", v)
		}
		var c Conn
		res, err := c.Feed(pkt)
		if err != nil || !res.Complete || res.Version != v || !bytes.Equal(res.Hello, hello) {
			t.Errorf("%#x: Feed = complete %v version %#x err %v", v, res.Complete, res.Version, err)
		}
	}
	// The same packet with another version's salt must not open.
	pkt := seal(t, initialSpec{version: VersionDraft29, keyDCID: []byte{1, 2, 3, 4}, frames: cryptoFrame(0, hello)})
	binary.BigEndian.PutUint32(pkt[1:], Version1)
	var c Conn
	if _, err := c.Feed(pkt); !errors.Is(err, ErrDecrypt) {
		t.Errorf("draft-29 packet relabelled v1: err = %v; want ErrDecrypt", err)
	}
}

// TestReassembly splits one ClientHello into CRYPTO frames in various ways.
func TestReassembly(t *testing.T) {
	hello := testHello("reassembly.example", 3000)
	dcid := []byte{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4}
	pieces := func(cuts ...int) [][2]int { // [off, end) pieces from cut points
		var out [][2]int
		prev := 0
		for _, c := range append(cuts, len(hello)) {
			out = append(out, [2]int{prev, c})
			prev = c
		}
		return out
	}
	frames := func(ps ...[2]int) []byte {
		var b []byte
		for _, p := range ps {
			b = append(b, cryptoFrame(p[0], hello[p[0]:p[1]])...)
		}
		return b
	}
	p := pieces(700, 1400, 2100)
	for _, tt := range []struct {
		name    string
		packets [][]byte // frames per packet, one datagram each
		// completeAt is the index of the datagram that completes, -1 for never.
		completeAt int
	}{
		{"in order, one frame per packet", [][]byte{frames(p[0]), frames(p[1]), frames(p[2]), frames(p[3])}, 3},
		{"reverse order", [][]byte{frames(p[3]), frames(p[2]), frames(p[1]), frames(p[0])}, 3},
		{"shuffled inside packets with PING and PADDING", [][]byte{
			append(append(append([]byte{framePing}, frames(p[1])...), 0, 0, 0), frames(p[0])...),
			append(frames(p[3]), append([]byte{framePing, framePadding}, frames(p[2])...)...),
		}, 1},
		{"overlaps and duplicates", [][]byte{
			frames([2]int{0, 1000}), frames([2]int{500, 1500}), frames([2]int{0, 1000}),
			frames([2]int{2500, 3000}), frames([2]int{1400, 2600}),
		}, 4},
		{"ACK and CONNECTION_CLOSE frames are skipped", [][]byte{
			append([]byte{frameAck, 5, 0, 1, 0, 1, 2}, frames(p[0], p[1])...),
			append([]byte{frameAckECN, 0x40, 9, 0, 0, 0, 1, 2, 3}, frames(p[2], p[3])...),
		}, 1},
		{"gap never filled", [][]byte{frames(p[0]), frames(p[2]), frames(p[3])}, -1},
		{"100-byte frames in reverse order", func() [][]byte {
			var pk [][]byte
			for off := (len(hello) - 1) / 100 * 100; off >= 0; off -= 100 {
				pk = append(pk, frames([2]int{off, min(off+100, len(hello))}))
			}
			return pk
		}(), (len(hello) - 1) / 100},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var c Conn
			for i, fr := range tt.packets {
				pkt := seal(t, initialSpec{version: Version1, keyDCID: dcid, pn: uint64(i), frames: fr})
				res, err := c.Feed(pkt)
				if err != nil {
					t.Fatalf("datagram %d: %v", i, err)
				}
				if res.Complete != (i >= tt.completeAt && tt.completeAt >= 0) {
					t.Fatalf("datagram %d: Complete = %v; want completion at %d", i, res.Complete, tt.completeAt)
				}
				if res.Complete && !bytes.Equal(res.Hello, hello) {
					t.Fatalf("Hello differs from the original")
				}
			}
		})
	}
}

// TestCoalesced puts several packets in one datagram.
func TestCoalesced(t *testing.T) {
	hello := testHello("coalesced.example", 1500)
	dcid := []byte{9, 8, 7, 6, 5, 4, 3, 2}
	a := seal(t, initialSpec{version: Version1, keyDCID: dcid, pn: 0, frames: cryptoFrame(0, hello[:800])})
	b := seal(t, initialSpec{version: Version1, keyDCID: dcid, pn: 1, frames: cryptoFrame(800, hello[800:])})
	zeroRTT := seal(t, initialSpec{version: Version1, keyDCID: dcid, longType: typeZeroRTT, frames: []byte{1, 2, 3}})
	hs := seal(t, initialSpec{version: Version1, keyDCID: dcid, longType: typeHandshake, frames: []byte{1}})
	other := seal(t, initialSpec{version: Version1, keyDCID: []byte{1, 1, 1, 1}, frames: cryptoFrame(800, hello[800:])})
	short := []byte{0x40, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}
	cat := func(ps ...[]byte) []byte { return bytes.Join(ps, nil) }
	for _, tt := range []struct {
		name     string
		datagram []byte
		complete bool
		err      error
	}{
		{"two Initials", cat(a, b), true, nil},
		{"Initial, 0-RTT, Initial", cat(a, zeroRTT, b), true, nil},
		{"0-RTT first", cat(zeroRTT, a, b), true, nil},
		{"Initial, Handshake, zero padding", cat(a, hs, b, make([]byte, 300)), true, nil},
		{"stops at a short header", cat(a, short, b), false, nil},
		{"ignores another DCID", cat(a, other), false, nil},
		{"0-RTT only", zeroRTT, false, ErrNoInitial},
		{"truncated second Initial", cat(a, b[:len(b)-1]), false, ErrMalformed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var c Conn
			res, err := c.Feed(tt.datagram)
			if !errors.Is(err, tt.err) && !(tt.err == nil && err == nil) {
				t.Errorf("err = %v; want %v", err, tt.err)
			}
			if res.Complete != tt.complete {
				t.Errorf("Complete = %v; want %v", res.Complete, tt.complete)
			}
		})
	}
}

// TestConnectionIDs follows the DCID rules: later Initials with the server's CID keep the
// original keys; a Retry (or a new attempt) switches keys and starts over.
func TestConnectionIDs(t *testing.T) {
	hello := testHello("cid.example", 1500)
	orig := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	serverCID := []byte{0xaa, 0xbb, 0xcc, 0xdd}
	retryCID := []byte{0x11, 0x22, 0x33, 0x44, 0x55}

	t.Run("second flight after server Initial", func(t *testing.T) {
		var c Conn
		c.Feed(seal(t, initialSpec{version: Version1, keyDCID: orig, pn: 0, frames: cryptoFrame(0, hello[:900])}))
		res, err := c.Feed(seal(t, initialSpec{version: Version1, keyDCID: orig, dcid: serverCID, pn: 1,
			frames: cryptoFrame(900, hello[900:])}))
		if err != nil || !res.Complete || !bytes.Equal(res.DCID, orig) {
			t.Fatalf("complete=%v dcid=%x err=%v; want complete with the original DCID", res.Complete, res.DCID, err)
		}
	})
	t.Run("Retry restarts with the new DCID", func(t *testing.T) {
		var c Conn
		c.Feed(seal(t, initialSpec{version: Version1, keyDCID: orig, pn: 0, frames: cryptoFrame(0, hello[:900])}))
		// After the Retry the client resends the whole ClientHello under keys from the
		// new DCID, continuing its packet numbers, with a token.
		res, err := c.Feed(seal(t, initialSpec{version: Version1, keyDCID: retryCID, pn: 1, token: []byte("retry-token"),
			frames: cryptoFrame(900, hello[900:])}))
		if err != nil || res.Complete {
			t.Fatalf("first post-Retry packet: complete=%v err=%v; want incomplete (old data dropped)", res.Complete, err)
		}
		if !bytes.Equal(res.DCID, retryCID) {
			t.Fatalf("DCID = %x; want %x", res.DCID, retryCID)
		}
		res, err = c.Feed(seal(t, initialSpec{version: Version1, keyDCID: retryCID, pn: 2, frames: cryptoFrame(0, hello[:900])}))
		if err != nil || !res.Complete || !bytes.Equal(res.Hello, hello) {
			t.Fatalf("complete=%v err=%v", res.Complete, err)
		}
	})
	t.Run("stale packet of the old attempt after Retry", func(t *testing.T) {
		var c Conn
		c.Feed(seal(t, initialSpec{version: Version1, keyDCID: orig, pn: 0, frames: cryptoFrame(0, hello[:900])}))
		c.Feed(seal(t, initialSpec{version: Version1, keyDCID: retryCID, pn: 1, frames: cryptoFrame(0, hello[:900])}))
		// A late retransmission under the original keys: it opens (keys cached) and
		// becomes the current attempt again; the data is the same ClientHello.
		res, err := c.Feed(seal(t, initialSpec{version: Version1, keyDCID: orig, pn: 2, frames: cryptoFrame(0, hello)}))
		if err != nil || !res.Complete || !bytes.Equal(res.Hello, hello) {
			t.Fatalf("complete=%v err=%v", res.Complete, err)
		}
	})
}

func TestFrameErrors(t *testing.T) {
	dcid := []byte{5, 5, 5, 5, 5, 5, 5, 5}
	hello := testHello("errors.example", 400)
	for _, tt := range []struct {
		name   string
		frames []byte
		want   error
	}{
		{"STREAM frame", append(cryptoFrame(0, hello[:10]), 0x08, 0, 0), ErrFrame},
		{"unknown frame type", []byte{0x21}, ErrFrame},
		{"CRYPTO length beyond packet", []byte{frameCrypto, 0, 0x50, 0}, ErrMalformed},
		{"CRYPTO beyond 64 KiB", cryptoFrame(maxStream, []byte{1}), ErrLimit},
		{"ServerHello", cryptoFrame(0, []byte{2, 0, 0, 1, 0}), ErrNotClientHello},
		{"huge ClientHello length", cryptoFrame(0, []byte{1, 0xff, 0xff, 0xff}), ErrLimit},
		{"ACK with absurd range count", []byte{frameAck, 0, 0, 0x7f, 0xff, 0}, ErrMalformed},
		{"truncated CONNECTION_CLOSE", []byte{frameConnClose, 0, 0, 0x40, 0x40}, ErrMalformed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var c Conn
			_, err := c.Feed(seal(t, initialSpec{version: Version1, keyDCID: dcid, frames: tt.frames}))
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v; want %v", err, tt.want)
			}
		})
	}
	t.Run("too many gaps", func(t *testing.T) {
		var c Conn
		var fr []byte
		for i := range maxRanges + 1 {
			fr = append(fr, cryptoFrame(10+2*i, []byte{0})...)
		}
		_, err := c.Feed(seal(t, initialSpec{version: Version1, keyDCID: dcid, frames: fr}))
		if !errors.Is(err, ErrLimit) || c.nrange != maxRanges {
			t.Errorf("err = %v, ranges = %d; want ErrLimit, %d", err, c.nrange, maxRanges)
		}
	})
}

func TestAddRange(t *testing.T) {
	for _, tt := range []struct {
		name string
		add  [][2]int
		want []span
	}{
		{"single", [][2]int{{0, 5}}, []span{{0, 5}}},
		{"adjacent merge", [][2]int{{0, 5}, {5, 9}}, []span{{0, 9}}},
		{"disjoint sorted", [][2]int{{10, 12}, {0, 2}, {5, 6}}, []span{{0, 2}, {5, 6}, {10, 12}}},
		{"bridge three", [][2]int{{0, 2}, {4, 6}, {8, 10}, {1, 9}}, []span{{0, 10}}},
		{"contained", [][2]int{{0, 10}, {3, 4}}, []span{{0, 10}}},
		{"covering", [][2]int{{3, 4}, {6, 7}, {0, 10}}, []span{{0, 10}}},
		{"left adjacent", [][2]int{{5, 8}, {2, 5}}, []span{{2, 8}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var c Conn
			for _, a := range tt.add {
				if !c.addRange(a[0], a[1]) {
					t.Fatalf("addRange(%v) = false", a)
				}
			}
			if got := c.ranges[:c.nrange]; !slices.Equal(got, tt.want) {
				t.Errorf("ranges = %v; want %v", got, tt.want)
			}
		})
	}
}

func TestDecodePacketNumber(t *testing.T) {
	for _, tt := range []struct {
		expected  int64
		truncated uint64
		bits      int
		want      int64
	}{
		{0xa82f30eb, 0x9b32, 16, 0xa82f9b32}, // RFC 9000 Appendix A.3 example (largest 0xa82f30ea)
		{0, 0, 8, 0},
		{0, 2, 32, 2},
		{3, 2, 8, 2},
		{255, 0, 8, 256},
		{300, 0xff, 8, 255},
	} {
		if got := decodePacketNumber(tt.expected, tt.truncated, tt.bits); got != tt.want {
			t.Errorf("decodePacketNumber(%#x, %#x, %d) = %#x; want %#x", tt.expected, tt.truncated, tt.bits, got, tt.want)
		}
	}
}

func TestPacketNumberNonce(t *testing.T) {
	// Packet numbers of several bytes must enter the nonce as full values.
	hello := testHello("pn.example", 300)
	dcid := []byte{7, 7, 7, 7, 7, 7, 7, 7}
	var c Conn
	c.Feed(seal(t, initialSpec{version: Version1, keyDCID: dcid, pn: 300, pnLen: 2, frames: cryptoFrame(0, hello[:100])}))
	res, err := c.Feed(seal(t, initialSpec{version: Version1, keyDCID: dcid, pn: 301, pnLen: 1, frames: cryptoFrame(100, hello[100:])}))
	if err != nil || !res.Complete {
		t.Fatalf("complete=%v err=%v", res.Complete, err)
	}
}
