package geo

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// ECS cloud.provider values (plus oracle and cloudflare, which ECS does not
// list, and the geofeed operators).
const (
	ProviderAWS          = "aws"
	ProviderAzure        = "azure"
	ProviderGCP          = "gcp"
	ProviderOracle       = "oracle"
	ProviderCloudflare   = "cloudflare"
	ProviderDigitalOcean = "digitalocean"
	ProviderLinode       = "linode"
)

// cloudRange is one prefix of a provider file before merging.
type cloudRange struct {
	prefix netip.Prefix
	entry  Cloud
	// umbrella marks the catch-all sets (AWS "AMAZON", Azure "AzureCloud"):
	// a specific service listed for the same prefix is preferred.
	umbrella bool
	// global marks ranges the provider publishes with no location (AWS
	// GLOBAL, Google global, Azure tags without region, Cloudflare).
	global bool
}

// cloudFile is a parsed provider file.
type cloudFile struct {
	provider string
	source   string // "aws:ip-ranges.json"
	ranges   []cloudRange
}

// errUnknownCloudFile is returned for files whose content matches none of
// the provider formats.
var errUnknownCloudFile = errors.New("not a recognised cloud range file")

// cloudProbe has the top-level fields of every JSON provider format, so one
// decode tells the formats apart by content.
type cloudProbe struct {
	// AWS and Google
	SyncToken string `json:"syncToken"`
	Prefixes  []struct {
		IPPrefix           string `json:"ip_prefix"`
		Region             string `json:"region"`
		Service            string `json:"service"`
		NetworkBorderGroup string `json:"network_border_group"`
		IPv4Prefix         string `json:"ipv4Prefix"`
		IPv6Prefix         string `json:"ipv6Prefix"`
		Scope              string `json:"scope"`
	} `json:"prefixes"`
	IPv6Prefixes []struct {
		IPv6Prefix         string `json:"ipv6_prefix"`
		Region             string `json:"region"`
		Service            string `json:"service"`
		NetworkBorderGroup string `json:"network_border_group"`
	} `json:"ipv6_prefixes"`
	// Azure
	Values []struct {
		Name       string `json:"name"`
		Properties struct {
			Region          string   `json:"region"`
			SystemService   string   `json:"systemService"`
			AddressPrefixes []string `json:"addressPrefixes"`
		} `json:"properties"`
	} `json:"values"`
	// Oracle
	Regions []struct {
		Region string `json:"region"`
		CIDRs  []struct {
			CIDR string   `json:"cidr"`
			Tags []string `json:"tags"`
		} `json:"cidrs"`
	} `json:"regions"`
}

// parseCloudFile reads one provider file, telling the format from its
// content. Plain CIDR lists carry no provider name, so for them the file
// name decides (cloudflare-ips-v4.txt); an RFC 8805 geofeed takes its
// operator from the file name too, or "geofeed".
func parseCloudFile(path string) (cloudFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return cloudFile{}, fmt.Errorf("cloud ranges: %w", err)
	}
	cf, err := parseCloudData(filepath.Base(path), data)
	if err != nil {
		return cloudFile{}, fmt.Errorf("cloud ranges %s: %w", path, err)
	}
	return cf, nil
}

func parseCloudData(name string, data []byte) (cloudFile, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var p cloudProbe
		if err := json.Unmarshal(trimmed, &p); err != nil {
			return cloudFile{}, fmt.Errorf("decode JSON: %w", err)
		}
		switch {
		case len(p.Values) > 0:
			return azureRanges(name, &p)
		case len(p.Regions) > 0:
			return oracleRanges(name, &p)
		case len(p.IPv6Prefixes) > 0 || (len(p.Prefixes) > 0 && p.Prefixes[0].IPPrefix != ""):
			return awsRanges(name, &p)
		case len(p.Prefixes) > 0 && p.Prefixes[0].Scope != "":
			return gcpRanges(name, &p)
		}
		return cloudFile{}, errUnknownCloudFile
	}
	return textRanges(name, data)
}

