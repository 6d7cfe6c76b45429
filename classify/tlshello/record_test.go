package tlshello

import (
	"bytes"
	"fmt"
	"testing"
)

// TestAssembleSplits frames each generated ClientHello into records of
// several sizes and feeds every prefix of the stream to Assemble, as a TCP
// reassembler would with arbitrary segment boundaries.
func TestAssembleSplits(t *testing.T) {
	trailer := []byte{20, 3, 3, 0, 1, 1} // a ChangeCipherSpec record after the hello
	for _, g := range generatedHellos(t) {
		for _, size := range []int{1, 2, 3, 4, 5, 7, 100, 512, 1000, 16384} {
			t.Run(fmt.Sprintf("%s/records-of-%d", g.name, size), func(t *testing.T) {
				stream := append(frame(g.msg, size), trailer...)
				full := len(stream) - len(trailer)
				scratch := make([]byte, 0, 64)
				for n := 0; n <= len(stream); n++ {
					msg, st, need := Assemble(stream[:n], scratch)
					if n < full {
						if st != StatusNeedMore || need < 1 || n+need > full {
							t.Fatalf("prefix %d/%d: status %v need %d", n, full, st, need)
						}
						continue
					}
					if st != StatusComplete || !bytes.Equal(msg, g.msg) {
						t.Fatalf("prefix %d/%d: status %v, message equal %v", n, full, st, bytes.Equal(msg, g.msg))
					}
				}
				msg, _, _ := Assemble(stream, nil)
				if single := size >= len(g.msg); single != (&msg[0] == &stream[RecordHeaderLen]) {
					t.Errorf("aliases stream = %v, want %v", !single, single)
				}
				if cap(msg) != len(msg) && size >= len(g.msg) {
					t.Errorf("aliased message has spare capacity %d: an append would overwrite the stream", cap(msg)-len(msg))
				}
				h, err := Parse(msg)
				if err != nil || h.ServerName != mustParse(t, g.msg).ServerName {
					t.Errorf("Parse after Assemble: %v %v", h, err)
				}
			})
		}
	}
}

