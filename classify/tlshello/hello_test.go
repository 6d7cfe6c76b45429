package tlshello

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

const x25519MLKEM768 = 0x11ec

func TestParseGoClientHellos(t *testing.T) {
	want := map[string]struct {
		sni       string
		alpn      []string
		version13 bool
		pq        bool
		ech       bool
		ja4Prefix string
	}{
		"go-default-pq":        {"example.org", []string{"h2", "http/1.1"}, true, true, false, "t13d"},
		"go-x25519-mixed-case": {"www.example.com", []string{"http/1.1"}, true, false, false, "t13d"},
		"go-tls12-only":        {"legacy.example.com", nil, false, false, false, "t12d"},
		"go-ip-no-sni":         {"", []string{"dot"}, true, true, false, "t13i"}, // crypto/tls sends no SNI for IPs
		"go-ech":               {"public.example.net", []string{"h2"}, true, true, true, "t13d"},
	}
	for _, g := range generatedHellos(t) {
		t.Run(g.name, func(t *testing.T) {
			w, ok := want[g.name]
			if !ok {
				t.Fatalf("no expectation for %s", g.name)
			}
			h, err := Parse(g.msg)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if h.ServerName != w.sni {
				t.Errorf("ServerName = %q, want %q", h.ServerName, w.sni)
			}
			if !slices.Equal(h.ALPN, w.alpn) {
				t.Errorf("ALPN = %q, want %q", h.ALPN, w.alpn)
			}
			if got := slices.Contains(h.SupportedVersions, 0x0304); got != w.version13 {
				t.Errorf("supported_versions has TLS 1.3 = %v, want %v (%#04x)", got, w.version13, h.SupportedVersions)
			}
			if got := slices.Contains(h.KeyShares, x25519MLKEM768); got != w.pq {
				t.Errorf("X25519MLKEM768 key share = %v, want %v (%#04x)", got, w.pq, h.KeyShares)
			}
			if w.pq && len(g.msg) < 1200 {
				t.Errorf("post-quantum ClientHello is only %d bytes", len(g.msg))
			}
			if h.ECH != w.ech || h.ECHInner || h.ESNI || h.ServerNameIsIP || h.ServerNameInvalid {
				t.Errorf("ECH=%v (want %v) ECHInner=%v ESNI=%v IsIP=%v Invalid=%v",
					h.ECH, w.ech, h.ECHInner, h.ESNI, h.ServerNameIsIP, h.ServerNameInvalid)
			}
			if h.Version != 0x0303 {
				t.Errorf("legacy_version = %#04x, want 0x0303", h.Version)
			}
			if len(h.CipherSuites) == 0 || len(h.Extensions) == 0 || len(h.SignatureAlgs) == 0 {
				t.Errorf("empty lists: %d suites, %d extensions, %d sigalgs",
					len(h.CipherSuites), len(h.Extensions), len(h.SignatureAlgs))
			}
			if !strings.HasPrefix(h.JA4, w.ja4Prefix) || len(h.JA4) != JA4Len {
				t.Errorf("JA4 = %q, want prefix %q and length %d", h.JA4, w.ja4Prefix, JA4Len)
			}
			if w.ech && bytes.Contains(g.msg, []byte(g.cfg.ServerName)) {
				t.Errorf("inner name %q is visible in the outer ClientHello", g.cfg.ServerName)
			}
		})
	}
}

