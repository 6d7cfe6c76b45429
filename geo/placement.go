package geo

import "github.com/egresswatch/egresswatch/geo/provider"

// Placement says where a destination address is, and how we know.
// The zero value means "nothing known".
type Placement struct {
	// Country is the ISO 3166-1 alpha-2 code of the physical location that
	// egresswatch settles on: the cloud region's country when a cloud range
	// with a region matches, else the GeoIP country. "" when unknown or
	// indeterminate.
	Country       string
	CountrySource string // "aws", "geoip:GeoLite2-Country", ...: where Country came from

	// GeoIPCountry and RegisteredCountry are what the GeoIP database says,
	// kept beside the cloud answer so a reader can see a disagreement.
	GeoIPCountry      string
	RegisteredCountry string
	GeoIPSource       string // database that answered (its metadata type and file)

	ASN      uint32 // 0 = unknown
	ASOrg    string
	ASSource string

	Cloud Cloud

	// Internal is set for addresses that are not public internet
	// destinations (RFC 1918, ULA, loopback, link-local, CGNAT, multicast,
	// documentation and reserved ranges). Such placements are also
	// Indeterminate, with Reason naming the range.
	Internal bool

	// Indeterminate is set when the address cannot honestly be placed in
	// one country (anycast, global cloud ranges, no data); Reason says why.
	Indeterminate bool
	Reason        string
}

// Cloud is a match in a cloud provider's published ranges (see package
// provider, which parses them).
type Cloud = provider.Cloud
