package geo

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gaissmai/bart"
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

// cloudTable is the merged longest-prefix-match table of all provider files.
type cloudTable struct {
	trie    bart.Table[uint32] // prefix -> index into entries
	entries []cloudRange
}

func newCloudTable(files []cloudFile) *cloudTable {
	t := &cloudTable{}
	// Deterministic order: files sorted by source, so ties keep the same
	// winner whatever the directory order.
	sort.Slice(files, func(i, j int) bool { return files[i].source < files[j].source })
	// Intern the strings: a provider file repeats a few dozen region and
	// service names across tens of thousands of prefixes.
	strs := map[string]string{}
	intern := func(s string) string {
		if v, ok := strs[s]; ok {
			return v
		}
		strs[s] = s
		return s
	}
	n := 0
	for _, f := range files {
		n += len(f.ranges)
	}
	t.entries = make([]cloudRange, 0, n)
	for _, f := range files {
		for _, r := range f.ranges {
			e := &r.entry
			e.Provider, e.Region, e.Zone = intern(e.Provider), intern(e.Region), intern(e.Zone)
			e.Service, e.Country, e.Source = intern(e.Service), intern(e.Country), intern(e.Source)
			if i, ok := t.trie.Get(r.prefix); ok {
				if better(r, t.entries[i]) {
					t.entries[i] = r
				}
				continue
			}
			t.trie.Insert(r.prefix, uint32(len(t.entries)))
			t.entries = append(t.entries, r)
		}
	}
	return t
}

func (t *cloudTable) lookup(a netip.Addr) (cloudRange, bool) {
	if t == nil {
		return cloudRange{}, false
	}
	i, ok := t.trie.Lookup(a)
	if !ok {
		return cloudRange{}, false
	}
	return t.entries[i], true
}

// loadCloudDir parses every provider file in dir (*.json, *.txt, *.csv).
func loadCloudDir(dir string) ([]cloudFile, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cloud ranges: %w", err)
	}
	var files []cloudFile
	for _, e := range ents {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || (ext != ".json" && ext != ".txt" && ext != ".csv") {
			continue
		}
		cf, err := parseCloudFileCached(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		files = append(files, cf)
	}
	return files, nil
}