// TestJA4SpecExample rebuilds the example of the FoxIO JA4 specification
// (technical_details/JA4.md) and checks the published fingerprint, with GREASE
// values added that must be ignored.
func TestJA4SpecExample(t *testing.T) {
	suites := []uint16{0x1a1a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
		0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035}
	order := []uint16{0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005,
		0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015}
	sigalgs := []uint16{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601}
	exts := []ext{{0x2a2a, nil}}
	for _, e := range order {
		switch e {
		case ExtServerName:
			exts = append(exts, sniExt("example.com"))
		case ExtALPN:
			exts = append(exts, alpnExt("h2", "http/1.1"))
		case ExtSignatureAlgorithms:
			exts = append(exts, u16ListExt(e, 2, sigalgs...))
		case ExtSupportedVersions:
			exts = append(exts, u16ListExt(e, 1, 0x3a3a, 0x0304, 0x0303))
		case ExtSupportedGroups:
			exts = append(exts, u16ListExt(e, 2, 0x4a4a, 0x001d))
		case ExtKeyShare:
			exts = append(exts, ext{e, []byte{0, 0}})
		default:
			exts = append(exts, ext{e, nil})
		}
	}
	msg := helloSpec{version: 0x0303, suites: suites, exts: exts}.build()
	h, err := Parse(msg)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	const want = "t13d1516h2_8daaf6152771_e5627efa2ab1"
	if h.JA4 != want {
		t.Errorf("JA4 = %q, want %q", h.JA4, want)
	}
	if got := string(h.AppendJA4(nil, JA4QUIC)); got != "q"+want[1:] {
		t.Errorf("QUIC JA4 = %q", got)
	}
	// Without signature algorithms the spec gives 6d807ffa2a79 for the same extensions.
	h.SignatureAlgs = nil
	if got := string(h.AppendJA4(nil, JA4TCP)); got != "t13d1516h2_8daaf6152771_6d807ffa2a79" {
		t.Errorf("JA4 without sigalgs = %q", got)
	}
}

func TestJA4ALPNChars(t *testing.T) {
	for _, tt := range []struct {
		alpn []string
		want string
	}{
		{nil, "00"},
		{[]string{"h2"}, "h2"},
		{[]string{"http/1.1", "h2"}, "h1"},
		{[]string{"h"}, "hh"},
		{[]string{"\xab"}, "ab"},
		{[]string{"\xab\xcd"}, "ad"},
		{[]string{"0\xab"}, "3b"},
		{[]string{"01\xab\xcd"}, "3d"},
		{[]string{"0\xab\xcd1"}, "01"},
	} {
		if got := string(appendALPNChars(nil, tt.alpn)); got != tt.want {
			t.Errorf("ALPN %q: got %q, want %q", tt.alpn, got, tt.want)
		}
	}
}

