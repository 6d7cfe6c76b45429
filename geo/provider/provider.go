package provider

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
)

// ECS cloud.provider values (plus oracle and cloudflare, which ECS does not
// list, and the geofeed operators).
const (
	AWS          = "aws"
	Azure        = "azure"
	GCP          = "gcp"
	Oracle       = "oracle"
	Cloudflare   = "cloudflare"
	DigitalOcean = "digitalocean"
	Linode       = "linode"
)

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

// Range is one prefix of a provider file, before the files are merged.
type Range struct {
	Prefix netip.Prefix // masked
	Cloud  Cloud
	// Umbrella marks the catch-all sets (AWS "AMAZON", Azure "AzureCloud"):
	// a specific service listed for the same prefix is preferred.
	Umbrella bool
	// Global marks ranges the provider publishes with no location (AWS
	// GLOBAL, Google global, Azure tags without region, Cloudflare).
	Global bool
}

// File is a parsed provider file.
type File struct {
	Provider string
	Source   string // "aws:ip-ranges.json"
	Ranges   []Range
}

// ErrUnknownFile is returned for files whose content matches none of
// the provider formats.
var ErrUnknownFile = errors.New("not a recognised cloud range file")

// probe has the top-level fields of every JSON provider format, so one
// decode tells the formats apart by content.
type probe struct {
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

// ParseFile reads one provider file, telling the format from its
// content. Plain CIDR lists carry no provider name, so for them the file
// name decides (cloudflare-ips-v4.txt); an RFC 8805 geofeed takes its
// operator from the file name too, or "geofeed".
func ParseFile(path string) (File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return File{}, fmt.Errorf("cloud ranges: %w", err)
	}
	cf, err := Parse(filepath.Base(path), data)
	if err != nil {
		return File{}, fmt.Errorf("cloud ranges %s: %w", path, err)
	}
	return cf, nil
}

// Parse reads the provider file name (its base name) holding data, as
// ParseFile does.
func Parse(name string, data []byte) (File, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var p probe
		if err := json.Unmarshal(trimmed, &p); err != nil {
			return File{}, fmt.Errorf("decode JSON: %w", err)
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
		return File{}, ErrUnknownFile
	}
	return textRanges(name, data)
}

// Paths lists the provider files of dir (*.json, *.txt, *.csv) in
// name order.
func Paths(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cloud ranges: %w", err)
	}
	var paths []string
	for _, e := range ents {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || (ext != ".json" && ext != ".txt" && ext != ".csv") {
			continue
		}
		paths = append(paths, filepath.Join(dir, e.Name()))
	}
	return paths, nil
}

// ParseDir parses every provider file in dir (*.json, *.txt, *.csv).
func ParseDir(dir string) ([]File, error) {
	paths, err := Paths(dir)
	if err != nil {
		return nil, err
	}
	return ParseFiles(paths)
}

// ParseFiles parses the provider files at paths, each through its
// cache.
func ParseFiles(paths []string) ([]File, error) {
	files := make([]File, 0, len(paths))
	for _, p := range paths {
		cf, err := ParseFileCached(p)
		if err != nil {
			return nil, err
		}
		files = append(files, cf)
	}
	return files, nil
}
