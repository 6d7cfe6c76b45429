//go:build ignore

// Command gen writes the small geo fixtures in this directory. Run it from
// the repository root after changing it:
//
//	go run ./testdata/geo/gen.go
//
// Every network and value below is made up for tests; the addresses come
// from ranges whose real owners are irrelevant to the assertions. The
// expected lookups live in geo/fixtures_test.go.
package main

import (
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

const dir = "testdata/geo"

// buildEpoch is fixed so the files are reproducible.
const buildEpoch = 1767225600 // 2026-01-01T00:00:00Z

type rec struct {
	network string
	value   mmdbtype.Map
}

func write(name, dbType string, recs []rec) {
	t, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType: dbType,
		Description:  map[string]string{"en": "egresswatch test fixture (made-up data)"},
		BuildEpoch:   buildEpoch,
		RecordSize:   24,
		IPVersion:    6,
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range recs {
		_, n, err := net.ParseCIDR(r.network)
		if err != nil {
			log.Fatal(err)
		}
		if err := t.Insert(n, r.value); err != nil {
			log.Fatalf("%s %s: %v", name, r.network, err)
		}
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := t.WriteTo(f); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

func cc(code string) mmdbtype.Map {
	return mmdbtype.Map{"country_code": mmdbtype.String(code)}
}

func asn(n uint32, org string) mmdbtype.Map {
	return mmdbtype.Map{
		"autonomous_system_number":       mmdbtype.Uint32(n),
		"autonomous_system_organization": mmdbtype.String(org),
	}
}

func dbip(code string, eu bool) mmdbtype.Map {
	country := mmdbtype.Map{"iso_code": mmdbtype.String(code),
		"names": mmdbtype.Map{"en": mmdbtype.String("Country " + code)}}
	if eu {
		country["is_in_european_union"] = mmdbtype.Bool(true)
	}
	return mmdbtype.Map{"country": country,
		"continent": mmdbtype.Map{"code": mmdbtype.String("EU")}}
}

func main() {
	// ip-location-db layout: {country_code}, database_type "country ipvAll".
	write("iplocationdb-country.mmdb", "country ipvAll", []rec{
		{"81.2.69.0/24", cc("GB")},
		{"89.160.0.0/16", cc("SE")},
		{"198.51.0.0/16", cc("NO")}, // a /16 around a documentation /24
		{"2a02:d3c0::/29", cc("GB")},
		{"2001:67c::/32", cc("CH")},
	})
	// ip-location-db asn-mmdb layout, database_type "asn ipvAll".
	write("iplocationdb-asn.mmdb", "asn ipvAll", []rec{
		{"81.2.69.0/24", asn(20712, "Andrews & Arnold Ltd")},
		{"2001:67c::/32", asn(559, "SWITCH")},
	})
	// DB-IP Lite layout: GeoIP2-like country record, no registered_country.
	write("dbip-country-lite.mmdb", "DBIP-Country-Lite", []rec{
		{"89.160.0.0/16", dbip("SE", true)},
		{"2001:67c::/32", dbip("CH", false)},
	})
	// A valid MaxMind DB file of a kind egresswatch does not read.
	write("unsupported-type.mmdb", "Acme-Widgets", []rec{
		{"81.2.69.0/24", mmdbtype.Map{"widget": mmdbtype.Bool(true)}},
	})

	// ip-location-db ASN CSV: start,end,asn,org (inclusive, org quoted when
	// it has a comma). Ranges deliberately not CIDR-aligned.
	csvs := map[string]string{
		"asn-ranges.csv": "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n" +
			"81.2.69.0,81.2.69.255,20712,Andrews & Arnold Ltd\n" +
			"45.100.1.5,45.100.3.17,64500,Odd Range Ltd\n" +
			"2001:67c::,2001:67c:ffff:ffff:ffff:ffff:ffff:ffff,559,SWITCH\n",
		// ip-location-db country CSV: start,end,country_code.
		"country-ranges.csv": "81.2.69.0,81.2.69.255,GB\n" +
			"5.5.5.0,5.5.6.127,DE\n",
	}
	for name, body := range csvs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("wrote fixtures to", dir)
}
