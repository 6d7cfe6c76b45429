package geo

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// shared returns ../shared/geo (seen from the repository root), or skips.
func shared(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "geo")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared reference data not found at %s (../shared beside the repo): %v", dir, err)
	}
	return dir
}

func mmTest(dir, name string) string {
	return filepath.Join(dir, "maxmind-test", "test-data", name)
}

// openShared opens the MaxMind test databases (Country, ASN, ISP) and the
// real provider range files.
func openShared(t testing.TB) *DB {
	t.Helper()
	dir := shared(t)
	db, err := Open(Options{
		GeoIP: []string{
			mmTest(dir, "GeoIP2-Country-Test.mmdb"),
			mmTest(dir, "GeoLite2-ASN-Test.mmdb"),
			mmTest(dir, "GeoIP2-ISP-Test.mmdb"),
		},
		CloudDir: filepath.Join(dir, "cloud"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

type want struct {
	country       string // Placement.Country
	provider      string
	region, zone  string
	service       string
	indeterminate bool
	internal      bool
	reason        string // substring of Reason
}

func check(t *testing.T, db *DB, ip string, w want) {
	t.Helper()
	p := db.Lookup(netip.MustParseAddr(ip))
	if p.Country != w.country || p.Cloud.Provider != w.provider || p.Cloud.Region != w.region ||
		p.Cloud.Zone != w.zone || p.Indeterminate != w.indeterminate || p.Internal != w.internal {
		t.Errorf("Lookup(%s) = country %q provider %q region %q zone %q indeterminate %v internal %v (%q); want %q %q %q %q %v %v",
			ip, p.Country, p.Cloud.Provider, p.Cloud.Region, p.Cloud.Zone, p.Indeterminate, p.Internal, p.Reason,
			w.country, w.provider, w.region, w.zone, w.indeterminate, w.internal)
	}
	if w.service != "" && p.Cloud.Service != w.service {
		t.Errorf("Lookup(%s).Cloud.Service = %q, want %q", ip, p.Cloud.Service, w.service)
	}
	if w.reason != "" && !strings.Contains(p.Reason, w.reason) {
		t.Errorf("Lookup(%s).Reason = %q, want it to contain %q", ip, p.Reason, w.reason)
	}
	if p.Indeterminate && p.Country != "" {
		t.Errorf("Lookup(%s): indeterminate but Country = %q", ip, p.Country)
	}
	if !p.Indeterminate && (p.Country == "" || p.CountrySource == "") {
		t.Errorf("Lookup(%s): determinate without country or source: %+v", ip, p)
	}
}

// TestPlacements is the project's own table of placements against the real
// provider files in ../shared/geo/cloud (snapshot 2025-07) and MaxMind's
// test databases. Every row was read off the source file by hand.
func TestPlacements(t *testing.T) {
	db := openShared(t)
	for _, tt := range []struct {
		name, ip string
		want
	}{
		// SOURCES.md fixtures.
		{"aws-london-ec2", "3.8.0.1", want{country: "GB", provider: "aws", region: "eu-west-2", service: "EC2"}},
		{"aws-london-s3", "52.95.148.1", want{country: "GB", provider: "aws", region: "eu-west-2", service: "S3"}},
		{"azure-uksouth", "4.158.0.1", want{country: "GB", provider: "azure", region: "uksouth", service: "AzureCloud"}},
		{"azure-storage-uksouth", "20.33.148.1", want{country: "GB", provider: "azure", region: "uksouth", service: "Storage"}},
		{"gcp-europe-west2", "34.13.0.1", want{country: "GB", provider: "gcp", region: "europe-west2"}},
		{"oracle-uk-london-1", "79.72.64.1", want{country: "GB", provider: "oracle", region: "uk-london-1"}},
		{"cloudflare-v4", "104.16.0.1", want{provider: "cloudflare", indeterminate: true, reason: "anycast"}},

		// AWS Local Zones: the zone's country, not the parent region's.
		{"aws-lz-lagos", "96.0.40.1", want{country: "NG", provider: "aws", region: "af-south-1", zone: "af-south-1-los-1"}},
		{"aws-lz-warsaw", "15.220.48.1", want{country: "PL", provider: "aws", region: "eu-central-1", zone: "eu-central-1-waw-1"}},
		{"aws-lz-auckland", "96.0.80.1", want{country: "NZ", provider: "aws", region: "ap-southeast-2", zone: "ap-southeast-2-akl-1"}},
		{"aws-lz-muscat", "15.220.146.1", want{country: "OM", provider: "aws", region: "me-south-1", zone: "me-south-1-mct-1"}},
		{"aws-lz-queretaro", "15.220.184.1", want{country: "MX", provider: "aws", region: "us-east-1", zone: "us-east-1-qro-1"}},
		{"aws-lz-copenhagen", "96.0.32.1", want{country: "DK", provider: "aws", region: "eu-north-1", zone: "eu-north-1-cph-1"}},
		{"aws-lz-taipei", "15.220.80.1", want{country: "TW", provider: "aws", region: "ap-northeast-1", zone: "ap-northeast-1-tpe-1"}},
		{"aws-lz-buenos-aires", "15.220.120.1", want{country: "AR", provider: "aws", region: "us-east-1", zone: "us-east-1-bue-1"}},
		{"aws-wavelength-unpublished", "161.188.48.1", want{provider: "aws", region: "us-east-1", zone: "us-east-1-foe-wlz-1", indeterminate: true, reason: "not in the region table"}},

		// eu- / europe- regions outside the EU.
		{"aws-eu-central-2-zurich", "51.34.0.1", want{country: "CH", provider: "aws", region: "eu-central-2"}},
		{"oracle-eu-jovanovac-serbia", "81.208.192.1", want{country: "RS", provider: "oracle", region: "eu-jovanovac-1"}},
		{"oracle-eu-zurich", "132.226.216.1", want{country: "CH", provider: "oracle", region: "eu-zurich-1"}},
		{"gcp-europe-west6-zurich", "34.65.0.1", want{country: "CH", provider: "gcp", region: "europe-west6"}},
		{"azure-switzerlandn", "4.163.0.1", want{country: "CH", provider: "azure", region: "switzerlandn"}},
		{"azure-norwaye", "4.177.0.1", want{country: "NO", provider: "azure", region: "norwaye"}},
		{"aws-eu-west-2-v6", "2a05:d027::1", want{country: "GB", provider: "aws", region: "eu-west-2", service: "EC2"}},

		// Other regions.
		{"aws-european-sovereign-cloud", "35.71.94.1", want{country: "DE", provider: "aws", region: "eusc-de-east-1"}},
		{"aws-cn-north-1", "54.222.88.1", want{country: "CN", provider: "aws", region: "cn-north-1"}},
		{"aws-govcloud", "52.119.208.1", want{country: "US", provider: "aws", region: "us-gov-west-1"}},
		{"azure-westeurope", "4.175.0.1", want{country: "NL", provider: "azure", region: "westeurope"}},
		{"azure-northeurope-v6", "2603:1020::1", want{country: "IE", provider: "azure", region: "northeurope"}},
		{"azure-northeurope2-unpublished", "40.78.212.1", want{provider: "azure", region: "northeurope2", indeterminate: true}},
		{"gcp-me-central2-dammam", "34.1.48.1", want{country: "SA", provider: "gcp", region: "me-central2"}},
		{"oracle-eu-frankfurt", "79.76.96.1", want{country: "DE", provider: "oracle", region: "eu-frankfurt-1"}},

		// Global ranges: indeterminate, never guessed.
		{"aws-global-cloudfront", "120.52.22.97", want{provider: "aws", service: "CLOUDFRONT", indeterminate: true, reason: "global"}},
		{"aws-global-v6", "2600:9000:3000::1", want{provider: "aws", indeterminate: true, reason: "global"}},
		{"gcp-global", "34.8.0.1", want{provider: "gcp", indeterminate: true, reason: "global"}},
		{"azure-frontdoor-global", "13.73.248.9", want{provider: "azure", service: "AzureFrontDoor", indeterminate: true}},
		{"cloudflare-v6", "2606:4700::1", want{provider: "cloudflare", indeterminate: true}},

		// Geofeeds give a country per prefix.
		{"digitalocean-amsterdam", "5.101.96.1", want{country: "NL", provider: "digitalocean", region: "NL-NH"}},
		{"linode-richardson-v6", "2600:3c00::1", want{country: "US", provider: "linode", region: "US-TX"}},

		// GeoIP only (MaxMind test data; physical country, not registered).
		{"geoip-gb-registered-us", "81.2.69.160", want{country: "GB"}},
		{"geoip-se-registered-de", "89.160.20.112", want{country: "SE"}},
		{"geoip-v6-de", "2a02:d180::1", want{country: "DE"}},
		{"geoip-anycast", "214.1.1.1", want{indeterminate: true, reason: "anycast"}},
		{"geoip-none", "5.6.7.8", want{indeterminate: true, reason: "not in any country database"}},

		// Internal addresses.
		{"rfc1918", "10.1.2.3", want{indeterminate: true, internal: true, reason: "RFC 1918"}},
		{"cgnat", "100.64.0.1", want{indeterminate: true, internal: true, reason: "CGNAT"}},
		{"ula", "fd00::1", want{indeterminate: true, internal: true, reason: "unique local"}},
		{"loopback-v6", "::1", want{indeterminate: true, internal: true, reason: "loopback"}},
		{"link-local", "169.254.1.1", want{indeterminate: true, internal: true, reason: "link-local"}},
		{"multicast", "239.255.255.250", want{indeterminate: true, internal: true, reason: "multicast"}},
		{"mapped-private", "::ffff:192.168.1.1", want{indeterminate: true, internal: true, reason: "RFC 1918"}},
	} {
		t.Run(tt.name, func(t *testing.T) { check(t, db, tt.ip, tt.want) })
	}
}

// TestGeoIPKeptBesideCloud checks that the GeoIP answer and ASN stay in the
// record when a cloud region decides the country.
func TestGeoIPKeptBesideCloud(t *testing.T) {
	dir := shared(t)
	db, err := Open(Options{GeoIP: []string{mmTest(dir, "GeoLite2-ASN-Test.mmdb")}, CloudDir: filepath.Join(dir, "cloud")})
	if err != nil {
		t.Fatal(err)
	}
	// 1.0.0.0/24 is AS15169 in GeoLite2-ASN-Test and in no cloud file.
	p := db.Lookup(netip.MustParseAddr("1.0.0.1"))
	if p.ASN != 15169 || p.ASSource != "geoip:GeoLite2-ASN" {
		t.Errorf("1.0.0.1: ASN %d from %q, want 15169 from geoip:GeoLite2-ASN", p.ASN, p.ASSource)
	}
	// 1.0.0.1 is Cloudflare's resolver: anycast, data or not.
	if !p.Indeterminate || p.Reason != "anycast: Cloudflare DNS is served from many countries (built-in list)" {
		t.Errorf("1.0.0.1 with no country database: %+v", p)
	}
}

// TestMaxMindTestDatabases checks the verified lookups of the README of
// ../shared/geo against the MaxMind test databases.
func TestMaxMindTestDatabases(t *testing.T) {
	dir := shared(t)
	for _, tt := range []struct {
		db, ip              string
		country, registered string
		asn                 uint32
		org                 string
	}{
		{"GeoIP2-Country-Test.mmdb", "81.2.69.160", "GB", "US", 0, ""},
		{"GeoIP2-Country-Test.mmdb", "2.125.160.216", "GB", "FR", 0, ""},
		{"GeoIP2-Country-Test.mmdb", "89.160.20.112", "SE", "DE", 0, ""},
		{"GeoIP2-Country-Test.mmdb", "216.160.83.56", "US", "GB", 0, ""},
		{"GeoIP2-Country-Test.mmdb", "67.43.156.1", "BT", "RO", 0, ""},
		{"GeoIP2-Country-Test.mmdb", "202.196.224.1", "PH", "PH", 0, ""},
		{"GeoIP2-Country-Test.mmdb", "2a02:d0c0::1", "RU", "RU", 0, ""},
		{"GeoIP2-Country-Test.mmdb", "2001:218::1", "JP", "JP", 0, ""},
		{"GeoLite2-Country-Test.mmdb", "81.2.69.160", "GB", "US", 0, ""},
		{"GeoIP2-City-Test.mmdb", "175.16.199.1", "CN", "CN", 0, ""},
		{"GeoLite2-City-Test.mmdb", "2.125.160.216", "GB", "FR", 0, ""},
		{"GeoLite2-ASN-Test.mmdb", "89.160.20.112", "", "", 29518, "Bredband2 AB"},
		{"GeoLite2-ASN-Test.mmdb", "216.160.83.56", "", "", 209, ""},
		{"GeoLite2-ASN-Test.mmdb", "1.128.0.1", "", "", 1221, "Telstra Pty Ltd"},
		{"GeoLite2-ASN-Test.mmdb", "2600:6000::1", "", "", 237, "Merit Network Inc."},
		{"GeoIP2-ISP-Test.mmdb", "149.101.100.1", "", "", 6167, "CELLCO-PART"},
		{"GeoIP2-ISP-Test.mmdb", "1.128.0.1", "", "", 1221, "Telstra Pty Ltd"},
	} {
		t.Run(tt.db+"/"+tt.ip, func(t *testing.T) {
			db, err := Open(Options{GeoIP: []string{mmTest(dir, tt.db)}})
			if err != nil {
				t.Fatal(err)
			}
			p := db.Lookup(netip.MustParseAddr(tt.ip))
			if p.GeoIPCountry != tt.country || p.RegisteredCountry != tt.registered || p.ASN != tt.asn || p.ASOrg != tt.org {
				t.Errorf("got country %q registered %q AS%d %q; want %q %q AS%d %q",
					p.GeoIPCountry, p.RegisteredCountry, p.ASN, p.ASOrg, tt.country, tt.registered, tt.asn, tt.org)
			}
			if tt.country != "" && (p.Country != tt.country || !strings.HasPrefix(p.CountrySource, "geoip:")) {
				t.Errorf("Country = %q from %q, want the physical country %q from geoip", p.Country, p.CountrySource, tt.country)
			}
		})
	}
}

// TestBrokenDatabases opens every corrupt database. Each must either fail
// to open with an error naming the file, or open and answer lookups
// without panicking. None may crash the process.
func TestBrokenDatabases(t *testing.T) {
	dir := shared(t)
	files, _ := filepath.Glob(filepath.Join(dir, "maxmind-test", "bad-data", "*", "*.mmdb"))
	for _, n := range []string{"GeoIP2-City-Test-Broken-Double-Format.mmdb", "GeoIP2-City-Test-Invalid-Node-Count.mmdb",
		"MaxMind-DB-test-broken-pointers-24.mmdb", "MaxMind-DB-test-broken-search-tree-24.mmdb"} {
		files = append(files, mmTest(dir, n))
	}
	if len(files) < 20 {
		t.Fatalf("found %d broken databases, want the 26 of ../shared/geo", len(files))
	}
	opened := 0
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			db, err := Open(Options{GeoIP: []string{f}})
			if err != nil {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			opened++
			for _, ip := range []string{"1.1.1.1", "1.1.1.16", "1.1.1.32", "81.2.69.160", "::1.1.1.1", "2001:db8::1", "128.128.128.128"} {
				db.Lookup(netip.MustParseAddr(ip))
			}
		})
	}
	t.Logf("%d of %d broken databases opened (lookups did not panic); the rest failed with an error naming the file", opened, len(files))

	// The invalid node count is caught by its metadata.
	if _, err := Open(Options{GeoIP: []string{mmTest(dir, "GeoIP2-City-Test-Invalid-Node-Count.mmdb")}}); err == nil {
		t.Errorf("Open(GeoIP2-City-Test-Invalid-Node-Count.mmdb) succeeded, want an error")
	}
	// The broken double is location.latitude, which a country lookup never
	// decodes: the country answer is still right.
	db, err := Open(Options{GeoIP: []string{mmTest(dir, "GeoIP2-City-Test-Broken-Double-Format.mmdb")}})
	if err != nil {
		t.Fatal(err)
	}
	if p := db.Lookup(netip.MustParseAddr("81.2.69.160")); p.Country != "GB" {
		t.Errorf("broken-double database: 81.2.69.160 = %+v, want GB", p)
	}
}

// TestUnsupportedKinds checks that kinds are read from metadata: a MaxMind
// test database of another type is refused whatever its name.
func TestUnsupportedKinds(t *testing.T) {
	dir := shared(t)
	for _, n := range []string{"GeoIP2-Anonymous-IP-Test.mmdb", "GeoIP2-Domain-Test.mmdb", "MaxMind-DB-test-ipv4-24.mmdb"} {
		_, err := Open(Options{GeoIP: []string{mmTest(dir, n)}})
		if !errors.Is(err, ErrUnsupportedDatabase) {
			t.Errorf("Open(%s) = %v, want ErrUnsupportedDatabase", n, err)
		}
	}
}
