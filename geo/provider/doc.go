// Package provider reads the cloud providers' published range files: AWS
// ip-ranges.json, Azure Service Tags, Google cloud.json, Oracle
// public_ip_ranges.json, Cloudflare's CIDR lists and RFC 8805 geofeeds
// (DigitalOcean, Linode, others). The format comes from a file's content,
// never its name (only plain CIDR lists, which carry no provider, are
// named by their file). Each range keeps its region, service and source;
// the region's country comes from the built-in tables in regions.go.
//
// Parse and ParseFile read one file; ParseFileCached, ParseFiles and
// ParseDir go through a per-file parse cache. Package geo merges the
// files into its lookup table.
package provider
