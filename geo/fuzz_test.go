package geo

import (
	"bytes"
	"net/netip"
	"os"
	"testing"
)

// FuzzRangeCSV reads arbitrary bytes as an ip-location-db range CSV.
func FuzzRangeCSV(f *testing.F) {
	for _, n := range []string{"asn-ranges.csv", "country-ranges.csv"} {
		if b, err := os.ReadFile(fixture(n)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("::,::ffff,1,\"a,b\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		db := &rangeDB{}
		if err := db.read(bytes.NewReader(data)); err != nil {
			return
		}
		var r geoAnswer
		db.lookup(netip.MustParseAddr("1.0.0.1"), &r)
	})
}

// FuzzRangePrefixes checks that the prefixes of a range cover it exactly:
// contiguous, in order, from start to end.
func FuzzRangePrefixes(f *testing.F) {
	f.Add([]byte{100, 100, 1, 5}, []byte{100, 100, 3, 17})
	f.Add(make([]byte, 16), bytes.Repeat([]byte{0xff}, 16))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		start, ok1 := netip.AddrFromSlice(a)
		end, ok2 := netip.AddrFromSlice(b)
		if !ok1 || !ok2 || start.Is4() != end.Is4() {
			return
		}
		if end.Less(start) {
			start, end = end, start
		}
		ps := rangePrefixes(start, end, nil)
		if len(ps) == 0 || len(ps) > 2*start.BitLen() {
			t.Fatalf("%s-%s: %d prefixes", start, end, len(ps))
		}
		next := start
		for i, p := range ps {
			if p.Addr() != next || p != p.Masked() {
				t.Fatalf("%s-%s: prefix %d %s does not start at %s", start, end, i, p, next)
			}
			next = lastAddr(p).Next()
		}
		if last := lastAddr(ps[len(ps)-1]); last != end {
			t.Fatalf("%s-%s: ends at %s", start, end, last)
		}
	})
}

// FuzzLookup looks up arbitrary addresses in the fixture databases.
func FuzzLookup(f *testing.F) {
	db, err := Open(Options{GeoIP: []string{fixture("iplocationdb-country.mmdb"), fixture("asn-ranges.csv"), fixture("dbip-country-lite.mmdb")}})
	if err != nil {
		f.Fatal(err)
	}
	c := NewCache(db, 16)
	f.Add([]byte{81, 2, 69, 160})
	f.Add(netip.MustParseAddr("2001:67c::1").AsSlice())
	f.Fuzz(func(t *testing.T, b []byte) {
		a, _ := netip.AddrFromSlice(b)
		p := db.Lookup(a)
		if got := c.Lookup(a); got != p {
			t.Fatalf("cache %+v != db %+v", got, p)
		}
		if p.Indeterminate == (p.Country != "") {
			t.Fatalf("%s: indeterminate %v with country %q", a, p.Indeterminate, p.Country)
		}
	})
}
