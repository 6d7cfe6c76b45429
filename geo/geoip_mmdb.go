package geo

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/oschwald/geoip2-golang/v2"
	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/egresswatch/egresswatch/geo/internal/cachefile"
)

// dbKind is what a GeoIP database can answer, decided from its metadata.
type dbKind int

const (
	kindUnknown       dbKind = iota
	kindGeoIP2Country        // GeoIP2/GeoLite2 Country or City, DB-IP Lite/Location, Enterprise
	kindGeoIP2ASN            // GeoLite2-ASN, DB-IP ASN Lite
	kindGeoIP2ISP            // GeoIP2-ISP: ASN plus ISP names
	kindFlatCountry          // ip-location-db: {"country_code": "GB"}
	kindFlatASN              // ip-location-db asn-mmdb: flat ASN fields
)

// classify maps a database_type to a kind. GeoIP2 types follow the list
// the geoip2 reader accepts; the ip-location-db databases say
// "country ipv4|ipv6|ipvAll" (and "asn ..." for their ASN files).
func classify(dbType string) dbKind {
	switch dbType {
	case "GeoLite2-Country", "GeoIP2-Country", "GeoLite2-City", "GeoIP2-City",
		"GeoIP2-City-Africa", "GeoIP2-City-Asia-Pacific", "GeoIP2-City-Europe",
		"GeoIP2-City-North-America", "GeoIP2-City-South-America",
		"GeoIP2-Precision-City", "GeoIP-City-Redacted-US", "GeoIP2-Enterprise",
		"GeoIP-Enterprise-Redacted-US", "DBIP-Country-Lite", "DBIP-Country",
		"DBIP-City-Lite", "DBIP-Location (compat=City)", "DBIP-ISP (compat=Enterprise)",
		"DBIP-Location-ISP (compat=Enterprise)":
		return kindGeoIP2Country
	case "GeoLite2-ASN", "DBIP-ASN-Lite (compat=GeoLite2-ASN)":
		return kindGeoIP2ASN
	case "GeoIP2-ISP", "GeoIP2-Precision-ISP":
		return kindGeoIP2ISP
	}
	lower := strings.ToLower(dbType)
	switch {
	case strings.HasPrefix(lower, "country ") || lower == "country":
		return kindFlatCountry
	case strings.HasPrefix(lower, "asn ") || lower == "asn":
		return kindFlatASN
	}
	return kindUnknown
}

// mmdb is one opened database. The file itself is read into memory, not
// mapped: a database rewritten in place under a mapping would take the
// process down. A copy in the cache folder, which only egresswatch writes
// (by rename), is mapped instead when there is one; it is released once
// the mmdb is unreachable, so Reload can drop an old database while
// lookups still use it.
type mmdb struct {
	path   string
	source string // "geoip:GeoLite2-Country", "ip-location-db:dbip-country"
	kind   dbKind
	g      *geoip2.Reader    // GeoIP2 kinds
	m      *maxminddb.Reader // flat kinds
}

// mmdbCacheMagic heads a cached copy of a MaxMind DB file: one section,
// the file's bytes, under the checksum of the cache layout (package cachefile).
const mmdbCacheMagic = "egresswatch-mmdb-v1\n"

// ErrUnsupportedDatabase is returned for a valid MaxMind DB file whose
// database_type egresswatch cannot use (Anonymous-IP, Domain, ...).
var ErrUnsupportedDatabase = errors.New("unsupported database type")

// openMMDB opens a MaxMind DB file and decides its kind from its metadata.
// Errors name the file.
func openMMDB(path string) (*mmdb, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("geoip database: %w", err)
	}
	cache := cachefile.PathFor("mmdb", path, st, nil)
	if cache != "" {
		if db, ok := openMMDBCache(path, cache); ok {
			return db, nil
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("geoip database: %w", err)
	}
	db, err := newMMDB(path, data)
	if err == nil && cache != "" {
		cachefile.Write(cache, cachefile.Encode(mmdbCacheMagic, data))
	}
	return db, err
}

// openMMDBCache maps the cached copy of the database at path; false if
// there is none or it is damaged.
func openMMDBCache(path, cache string) (*mmdb, bool) {
	data, mapped, err := cachefile.Map(cache)
	if err != nil {
		return nil, false
	}
	release := cachefile.ReleasePages
	if !mapped {
		release = nil
	}
	var db *mmdb
	secs, v, err := cachefile.Decode(data, mmdbCacheMagic, 1, release)
	if err == nil {
		err = v.Finish()
	}
	if err == nil {
		db, err = newMMDB(path, secs[0])
	}
	if mapped {
		if err == nil {
			runtime.AddCleanup(db, cachefile.Unmap, data)
		} else {
			cachefile.Unmap(data)
		}
	}
	return db, err == nil
}

