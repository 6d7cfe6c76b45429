package classify

import (
	"reflect"
	"testing"

	"github.com/miekg/dns"
)

// TestDNSECHPublicNames checks that the public names of an HTTPS answer's
// ech parameter are read, and that a reused DNSMessage forgets them.
func TestDNSECHPublicNames(t *testing.T) {
	pack := func(rrs ...string) []byte {
		t.Helper()
		m := new(dns.Msg)
		m.SetQuestion("crypto.example.", dns.TypeHTTPS)
		m.Response = true
		for _, s := range rrs {
			rr, err := dns.NewRR(s)
			if err != nil {
				t.Fatal(err)
			}
			m.Answer = append(m.Answer, rr)
		}
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// Cloudflare's ECHConfigList (public name cloudflare-ech.com), as served.
	const cf = "AEX+DQBBdAAgACDB6UNjy9kyv48V6cEOb99HnrfJuiTGKjW9A05sDxhcKQAEAAEAAQASY2xvdWRmbGFyZS1lY2guY29tAAA="
	tests := []struct {
		name    string
		msg     []byte
		ech     bool
		publics []string
	}{
		{"https with ech", pack(`crypto.example. 300 IN HTTPS 1 . alpn="h2" ech="` + cf + `"`), true, []string{"cloudflare-ech.com"}},
		{"svcb with ech", pack(`crypto.example. 300 IN SVCB 1 svc.example. ech="` + cf + `"`), true, []string{"cloudflare-ech.com"}},
		{"https without ech", pack(`crypto.example. 300 IN HTTPS 1 . alpn="h2"`), false, nil},
		// The list's length says 70 bytes, 61 follow: the flag, no name.
		{"malformed ech", pack(`crypto.example. 300 IN HTTPS 1 . ech="AEb+DQBCAQAgACBhbGwgdGhpcyBpcyB0ZXN0IGRhdGEgb25seSEhISEAAQABAA9wdWJsaWMuZXhhbXBsZQAA"`), true, nil},
	}
	var m DNSMessage // reused, as the Inspector does
	for _, tc := range tests {
		if !parseDNS(tc.msg, &m) {
			t.Fatalf("%s: parseDNS failed", tc.name)
		}
		if m.ECH != tc.ech || !reflect.DeepEqual(append([]string(nil), m.ECHPublicNames...), tc.publics) {
			t.Errorf("%s: ECH %v, public names %q; want %v, %q", tc.name, m.ECH, m.ECHPublicNames, tc.ech, tc.publics)
		}
	}
}
