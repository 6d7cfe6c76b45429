package classify

import (
	"testing"

	"github.com/miekg/dns"
)

// TestRDATA checks the one spelling of DNSRecord.Data: names without the
// trailing dot, TXT strings unquoted and joined.
func TestRDATA(t *testing.T) {
	for _, tt := range []struct{ rr, want string }{
		{"a.example. 60 IN MX 10 mail.example.com.", "10 mail.example.com"},
		{"a.example. 60 IN NS ns1.example.net.", "ns1.example.net"},
		{"4.3.2.1.in-addr.arpa. 60 IN PTR host.example.", "host.example"},
		{"_sip._tcp.example. 60 IN SRV 10 5 5060 sip.example.", "10 5 5060 sip.example"},
		{"example. 60 IN SOA ns.example. hostmaster.example. 2024010101 7200 3600 1209600 300", "ns.example hostmaster.example 2024010101 7200 3600 1209600 300"},
		{`a.example. 60 IN TXT "v=spf1 " "-all"`, "v=spf1 -all"},
		{`a.example. 60 IN TXT "say \"hi\""`, `say \"hi\"`},
		{"a.example. 60 IN MX 0 .", "0 ."},
		{"a.example. 60 IN CAA 0 issue \"ca.example\"", `0 issue "ca.example"`},
	} {
		rr, err := dns.NewRR(tt.rr)
		if err != nil {
			t.Fatalf("%s: %v", tt.rr, err)
		}
		if got := rdata(rr); got != tt.want {
			t.Errorf("%s: data %q, want %q", tt.rr, got, tt.want)
		}
	}
}