func awsRanges(name string, p *cloudProbe) (cloudFile, error) {
	cf := cloudFile{provider: ProviderAWS, source: ProviderAWS + ":" + name}
	add := func(pfx, region, service, nbg string) error {
		pp, err := netip.ParsePrefix(pfx)
		if err != nil {
			return fmt.Errorf("aws prefix %q: %w", pfx, err)
		}
		// network_border_group is where the prefix is advertised from; for
		// Local and Wavelength Zones it names the zone, which may be in
		// another country than the region.
		loc := nbg
		if loc == "" {
			loc = region
		}
		r := cloudRange{prefix: pp.Masked(), umbrella: service == "AMAZON",
			entry: Cloud{Provider: ProviderAWS, Region: region, Service: service, Source: cf.source}}
		if loc != region {
			r.entry.Zone = loc
		}
		if strings.EqualFold(loc, "GLOBAL") || loc == "" {
			r.global, r.entry.Region, r.entry.Zone = true, "", ""
		} else {
			r.entry.Country, _ = RegionCountry(ProviderAWS, loc)
		}
		cf.ranges = append(cf.ranges, r)
		return nil
	}
	for _, e := range p.Prefixes {
		if err := add(e.IPPrefix, e.Region, e.Service, e.NetworkBorderGroup); err != nil {
			return cloudFile{}, err
		}
	}
	for _, e := range p.IPv6Prefixes {
		if err := add(e.IPv6Prefix, e.Region, e.Service, e.NetworkBorderGroup); err != nil {
			return cloudFile{}, err
		}
	}
	return cf, nil
}

func azureRanges(name string, p *cloudProbe) (cloudFile, error) {
	cf := cloudFile{provider: ProviderAzure, source: ProviderAzure + ":" + name}
	for _, v := range p.Values {
		tag, region := v.Name, strings.ToLower(v.Properties.Region)
		service := tag
		if i := strings.IndexByte(tag, '.'); i >= 0 {
			service = tag[:i]
		}
		for _, s := range v.Properties.AddressPrefixes {
			pp, err := netip.ParsePrefix(s)
			if err != nil {
				return cloudFile{}, fmt.Errorf("azure tag %s prefix %q: %w", tag, s, err)
			}
			r := cloudRange{prefix: pp.Masked(), umbrella: service == "AzureCloud",
				entry: Cloud{Provider: ProviderAzure, Region: region, Service: service, Source: cf.source}}
			if region == "" {
				r.global = true
			} else {
				r.entry.Country, _ = RegionCountry(ProviderAzure, region)
			}
			cf.ranges = append(cf.ranges, r)
		}
	}
	return cf, nil
}

func gcpRanges(name string, p *cloudProbe) (cloudFile, error) {
	cf := cloudFile{provider: ProviderGCP, source: ProviderGCP + ":" + name}
	for _, e := range p.Prefixes {
		s := e.IPv4Prefix
		if s == "" {
			s = e.IPv6Prefix
		}
		pp, err := netip.ParsePrefix(s)
		if err != nil {
			return cloudFile{}, fmt.Errorf("gcp prefix %q: %w", s, err)
		}
		r := cloudRange{prefix: pp.Masked(),
			entry: Cloud{Provider: ProviderGCP, Region: e.Scope, Service: e.Service, Source: cf.source}}
		if e.Scope == "" || e.Scope == "global" {
			r.global, r.entry.Region = true, ""
		} else {
			r.entry.Country, _ = RegionCountry(ProviderGCP, e.Scope)
		}
		cf.ranges = append(cf.ranges, r)
	}
	return cf, nil
}

func oracleRanges(name string, p *cloudProbe) (cloudFile, error) {
	cf := cloudFile{provider: ProviderOracle, source: ProviderOracle + ":" + name}
	for _, reg := range p.Regions {
		country, _ := RegionCountry(ProviderOracle, reg.Region)
		for _, c := range reg.CIDRs {
			pp, err := netip.ParsePrefix(c.CIDR)
			if err != nil {
				return cloudFile{}, fmt.Errorf("oracle region %s cidr %q: %w", reg.Region, c.CIDR, err)
			}
			service := strings.Join(c.Tags, ",")
			cf.ranges = append(cf.ranges, cloudRange{prefix: pp.Masked(), umbrella: service == "OCI",
				global: reg.Region == "",
				entry: Cloud{Provider: ProviderOracle, Region: reg.Region, Service: service,
					Country: country, Source: cf.source}})
		}
	}
	return cf, nil
}