func mustParse(t *testing.T, msg []byte) *ClientHello {
	t.Helper()
	h, err := Parse(msg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestAssembleNeedExact checks the need hint where it is exact: a record
// whose header is complete and whose length covers the whole message.
func TestAssembleNeedExact(t *testing.T) {
	msg := generatedHellos(t)[0].msg
	stream := frame(msg, len(msg))
	if _, st, need := Assemble(stream[:RecordHeaderLen], nil); st != StatusNeedMore || need != 4 {
		t.Errorf("header only: status %v need %d, want need-more 4 (the handshake header)", st, need)
	}
	for _, n := range []int{RecordHeaderLen + 4, 517, len(stream) - 1} {
		_, st, need := Assemble(stream[:n], nil)
		if st != StatusNeedMore || need != len(stream)-n {
			t.Errorf("prefix %d: status %v need %d, want need-more %d", n, st, need, len(stream)-n)
		}
	}
}

func TestAssembleNotTLS(t *testing.T) {
	hello := helloSpec{0x0303, []uint16{0x1301}, []ext{sniExt("a.example")}, false}.build()
	rec := frame(hello, 1<<14)
	withType := func(i int, v byte) []byte {
		b := bytes.Clone(rec)
		b[i] = v
		return b
	}
	for _, tt := range []struct {
		name   string
		stream []byte
	}{
		{"http", []byte("GET / HTTP/1.1\r\nHost: a.example\r\n\r\n")},
		{"ssh", []byte("SSH-2.0-OpenSSH_9.6\r\n")},
		{"sslv2-compatible-hello", []byte{0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10}},
		{"application-data", withType(0, 23)},
		{"alert", withType(0, 21)},
		{"version-3.5", withType(2, 5)},
		{"major-version-2", withType(1, 2)},
		{"partial-header-bad-version", []byte{22, 3, 9}},
		{"zero-length-record", []byte{22, 3, 1, 0, 0, 1, 0, 0, 1}},
		{"record-too-long", []byte{22, 3, 1, 0x48, 0x01, 1}},
		{"server-hello", withType(5, 2)},
		{"handshake-over-64k", []byte{22, 3, 1, 0, 4, 1, 0x01, 0x00, 0x01}},
		{"handshake-type-split", []byte{22, 3, 1, 0, 1, 1, 22, 3, 1, 0, 1, 0x01, 22, 3, 1, 0, 2, 0x00, 0x01, 21, 3, 3}},
		{"ccs-inside-hello", append(frame(hello[:10], 10), 20, 3, 3, 0, 1, 1)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if msg, st, _ := Assemble(tt.stream, nil); st != StatusNotTLS || msg != nil {
				t.Errorf("status %v, msg %d bytes; want not-tls", st, len(msg))
			}
		})
	}
}

func TestAssembleLimits(t *testing.T) {
	// The largest record payload is accepted; one more byte is not.
	big := []byte{22, 3, 3, byte(MaxRecordLen >> 8), byte(MaxRecordLen & 0xff), 1, 0, 0x50, 0}
	if _, st, _ := Assemble(big, nil); st != StatusNeedMore {
		t.Errorf("record of MaxRecordLen: %v", st)
	}
	big[4]++
	if _, st, _ := Assemble(big, nil); st != StatusNotTLS {
		t.Errorf("record of MaxRecordLen+1: %v", st)
	}
	// A 64 KiB handshake message over five records is assembled.
	body := make([]byte, MaxHandshakeLen)
	msg := append([]byte{1, 1, 0, 0}, body...)
	msg2, st, _ := Assemble(frame(msg, 1<<14), nil)
	if st != StatusComplete || len(msg2) != len(msg) {
		t.Errorf("64 KiB message: %v, %d bytes", st, len(msg2))
	}
}

func TestLooksLikeTLS(t *testing.T) {
	hello := frame(helloSpec{0x0303, []uint16{0x1301}, nil, false}.build(), 1<<14)
	for _, tt := range []struct {
		name string
		b    []byte
		want bool
	}{
		{"client-hello", hello, true},
		{"first-three-bytes", hello[:3], true},
		{"header-only", hello[:5], true},
		{"two-bytes", hello[:2], false},
		{"ssl3-record", []byte{22, 3, 0, 0, 5, 1}, true},
		{"tls13-record-version", []byte{22, 3, 4, 0, 5, 1}, true},
		{"version-3.5", []byte{22, 3, 5, 0, 5, 1}, false},
		{"server-hello", []byte{22, 3, 3, 0, 5, 2}, false},
		{"zero-length", []byte{22, 3, 1, 0, 0}, false},
		{"too-long", []byte{22, 3, 1, 0xff, 0xff, 1}, false},
		{"http", []byte("GET / HTTP/1.1\r\n"), false},
		{"sslv2", []byte{0x80, 0x2e, 0x01, 0x03, 0x01}, false},
		{"empty", nil, false},
	} {
		if got := LooksLikeTLS(tt.b); got != tt.want {
			t.Errorf("%s: LooksLikeTLS = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestAssembleAllocs(t *testing.T) {
	msg := generatedHellos(t)[0].msg
	one := frame(msg, 1<<14)
	many := frame(msg, 300)
	scratch := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() { Assemble(one, nil) }); n != 0 {
		t.Errorf("Assemble (one record) = %v allocs, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { Assemble(many, scratch) }); n != 0 {
		t.Errorf("Assemble (many records, scratch with room) = %v allocs, want 0", n)
	}
}

func BenchmarkAssemble(b *testing.B) {
	msg := generatedHellos(b)[0].msg
	for _, size := range []int{1 << 14, 300} {
		b.Run(fmt.Sprintf("records-of-%d", size), func(b *testing.B) {
			stream := frame(msg, size)
			scratch := make([]byte, 0, 4096)
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			for b.Loop() {
				if _, st, _ := Assemble(stream, scratch); st != StatusComplete {
					b.Fatal(st)
				}
			}
		})
	}
}