func TestParseHandBuilt(t *testing.T) {
	base := []uint16{0x1301, 0xc02f}
	for _, tt := range []struct {
		name  string
		spec  helloSpec
		check func(t *testing.T, h *ClientHello)
	}{
		{"ipv4-literal-sni", helloSpec{0x0303, base, []ext{sniExt("203.0.113.7")}, false}, func(t *testing.T, h *ClientHello) {
			if h.ServerName != "203.0.113.7" || !h.ServerNameIsIP {
				t.Errorf("ServerName %q IsIP %v", h.ServerName, h.ServerNameIsIP)
			}
		}},
		{"ipv6-literal-sni", helloSpec{0x0303, base, []ext{sniExt("2001:DB8::1")}, false}, func(t *testing.T, h *ClientHello) {
			if h.ServerName != "2001:db8::1" || !h.ServerNameIsIP {
				t.Errorf("ServerName %q IsIP %v", h.ServerName, h.ServerNameIsIP)
			}
		}},
		{"numeric-label-name", helloSpec{0x0303, base, []ext{sniExt("1.2.3.4.example")}, false}, func(t *testing.T, h *ClientHello) {
			if h.ServerNameIsIP {
				t.Errorf("%q taken for an IP literal", h.ServerName)
			}
		}},
		{"first-host-name-wins", helloSpec{0x0303, base, []ext{sniExt("a.example", "b.example")}, false}, func(t *testing.T, h *ClientHello) {
			if h.ServerName != "a.example" {
				t.Errorf("ServerName %q", h.ServerName)
			}
		}},
		{"duplicate-sni-extension", helloSpec{0x0303, base, []ext{sniExt("a.example"), sniExt("b.example")}, false}, func(t *testing.T, h *ClientHello) {
			if h.ServerName != "a.example" || len(h.Extensions) != 2 {
				t.Errorf("ServerName %q, extensions %#04x", h.ServerName, h.Extensions)
			}
		}},
		{"control-byte-sni", helloSpec{0x0303, base, []ext{sniExt("evil\x00.example")}, false}, func(t *testing.T, h *ClientHello) {
			if h.ServerName != "" || !h.ServerNameInvalid {
				t.Errorf("ServerName %q Invalid %v", h.ServerName, h.ServerNameInvalid)
			}
		}},
		{"invalid-utf8-sni", helloSpec{0x0303, base, []ext{sniExt("b\xffd.example")}, false}, func(t *testing.T, h *ClientHello) {
			if h.ServerName != "" || !h.ServerNameInvalid {
				t.Errorf("ServerName %q Invalid %v", h.ServerName, h.ServerNameInvalid)
			}
		}},
		{"utf8-sni-kept", helloSpec{0x0303, base, []ext{sniExt("Bücher.Example")}, false}, func(t *testing.T, h *ClientHello) {
			if h.ServerName != "bücher.example" {
				t.Errorf("ServerName %q", h.ServerName)
			}
		}},
		{"esni-only", helloSpec{0x0303, base, []ext{{ExtEncryptedServerName, []byte{0x13, 0x01}}}, false}, func(t *testing.T, h *ClientHello) {
			if !h.ESNI || h.ServerName != "" || !strings.HasPrefix(h.JA4, "t12i") {
				t.Errorf("ESNI %v ServerName %q JA4 %q", h.ESNI, h.ServerName, h.JA4)
			}
		}},
		{"ech-inner", helloSpec{0x0303, base, []ext{sniExt("x.example"), {ExtEncryptedClientHelo, []byte{1}}}, false}, func(t *testing.T, h *ClientHello) {
			if !h.ECH || !h.ECHInner {
				t.Errorf("ECH %v ECHInner %v", h.ECH, h.ECHInner)
			}
		}},
		{"no-extensions-block", helloSpec{0x0301, base, nil, true}, func(t *testing.T, h *ClientHello) {
			if len(h.Extensions) != 0 || h.JA4 != "t10i020000_"+h.JA4[11:23]+"_000000000000" {
				t.Errorf("extensions %v JA4 %q", h.Extensions, h.JA4)
			}
		}},
		{"quic-transport-params", helloSpec{0x0303, base, []ext{{ExtQUICTransportParams, []byte{1, 2}}}, false}, func(t *testing.T, h *ClientHello) {
			if !h.QUIC {
				t.Errorf("QUIC not set")
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, err := Parse(tt.spec.build())
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tt.check(t, h)
		})
	}
}

func TestParseErrors(t *testing.T) {
	good := helloSpec{0x0303, []uint16{0x1301}, []ext{sniExt("a.example"), alpnExt("h2")}, false}.build()
	// Every proper prefix is truncated.
	for n := range len(good) {
		if _, err := Parse(good[:n]); !errors.Is(err, ErrTruncated) {
			t.Fatalf("prefix of %d/%d bytes: err = %v, want ErrTruncated", n, len(good), err)
		}
	}
	// Trailing bytes after the message are ignored.
	if h, err := Parse(append(slices.Clip(good), 0x16, 0x03)); err != nil || h.ServerName != "a.example" {
		t.Errorf("with trailing bytes: %v, %v", h, err)
	}
	mutate := func(f func(b []byte) []byte) []byte { return f(slices.Clone(good)) }
	for _, tt := range []struct {
		name string
		msg  []byte
		want error
	}{
		{"server-hello", mutate(func(b []byte) []byte { b[0] = 2; return b }), ErrNotClientHello},
		{"over-64k", []byte{1, 0x01, 0x00, 0x01}, ErrMalformed},
		{"no-cipher-suites", helloSpec{0x0303, nil, nil, true}.build(), ErrMalformed},
		{"odd-cipher-suites", mutate(func(b []byte) []byte {
			// body: version(2) random(32) sid(1+32) suites len at 4+67
			b[4+67+1] = 3
			return b
		}), ErrMalformed},
		{"session-id-33", mutate(func(b []byte) []byte { b[4+34] = 33; return b }), ErrMalformed},
		{"garbage-after-extensions", func() []byte {
			b := slices.Clone(good)
			b = append(b, 0)
			n := len(b) - 4
			b[1], b[2], b[3] = byte(n>>16), byte(n>>8), byte(n)
			return b
		}(), ErrMalformed},
		{"bad-sni-list", helloSpec{0x0303, []uint16{0x1301}, []ext{{ExtServerName, []byte{0, 5, 0}}}, false}.build(), ErrMalformed},
		{"empty-alpn-entry", helloSpec{0x0303, []uint16{0x1301}, []ext{{ExtALPN, []byte{0, 1, 0}}}, false}.build(), ErrMalformed},
		{"odd-supported-versions", helloSpec{0x0303, []uint16{0x1301}, []ext{{ExtSupportedVersions, []byte{3, 3, 4, 3}}}, false}.build(), ErrMalformed},
		{"bad-key-share", helloSpec{0x0303, []uint16{0x1301}, []ext{{ExtKeyShare, []byte{0, 4, 0, 0x1d, 0, 9}}}, false}.build(), ErrMalformed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse(tt.msg); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestParseIntoReuse checks that a reused ClientHello carries nothing over
// from the previous message.
func TestParseIntoReuse(t *testing.T) {
	gen := generatedHellos(t)
	var h ClientHello
	for round := range 2 {
		for _, g := range gen {
			if err := ParseInto(&h, g.msg); err != nil {
				t.Fatalf("%s: %v", g.name, err)
			}
			fresh, err := Parse(g.msg)
			if err != nil {
				t.Fatalf("%s: %v", g.name, err)
			}
			if !equalHello(&h, fresh) {
				t.Errorf("round %d %s: reused %+v, fresh %+v", round, g.name, h, *fresh)
			}
		}
	}
}

func equalHello(a, b *ClientHello) bool {
	return a.Version == b.Version && a.ServerName == b.ServerName && a.ServerNameIsIP == b.ServerNameIsIP &&
		a.ServerNameInvalid == b.ServerNameInvalid && a.ECH == b.ECH && a.ECHGrease == b.ECHGrease &&
		a.ECHInner == b.ECHInner && a.ESNI == b.ESNI && a.QUIC == b.QUIC && a.JA4 == b.JA4 &&
		slices.Equal(a.SupportedVersions, b.SupportedVersions) && slices.Equal(a.ALPN, b.ALPN) &&
		slices.Equal(a.CipherSuites, b.CipherSuites) && slices.Equal(a.Extensions, b.Extensions) &&
		slices.Equal(a.SupportedGroups, b.SupportedGroups) && slices.Equal(a.KeyShares, b.KeyShares) &&
		slices.Equal(a.SignatureAlgs, b.SignatureAlgs)
}

func TestParseIntoAllocs(t *testing.T) {
	msg := generatedHellos(t)[0].msg // Go default: post-quantum key share, SNI, ALPN
	var h ClientHello
	if err := ParseInto(&h, msg); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = ParseInto(&h, msg) }); n != 0 {
		t.Errorf("ParseInto (same client again) = %v allocs, want 0", n)
	}
	other := helloSpec{0x0303, []uint16{0x1301}, []ext{sniExt("other.example"), alpnExt("h2")}, false}.build()
	// Alternating clients: a new ServerName and a new JA4 string each time.
	if n := testing.AllocsPerRun(100, func() {
		_ = ParseInto(&h, msg)
		_ = ParseInto(&h, other)
	}); n > 4 {
		t.Errorf("ParseInto alternating = %v allocs per pair, want <= 4 (two strings each)", n)
	}
}

func BenchmarkParseInto(b *testing.B) {
	msg := generatedHellos(b)[0].msg
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	var h ClientHello
	for b.Loop() {
		if err := ParseInto(&h, msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseIntoNewNames defeats the string reuse: every iteration sees
// a different server name, as a monitor does across flows.
func BenchmarkParseIntoNewNames(b *testing.B) {
	msgs := [][]byte{generatedHellos(b)[0].msg, generatedHellos(b)[1].msg}
	b.ReportAllocs()
	var h ClientHello
	i := 0
	for b.Loop() {
		if err := ParseInto(&h, msgs[i&1]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkParse(b *testing.B) {
	msg := generatedHellos(b)[0].msg
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendJA4(b *testing.B) {
	h, err := Parse(generatedHellos(b)[0].msg)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, JA4Len)
	b.ReportAllocs()
	for b.Loop() {
		buf = h.AppendJA4(buf[:0], JA4TCP)
	}
}
