// Package geo places destination addresses: where an address is (country,
// ISO 3166-1 alpha-2), who runs it (ASN and organisation), and whether it is
// in a cloud provider's published range (provider, region, service) — with
// the source of every fact.
//
// Data comes from GeoIP databases (MaxMind GeoIP2/GeoLite2 Country, City,
// ASN, ISP; DB-IP Lite; the ip-location-db country and ASN MMDBs and range
// CSVs) and from the providers' own range files (AWS ip-ranges.json, Azure
// Service Tags, Google cloud.json, Oracle public_ip_ranges.json, Cloudflare
// lists, RFC 8805 geofeeds). A database's kind comes from its metadata,
// never its file name.
//
// Precedence: a cloud range with a region wins over GeoIP, because GeoIP
// routinely places cloud addresses in the provider's home country; the GeoIP
// answer is kept beside it (Placement.GeoIPCountry) so a disagreement shows.
// Ranges the provider publishes without a region (AWS GLOBAL, Google global,
// Azure tags without region, Cloudflare anycast), GeoIP anycast networks and
// the anycast public DNS resolvers (anycast.go) are Indeterminate, never guessed. Internal addresses (RFC 1918, ULA,
// loopback, link-local, CGNAT, multicast) are Internal and Indeterminate.
//
// Use:
//
//	db, err := geo.Open(geo.Options{GeoIP: files, CloudDir: dir})
//	c := geo.NewCache(db, 4096) // one per worker
//	p := c.Lookup(addr)         // 0 allocations on a hit
//
// DB is safe for concurrent use and Reload swaps all data atomically; an
// old generation stays valid until the last lookup using it returns. MMDB
// files are read into memory, so one rewritten in place cannot pull data
// from under a lookup. The parse caches of range CSVs and of the merged
// cloud table, which only egresswatch writes (always by rename), are
// mapped and used in place: start-up reads little, the ranges stay out of
// the Go heap, and a generation's mappings are released once nothing
// reaches it. Cache is per worker and not safe for concurrent use.
//
// Layout: this package decides placements (db.go), reads the GeoIP files
// (geoip_*.go) and merges the cloud ranges into one interval table
// (cloud_table*.go). Package geo/provider parses the provider files,
// geo/internal/cachefile is the format of the mapped parse caches, and
// geo/fetch downloads or imports provider files for `egresswatch geo`.
package geo
