package tlshello

import (
	"crypto/ecdh"
	"crypto/rand"
	"crypto/tls"
	"io"
	"net"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

// This file builds the test fixtures: ClientHellos sent by Go's crypto/tls
// client (captured from a net.Pipe) and hand-built ones for cases crypto/tls
// never sends.

// captureFirstFlight runs a crypto/tls client with cfg against a net.Pipe and
// returns the handshake message (type, length, body) of its ClientHello.
// The records are read by hand here, not by Assemble, so that the fixture is
// independent of the code under test.
func captureFirstFlight(t testing.TB, cfg *tls.Config) []byte {
	t.Helper()
	c, s := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = tls.Client(c, cfg).Handshake() // fails once s is closed
	}()
	var msg []byte
	for len(msg) < 4 || len(msg) < 4+(int(msg[1])<<16|int(msg[2])<<8|int(msg[3])) {
		var hdr [5]byte
		if _, err := io.ReadFull(s, hdr[:]); err != nil {
			t.Fatalf("read record header: %v", err)
		}
		if hdr[0] != 22 {
			t.Fatalf("record type %d, want 22", hdr[0])
		}
		frag := make([]byte, int(hdr[3])<<8|int(hdr[4]))
		if _, err := io.ReadFull(s, frag); err != nil {
			t.Fatalf("read record body: %v", err)
		}
		msg = append(msg, frag...)
	}
	s.Close()
	c.Close()
	<-done
	if n := 4 + (int(msg[1])<<16 | int(msg[2])<<8 | int(msg[3])); len(msg) != n {
		t.Fatalf("first flight has %d bytes after the ClientHello", len(msg)-n)
	}
	return msg
}

// frame splits a handshake message into records of at most size bytes of
// payload each, with record version 0x0301.
func frame(msg []byte, size int) []byte {
	var out []byte
	for len(msg) > 0 {
		n := min(size, len(msg))
		out = append(out, 22, 3, 1, byte(n>>8), byte(n))
		out = append(out, msg[:n]...)
		msg = msg[n:]
	}
	return out
}

// echConfigList builds an ECHConfigList (draft-ietf-tls-esni section 4) with
// one X25519 / HKDF-SHA256 / AES-128-GCM config and returns it with the
// matching private key.
func echConfigList(t testing.TB, configID uint8, publicName string) ([]byte, []byte, *ecdh.PrivateKey) {
	t.Helper()
	key, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("generate X25519 key: %v", err)
	}
	var cfg cryptobyte.Builder
	cfg.AddUint16(0xfe0d) // version
	cfg.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint8(configID)
		b.AddUint16(0x0020) // KEM DHKEM(X25519, HKDF-SHA256)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(key.PublicKey().Bytes()) })
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint16(0x0001) // KDF HKDF-SHA256
			b.AddUint16(0x0001) // AEAD AES-128-GCM
		})
		b.AddUint8(0) // maximum_name_length
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(publicName)) })
		b.AddUint16(0) // no extensions
	})
	one := cfg.BytesOrPanic()
	var list cryptobyte.Builder
	list.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(one) })
	return list.BytesOrPanic(), one, key
}

// ext is one extension of a hand-built ClientHello.
type ext struct {
	typ  uint16
	data []byte
}

// helloSpec describes a hand-built ClientHello.
type helloSpec struct {
	version uint16
	suites  []uint16
	exts    []ext
	noExts  bool // omit the extensions block entirely
}

// build serialises the spec as a handshake message.
func (h helloSpec) build() []byte {
	var b cryptobyte.Builder
	b.AddUint8(1)
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(h.version)
		b.AddBytes(make([]byte, 32)) // random
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, 32)) })
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, s := range h.suites {
				b.AddUint16(s)
			}
		})
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) })
		if h.noExts {
			return
		}
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, e := range h.exts {
				b.AddUint16(e.typ)
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(e.data) })
			}
		})
	})
	return b.BytesOrPanic()
}

func sniExt(names ...string) ext {
	var b cryptobyte.Builder
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, n := range names {
			b.AddUint8(0)
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(n)) })
		}
	})
	return ext{ExtServerName, b.BytesOrPanic()}
}

func alpnExt(protos ...string) ext {
	var b cryptobyte.Builder
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, p := range protos {
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(p)) })
		}
	})
	return ext{ExtALPN, b.BytesOrPanic()}
}

func u16ListExt(typ uint16, prefix int, vals ...uint16) ext {
	var body []byte
	for _, v := range vals {
		body = append(body, byte(v>>8), byte(v))
	}
	var b cryptobyte.Builder
	if prefix == 1 {
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(body) })
	} else {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(body) })
	}
	return ext{typ, b.BytesOrPanic()}
}

// generated holds the crypto/tls fixtures shared by the tests.
type generated struct {
	name string
	msg  []byte
	cfg  *tls.Config
}

func generatedHellos(t testing.TB) []generated {
	t.Helper()
	echList, _, _ := echConfigList(t, 7, "public.example.net")
	cfgs := []struct {
		name string
		cfg  *tls.Config
	}{
		{"go-default-pq", &tls.Config{ServerName: "example.org", NextProtos: []string{"h2", "http/1.1"}}},
		{"go-x25519-mixed-case", &tls.Config{ServerName: "WWW.Example.COM", NextProtos: []string{"http/1.1"},
			CurvePreferences: []tls.CurveID{tls.X25519}}},
		{"go-tls12-only", &tls.Config{ServerName: "legacy.example.com", MaxVersion: tls.VersionTLS12}},
		{"go-ip-no-sni", &tls.Config{ServerName: "192.0.2.1", NextProtos: []string{"dot"}}},
		{"go-ech", &tls.Config{ServerName: "secret.example.com", NextProtos: []string{"h2"},
			MinVersion: tls.VersionTLS13, EncryptedClientHelloConfigList: echList}},
	}
	out := make([]generated, 0, len(cfgs))
	for _, c := range cfgs {
		out = append(out, generated{c.name, captureFirstFlight(t, c.cfg), c.cfg})
	}
	return out
}