// textRanges reads a plain CIDR list (Cloudflare) or an RFC 8805 geofeed
// (prefix,country,region,city,postal). Comment lines start with '#'.
func textRanges(name string, data []byte) (cloudFile, error) {
	lower := strings.ToLower(name)
	var cf cloudFile
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line, kind := 0, ""
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		fields := strings.Split(text, ",")
		pp, err := netip.ParsePrefix(strings.TrimSpace(fields[0]))
		if err != nil {
			if kind == "" {
				return cloudFile{}, errUnknownCloudFile
			}
			return cloudFile{}, fmt.Errorf("line %d: %w", line, err)
		}
		if kind == "" {
			kind = "list"
			if len(fields) >= 2 {
				kind = "geofeed"
			}
			switch {
			case kind == "list" && strings.Contains(lower, "cloudflare"):
				cf.provider = ProviderCloudflare
			case kind == "list":
				return cloudFile{}, fmt.Errorf("plain CIDR list with no provider in its name (want cloudflare-*.txt): %w", errUnknownCloudFile)
			case strings.Contains(lower, "digitalocean"):
				cf.provider = ProviderDigitalOcean
			case strings.Contains(lower, "linode"):
				cf.provider = ProviderLinode
			default:
				cf.provider = "geofeed"
			}
			cf.source = cf.provider + ":" + name
		}
		if (kind == "list") != (len(fields) == 1) {
			return cloudFile{}, fmt.Errorf("line %d: bare prefixes and geofeed rows mixed", line)
		}
		r := cloudRange{prefix: pp.Masked(), entry: Cloud{Provider: cf.provider, Source: cf.source}}
		if kind == "list" {
			// Cloudflare is anycast: the address does not say where the
			// request is served.
			r.global = true
		} else {
			cc := strings.ToUpper(strings.TrimSpace(fields[1]))
			r.entry.Country = cc
			if len(fields) > 2 {
				r.entry.Region = strings.TrimSpace(fields[2])
			}
			if r.entry.Region == "" {
				r.entry.Region = cc
			}
			if len(cc) != 2 {
				r.global, r.entry.Country = true, ""
			}
		}
		cf.ranges = append(cf.ranges, r)
	}
	if err := sc.Err(); err != nil {
		return cloudFile{}, err
	}
	if kind == "" {
		return cloudFile{}, errUnknownCloudFile
	}
	return cf, nil
}

// better reports whether candidate should replace current for the same
// prefix: a range with a region wins over one without (Azure lists many
// prefixes in both a global and a regional tag), then a specific service
// wins over the umbrella set.
func better(candidate, current cloudRange) bool {
	if candidate.global != current.global {
		return !candidate.global
	}
	if candidate.umbrella != current.umbrella {
		return !candidate.umbrella
	}
	return false
}

// cloudTable is the merged longest-prefix-match table of all provider
// files, flattened: provider prefixes nest (they never overlap partly), so
// the innermost prefix over each address can be worked out once, giving
// sorted disjoint intervals searched like a range CSV. Loaded from a cache
// (cloudtable.go), spans points into the mapped file, which stays mapped
// while t is reachable.
type cloudTable struct {
	spans   []ipRange    // val indexes entries
	entries []cloudRange // distinct answers; prefix unset
	sources []cloudSource
}

// cloudSource is one provider file, for the run summary.
type cloudSource struct {
	source, provider string
	ranges           int
}

func newCloudTable(files []cloudFile) *cloudTable {
	t := &cloudTable{}
	// Deterministic order: files sorted by source, so ties keep the same
	// winner whatever the directory order.
	files = slices.Clone(files)
	slices.SortStableFunc(files, func(a, b cloudFile) int { return strings.Compare(a.source, b.source) })
	// One winner per prefix: the first listed, unless a later one is
	// better.
	n := 0
	for _, f := range files {
		n += len(f.ranges)
		t.sources = append(t.sources, cloudSource{source: f.source, provider: f.provider, ranges: len(f.ranges)})
	}
	byPrefix := make(map[netip.Prefix]int, n)
	winners := make([]cloudRange, 0, n)
	for _, f := range files {
		for _, r := range f.ranges {
			if i, ok := byPrefix[r.prefix]; ok {
				if better(r, winners[i]) {
					winners[i] = r
				}
				continue
			}
			byPrefix[r.prefix] = len(winners)
			winners = append(winners, r)
		}
	}
	// Distinct answers: a provider file repeats a few hundred (region,
	// service) pairs across tens of thousands of prefixes.
	type answer struct {
		entry            Cloud
		umbrella, global bool
	}
	index := map[answer]uint32{}
	var v4, v6 []span
	for _, r := range winners {
		k := answer{r.entry, r.umbrella, r.global}
		i, ok := index[k]
		if !ok {
			i = uint32(len(t.entries))
			index[k] = i
			t.entries = append(t.entries, cloudRange{entry: r.entry, umbrella: r.umbrella, global: r.global})
		}
		s := span{lo: u128From(r.prefix.Addr().As16()), hi: u128From(lastAddr(r.prefix).As16()), val: i}
		if r.prefix.Addr().Is4() {
			v4 = append(v4, s)
		} else {
			v6 = append(v6, s)
		}
	}
	// IPv4 and IPv6 are separate tables in a trie: an IPv6 prefix that
	// covers the IPv4-mapped block (::/0, ::/64, ::ffff:0:0/96) must not
	// answer for IPv4 addresses, so that block is cut out of the IPv6
	// intervals before the IPv4 ones go in.
	mappedLo := u128{lo: 0xffff << 32}
	mappedHi := u128{lo: 0xffff<<32 | 0xffffffff}
	var spans []span
	for _, s := range flatten(v6) {
		if s.hi.less(mappedLo) || mappedHi.less(s.lo) {
			spans = append(spans, s)
			continue
		}
		if s.lo.less(mappedLo) {
			spans = append(spans, span{s.lo, mappedLo.prev(), s.val})
		}
		if mappedHi.less(s.hi) {
			spans = append(spans, span{mappedHi.next(), s.hi, s.val})
		}
	}
	spans = append(spans, flatten(v4)...)
	slices.SortFunc(spans, func(a, b span) int { return a.lo.cmp(b.lo) })
	t.spans = make([]ipRange, len(spans))
	for i, s := range spans {
		t.spans[i] = ipRange{lo: s.lo.bytes(), hi: s.hi.bytes(), val: s.val}
	}
	return t
}

