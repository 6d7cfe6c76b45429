package provider

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"strings"
)

// textRanges reads a plain CIDR list (Cloudflare) or an RFC 8805 geofeed
// (prefix,country,region,city,postal). Comment lines start with '#'.
func textRanges(name string, data []byte) (File, error) {
	lower := strings.ToLower(name)
	var cf File
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
				return File{}, ErrUnknownFile
			}
			return File{}, fmt.Errorf("line %d: %w", line, err)
		}
		if kind == "" {
			kind = "list"
			if len(fields) >= 2 {
				kind = "geofeed"
			}
			switch {
			case kind == "list" && strings.Contains(lower, "cloudflare"):
				cf.Provider = Cloudflare
			case kind == "list":
				return File{}, fmt.Errorf("plain CIDR list with no provider in its name (want cloudflare-*.txt): %w", ErrUnknownFile)
			case strings.Contains(lower, "digitalocean"):
				cf.Provider = DigitalOcean
			case strings.Contains(lower, "linode"):
				cf.Provider = Linode
			default:
				cf.Provider = "geofeed"
			}
			cf.Source = cf.Provider + ":" + name
		}
		if (kind == "list") != (len(fields) == 1) {
			return File{}, fmt.Errorf("line %d: bare prefixes and geofeed rows mixed", line)
		}
		r := Range{Prefix: pp.Masked(), Cloud: Cloud{Provider: cf.Provider, Source: cf.Source}}
		if kind == "list" {
			// Cloudflare is anycast: the address does not say where the
			// request is served.
			r.Global = true
		} else {
			cc := strings.ToUpper(strings.TrimSpace(fields[1]))
			r.Cloud.Country = cc
			if len(fields) > 2 {
				r.Cloud.Region = strings.TrimSpace(fields[2])
			}
			if r.Cloud.Region == "" {
				r.Cloud.Region = cc
			}
			if len(cc) != 2 {
				r.Global, r.Cloud.Country = true, ""
			}
		}
		cf.Ranges = append(cf.Ranges, r)
	}
	if err := sc.Err(); err != nil {
		return File{}, err
	}
	if kind == "" {
		return File{}, ErrUnknownFile
	}
	return cf, nil
}