// newMMDB opens a database from its bytes, which it keeps.
func newMMDB(path string, data []byte) (*mmdb, error) {
	m, err := maxminddb.OpenBytes(data)
	if err != nil {
		return nil, fmt.Errorf("geoip database %s: %w", path, err)
	}
	db := &mmdb{path: path, kind: classify(m.Metadata.DatabaseType)}
	switch db.kind {
	case kindUnknown:
		return nil, fmt.Errorf("geoip database %s: %w %q", path, ErrUnsupportedDatabase, m.Metadata.DatabaseType)
	case kindFlatCountry, kindFlatASN:
		db.m = m
		base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		db.source = "ip-location-db:" + base
	default:
		g, err := geoip2.OpenBytes(data)
		if err != nil {
			return nil, fmt.Errorf("geoip database %s: %w", path, err)
		}
		db.g = g
		db.source = "geoip:" + m.Metadata.DatabaseType
	}
	// A cheap sanity lookup catches databases whose tree or data section is
	// broken at the first record, so they fail at load, not on the hot path.
	if err := db.probe(); err != nil {
		return nil, fmt.Errorf("geoip database %s: %w", path, err)
	}
	return db, nil
}

// probe looks up a few addresses and reports any decoding error.
func (d *mmdb) probe() error {
	for _, a := range []netip.Addr{
		netip.AddrFrom4([4]byte{1, 1, 1, 1}), netip.AddrFrom4([4]byte{8, 8, 8, 8}),
		netip.AddrFrom4([4]byte{81, 2, 69, 160}), netip.MustParseAddr("2001:4860::1"),
	} {
		var r geoAnswer
		if err := d.lookup(a, &r); err != nil && !errors.Is(err, errIPv6InIPv4DB) {
			return err
		}
	}
	return nil
}

var errIPv6InIPv4DB = errors.New("IPv6 address in IPv4-only database")

// geoAnswer is what one database says about an address.
type geoAnswer struct {
	country, registered string
	anycast             bool
	asn                 uint32
	org                 string
}

type flatRecord struct {
	CountryCode string `maxminddb:"country_code"`
	ASN         uint   `maxminddb:"autonomous_system_number"`
	ASOrg       string `maxminddb:"autonomous_system_organization"`
}

// lookup fills r from the database. A missing record is not an error.
func (d *mmdb) lookup(a netip.Addr, r *geoAnswer) error {
	err := d.search(a, r)
	// The readers may search a mapping that d's cleanup unmaps: d must stay
	// reachable until they are done. What they return is copied out.
	runtime.KeepAlive(d)
	return err
}

func (d *mmdb) search(a netip.Addr, r *geoAnswer) error {
	if a.Is6() && d.ipVersion() == 4 {
		return errIPv6InIPv4DB
	}
	switch d.kind {
	case kindGeoIP2Country:
		c, err := d.g.Country(a)
		if err != nil {
			return err
		}
		r.country, r.registered = c.Country.ISOCode, c.RegisteredCountry.ISOCode
		r.anycast = c.Traits.IsAnycast
	case kindGeoIP2ASN:
		c, err := d.g.ASN(a)
		if err != nil {
			return err
		}
		r.asn, r.org = uint32(c.AutonomousSystemNumber), c.AutonomousSystemOrganization
	case kindGeoIP2ISP:
		c, err := d.g.ISP(a)
		if err != nil {
			return err
		}
		r.asn, r.org = uint32(c.AutonomousSystemNumber), c.AutonomousSystemOrganization
		if r.org == "" {
			r.org = c.ISP
		}
	case kindFlatCountry, kindFlatASN:
		var rec flatRecord
		res := d.m.Lookup(a)
		if err := res.Err(); err != nil {
			return err
		}
		if !res.Found() {
			return nil
		}
		if err := res.Decode(&rec); err != nil {
			return err
		}
		r.country = strings.ToUpper(rec.CountryCode)
		r.asn, r.org = uint32(rec.ASN), rec.ASOrg
	}
	return nil
}

func (d *mmdb) ipVersion() uint {
	if d.g != nil {
		return d.g.Metadata().IPVersion
	}
	return d.m.Metadata.IPVersion
}

func (d *mmdb) hasCountry() bool { return d.kind == kindGeoIP2Country || d.kind == kindFlatCountry }
func (d *mmdb) hasASN() bool {
	return d.kind == kindGeoIP2ASN || d.kind == kindGeoIP2ISP || d.kind == kindFlatASN
}
