package geo

import (
	"net/netip"
	"testing"
)

func TestNAT64Embedded(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"64:ff9b::5102:45a0", "81.2.69.160"},       // well-known prefix, RFC 6052
		{"64:ff9b::81.2.69.160", "81.2.69.160"},     // same, mixed notation
		{"64:ff9b:1::5102:45a0", "81.2.69.160"},     // local-use prefix as a /96
		{"64:ff9b:1:5102:45:a000::", "81.2.69.160"}, // local-use /48: u octet skipped (RFC 6052 section 2.2)
		{"64:ff9b:1:5102:145:a000::", ""},           // u octet not zero
		{"64:ff9b:2::5102:45a0", ""},
		{"2001:db8::5102:45a0", ""},
		{"::ffff:81.2.69.160", ""},
		{"81.2.69.160", ""},
	} {
		got, ok := nat64Embedded(netip.MustParseAddr(tt.in))
		if s := got.String(); ok != (tt.want != "") || ok && s != tt.want {
			t.Errorf("nat64Embedded(%s) = %s, %v; want %q", tt.in, s, ok, tt.want)
		}
	}
}

// TestNAT64Placement places a NAT64 address as the IPv4 address it embeds,
// with every source marked.
func TestNAT64Placement(t *testing.T) {
	db, err := Open(Options{GeoIP: []string{fixture("dbip-country-lite.mmdb"), fixture("asn-ranges.csv")}})
	if err != nil {
		t.Fatal(err)
	}
	p := db.Lookup(netip.MustParseAddr("64:ff9b::89.160.20.112"))
	if p.Country != "SE" || p.CountrySource != "nat64:89.160.20.112 geoip:DBIP-Country-Lite" || p.GeoIPSource != p.CountrySource {
		t.Errorf("placement %+v; want SE from nat64:89.160.20.112 geoip:DBIP-Country-Lite", p)
	}
	p = db.Lookup(netip.MustParseAddr("64:ff9b::1.0.0.7"))
	if p.ASN != 13335 || p.ASSource != "nat64:1.0.0.7 "+db.Lookup(netip.MustParseAddr("1.0.0.7")).ASSource {
		t.Errorf("AS placement %+v; want AS13335 marked nat64", p)
	}
	p = db.Lookup(netip.MustParseAddr("64:ff9b::10.1.2.3"))
	if !p.Internal || p.Reason != "nat64:10.1.2.3 internal address: private (RFC 1918)" {
		t.Errorf("private IPv4 behind NAT64: %+v", p)
	}
	c := NewCache(db, 4)
	if got := c.Lookup(netip.MustParseAddr("64:ff9b::89.160.20.112")); got.CountrySource != "nat64:89.160.20.112 geoip:DBIP-Country-Lite" {
		t.Errorf("through a Cache: %+v", got)
	}
}
