package geo

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

// Cloud is a match in a cloud provider's published ranges.
type Cloud struct {
	Provider string // ECS cloud.provider: aws, azure, gcp, oracle, cloudflare
	Region   string // provider's region name, e.g. eu-west-2; "" for global ranges
	// Zone is the AWS network border group (Local or Wavelength Zone) when
	// it differs from Region, e.g. af-south-1-los-1 (Lagos) in af-south-1
	// (Cape Town). Country is the zone's country then, not the region's.
	Zone    string
	Service string // provider's service name, e.g. EC2, AzureCloud
	Country string // region's country from the built-in table
	Source  string // file the range came from
}
