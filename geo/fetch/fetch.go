package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/egresswatch/egresswatch/geo/provider"
)

// Source is one provider range file and where it is published.
type Source struct {
	Provider string // ECS provider name the file must parse as
	URL      string // the file, or a page that links to it (see Link)
	// Link, when set, finds the file's URL in the page at URL (Microsoft
	// publishes Service Tags under a new name every week).
	Link *regexp.Regexp
	File string // name in the cloud directory
}

// OfficialSources lists the providers' official range file locations.
func OfficialSources() []Source {
	return []Source{
		{Provider: provider.AWS, URL: "https://ip-ranges.amazonaws.com/ip-ranges.json", File: "aws-ip-ranges.json"},
		{Provider: provider.Azure, URL: "https://www.microsoft.com/en-us/download/details.aspx?id=56519",
			Link: regexp.MustCompile(`https://download\.microsoft\.com/download/[^"'\s]+/ServiceTags_Public_[0-9]+\.json`),
			File: "azure-servicetags-public.json"},
		{Provider: provider.GCP, URL: "https://www.gstatic.com/ipranges/cloud.json", File: "google-cloud.json"},
		{Provider: provider.Oracle, URL: "https://docs.oracle.com/iaas/tools/public_ip_ranges.json", File: "oracle-public_ip_ranges.json"},
		{Provider: provider.Cloudflare, URL: "https://www.cloudflare.com/ips-v4", File: "cloudflare-ips-v4.txt"},
		{Provider: provider.Cloudflare, URL: "https://www.cloudflare.com/ips-v6", File: "cloudflare-ips-v6.txt"},
		{Provider: provider.DigitalOcean, URL: "https://digitalocean.com/geo/google.csv", File: "digitalocean-geofeed.csv"},
		{Provider: provider.Linode, URL: "https://geoip.linode.com/", File: "linode-geofeed.csv"},
	}
}

// ErrOffline wraps fetch errors caused by the network being unreachable.
var ErrOffline = errors.New("network unreachable (offline?): import local copies with --from DIR")

// maxRangeFile bounds a download (Azure's file is about 4 MiB).
const maxRangeFile = 64 << 20

// Download downloads each source into dir (created if needed). A file is
// written only after it parses as its provider's format, through a
// temporary file and a rename, so a failed fetch leaves the old copy. It
// returns the files written and every error, joined.
func Download(ctx context.Context, client *http.Client, dir string, sources []Source) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("geo fetch: %w", err)
	}
	var written []string
	var errs []error
	for _, s := range sources {
		if err := fetchOne(ctx, client, dir, s); err != nil {
			errs = append(errs, fmt.Errorf("geo fetch %s (%s): %w", s.File, s.Provider, err))
			continue
		}
		written = append(written, filepath.Join(dir, s.File))
	}
	return written, errors.Join(errs...)
}

func fetchOne(ctx context.Context, client *http.Client, dir string, s Source) error {
	url := s.URL
	if s.Link != nil {
		page, err := get(ctx, client, url)
		if err != nil {
			return err
		}
		link := s.Link.Find(page)
		if link == nil {
			return fmt.Errorf("no link to the file in %s", url)
		}
		url = string(link)
	}
	body, err := get(ctx, client, url)
	if err != nil {
		return err
	}
	cf, err := provider.Parse(s.File, body)
	if err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	if cf.Provider != s.Provider {
		return fmt.Errorf("%s: parsed as %s, want %s", url, cf.Provider, s.Provider)
	}
	return writeAtomic(filepath.Join(dir, s.File), body)
}

func get(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "egresswatch-geo-fetch")
	resp, err := client.Do(req)
	if err != nil {
		var dnsErr *net.DNSError
		var opErr *net.OpError
		if errors.As(err, &dnsErr) || errors.As(err, &opErr) {
			return nil, fmt.Errorf("cannot reach %s: %w: %w", url, ErrOffline, err)
		}
		return nil, fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get %s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxRangeFile+1))
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", url, err)
	}
	if len(body) > maxRangeFile {
		return nil, fmt.Errorf("get %s: larger than %d bytes", url, maxRangeFile)
	}
	return body, nil
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// Import copies the provider range files found in from (by content: any
// *.json, *.txt or *.csv that parses as a provider file) into dir, keeping
// their names. Other files are skipped and listed in skipped.
func Import(from, dir string) (imported, skipped []string, err error) {
	ents, err := os.ReadDir(from)
	if err != nil {
		return nil, nil, fmt.Errorf("geo import: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("geo import: %w", err)
	}
	for _, e := range ents {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || (ext != ".json" && ext != ".txt" && ext != ".csv") {
			continue
		}
		src := filepath.Join(from, e.Name())
		data, err := os.ReadFile(src)
		if err != nil {
			return imported, skipped, fmt.Errorf("geo import: %w", err)
		}
		if _, err := provider.Parse(e.Name(), data); err != nil {
			skipped = append(skipped, fmt.Sprintf("%s: %v", src, err))
			continue
		}
		dst := filepath.Join(dir, e.Name())
		if err := writeAtomic(dst, data); err != nil {
			return imported, skipped, fmt.Errorf("geo import %s: %w", src, err)
		}
		imported = append(imported, dst)
	}
	return imported, skipped, nil
}