// span is an inclusive address interval (IPv4 as IPv4-mapped) and its
// answer, as numbers for the sweep.
type span struct {
	lo, hi u128
	val    uint32
}

// flatten turns nested intervals (any two are disjoint or one holds the
// other; no two equal) into sorted disjoint ones, each address keeping the
// answer of the innermost interval over it. Neighbours with the same answer
// are joined.
func flatten(in []span) []span {
	// Outer before inner: by start, then the longer first.
	slices.SortFunc(in, func(a, b span) int {
		if c := a.lo.cmp(b.lo); c != 0 {
			return c
		}
		return b.hi.cmp(a.hi)
	})
	var out, stack []span
	var pos u128 // first address not yet given out
	end := false // pos went past the all-ones address
	emit := func(lo, hi u128, val uint32) {
		if n := len(out); n > 0 && out[n-1].val == val && out[n-1].hi.next() == lo && !out[n-1].hi.isMax() {
			out[n-1].hi = hi
			return
		}
		out = append(out, span{lo, hi, val})
	}
	// pop closes the innermost open interval: the rest of it is its own.
	pop := func() {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if end || top.hi.less(pos) {
			return
		}
		emit(pos, top.hi, top.val)
		if top.hi.isMax() {
			end = true
			return
		}
		pos = top.hi.next()
	}
	for _, s := range in {
		for len(stack) > 0 && stack[len(stack)-1].hi.less(s.lo) {
			pop()
		}
		if n := len(stack); n > 0 && pos.less(s.lo) {
			emit(pos, s.lo.prev(), stack[n-1].val)
		}
		pos, end = s.lo, false
		stack = append(stack, s)
	}
	for len(stack) > 0 {
		pop()
	}
	return out
}

// u128 is a 16-byte address as a number.
type u128 struct{ hi, lo uint64 }

func u128From(b [16]byte) u128 {
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func (a u128) bytes() [16]byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], a.hi)
	binary.BigEndian.PutUint64(b[8:], a.lo)
	return b
}

func (a u128) less(b u128) bool { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo) }
func (a u128) isMax() bool      { return a.hi == ^uint64(0) && a.lo == ^uint64(0) }

func (a u128) cmp(b u128) int {
	switch {
	case a.less(b):
		return -1
	case b.less(a):
		return 1
	}
	return 0
}

// next returns a+1 (wrapping at the top: callers check isMax first).
func (a u128) next() u128 {
	if a.lo == ^uint64(0) {
		return u128{a.hi + 1, 0}
	}
	return u128{a.hi, a.lo + 1}
}

// prev returns a-1 (a must not be zero).
func (a u128) prev() u128 {
	if a.lo == 0 {
		return u128{a.hi - 1, ^uint64(0)}
	}
	return u128{a.hi, a.lo - 1}
}

func (t *cloudTable) lookup(a netip.Addr) (cloudRange, bool) {
	if t == nil {
		return cloudRange{}, false
	}
	k := a.As16()
	i, ok := searchRanges(t.spans, &k)
	runtime.KeepAlive(t) // t.spans may be a mapping that t's cleanup unmaps
	if !ok {
		return cloudRange{}, false
	}
	return t.entries[i], true
}

// loadCloudDir parses every provider file in dir (*.json, *.txt, *.csv).
func loadCloudDir(dir string) ([]cloudFile, error) {
	paths, err := cloudFilePaths(dir)
	if err != nil {
		return nil, err
	}
	return parseCloudFiles(paths)
}

// parseCloudFiles parses the provider files at paths, each through its
// cache.
func parseCloudFiles(paths []string) ([]cloudFile, error) {
	files := make([]cloudFile, 0, len(paths))
	for _, p := range paths {
		cf, err := parseCloudFileCached(p)
		if err != nil {
			return nil, err
		}
		files = append(files, cf)
	}
	return files, nil
}
