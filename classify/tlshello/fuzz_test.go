package tlshello

import (
	"bytes"
	"testing"
)

// fuzzSeeds returns generated and hand-built ClientHello messages.
func fuzzSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, g := range generatedHellos(f) {
		seeds = append(seeds, g.msg)
	}
	seeds = append(seeds,
		helloSpec{0x0303, []uint16{0x1301, 0x0a0a}, []ext{sniExt("203.0.113.7"), alpnExt("h2", "\xab"),
			{ExtEncryptedServerName, nil}, {ExtEncryptedClientHelo, []byte{1}}}, false}.build(),
		helloSpec{0x0301, []uint16{0x002f}, nil, true}.build(),
	)
	return seeds
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
		f.Add(s[:len(s)/2])
		f.Add(s[:len(s)-1])
	}
	var reused ClientHello
	f.Fuzz(func(t *testing.T, msg []byte) {
		h, err := Parse(msg)
		errInto := ParseInto(&reused, msg)
		if (err == nil) != (errInto == nil) {
			t.Fatalf("Parse err %v, ParseInto err %v", err, errInto)
		}
		if err != nil {
			return
		}
		if !equalHello(h, &reused) {
			t.Fatalf("reused ClientHello differs from a fresh one:\n%+v\n%+v", reused, *h)
		}
		if len(h.JA4) != JA4Len {
			t.Fatalf("JA4 %q has length %d", h.JA4, len(h.JA4))
		}
		if h.ServerName != "" && !validHostName([]byte(h.ServerName)) {
			t.Fatalf("invalid ServerName %q returned", h.ServerName)
		}
		if h.ServerNameIsIP && h.ServerName == "" {
			t.Fatal("ServerNameIsIP without a name")
		}
	})
}

func FuzzAssemble(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		for _, size := range []int{3, 200, 1 << 14} {
			st := frame(s, size)
			f.Add(st, uint16(len(st)/2))
			f.Add(st[:len(st)-1], uint16(7))
		}
	}
	f.Add([]byte("GET / HTTP/1.1\r\n"), uint16(3))
	f.Fuzz(func(t *testing.T, stream []byte, cut uint16) {
		msg, st, need := Assemble(stream, nil)
		switch st {
		case StatusNeedMore:
			if need < 1 || msg != nil {
				t.Fatalf("need-more with need %d, msg %d bytes", need, len(msg))
			}
		case StatusNotTLS:
			if msg != nil {
				t.Fatal("not-tls with a message")
			}
		case StatusComplete:
			if len(msg) < 4 || msg[0] != 1 || len(msg) != 4+(int(msg[1])<<16|int(msg[2])<<8|int(msg[3])) {
				t.Fatalf("complete message is not one handshake message: % x", msg[:min(len(msg), 8)])
			}
			// More bytes never change a complete answer.
			more, st2, _ := Assemble(append(bytes.Clone(stream), 0x17, 3, 3), make([]byte, 0, 8))
			if st2 != StatusComplete || !bytes.Equal(more, msg) {
				t.Fatalf("with trailing bytes: %v", st2)
			}
		default:
			t.Fatalf("status %d", st)
		}
		// A prefix of the stream is never judged differently, except that
		// it may need more, and its need hint never overshoots a completion.
		k := int(cut) % (len(stream) + 1)
		pmsg, pst, pneed := Assemble(stream[:k], nil)
		switch {
		case pst == StatusNeedMore:
			if st == StatusComplete && k+pneed > len(stream) {
				t.Fatalf("prefix %d needs %d but %d bytes complete it", k, pneed, len(stream))
			}
		case pst != st:
			t.Fatalf("prefix %d: %v, whole stream: %v", k, pst, st)
		case pst == StatusComplete && !bytes.Equal(pmsg, msg):
			t.Fatal("prefix gives a different message")
		}
	})
}
