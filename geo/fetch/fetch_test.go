package fetch

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/egresswatch/egresswatch/geo/provider"
)

// holds checks that the provider file at path parses and lists ip in
// region (country cc) of prov.
func holds(t *testing.T, path, ip, prov, region, cc string) {
	t.Helper()
	f, err := provider.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr(ip)
	for _, r := range f.Ranges {
		if r.Prefix.Contains(a) && r.Cloud.Provider == prov && r.Cloud.Region == region && r.Cloud.Country == cc {
			return
		}
	}
	t.Errorf("%s: no %s range in %s (%s) holds %s", path, prov, region, cc, ip)
}

// TestFetch serves provider files from a loopback server: no traffic
// leaves the machine.
func TestFetch(t *testing.T) {
	aws := `{"syncToken":"1","createDate":"x","prefixes":[{"ip_prefix":"3.8.0.0/14","region":"eu-west-2","service":"EC2","network_border_group":"eu-west-2"}],"ipv6_prefixes":[]}`
	azure := `{"changeNumber":1,"cloud":"Public","values":[{"name":"AzureCloud.uksouth","properties":{"region":"uksouth","addressPrefixes":["4.158.0.0/15"]}}]}`
	mux := http.NewServeMux()
	mux.HandleFunc("/ip-ranges.json", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(aws)) })
	mux.HandleFunc("/details", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<a href="http://` + r.Host + `/download/ServiceTags_Public_20260101.json">x</a>`))
	})
	mux.HandleFunc("/download/ServiceTags_Public_20260101.json", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(azure)) })
	mux.HandleFunc("/not-json", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>maintenance</html>")) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	dir := filepath.Join(t.TempDir(), "cloud")
	files, err := Download(context.Background(), srv.Client(), dir, []Source{
		{Provider: provider.AWS, URL: srv.URL + "/ip-ranges.json", File: "aws-ip-ranges.json"},
		{Provider: provider.Azure, URL: srv.URL + "/details", File: "azure.json",
			Link: regexp.MustCompile(`http://[^"]+/ServiceTags_Public_[0-9]+\.json`)},
		{Provider: provider.GCP, URL: srv.URL + "/not-json", File: "google-cloud.json"},
		{Provider: provider.Oracle, URL: srv.URL + "/missing", File: "oracle.json"},
	})
	if len(files) != 2 {
		t.Errorf("Download wrote %v, want aws and azure", files)
	}
	if err == nil || !strings.Contains(err.Error(), "google-cloud.json") || !strings.Contains(err.Error(), "404") {
		t.Errorf("Download error = %v, want the bad gcp body and the oracle 404 reported", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "google-cloud.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an unparsable download was written: %v", err)
	}
	holds(t, filepath.Join(dir, "azure.json"), "4.158.0.1", "azure", "uksouth", "GB")
	holds(t, filepath.Join(dir, "aws-ip-ranges.json"), "3.8.0.1", "aws", "eu-west-2", "GB")
}

// TestFetchOffline points at a closed loopback port: the error must say
// the network is unreachable and suggest --from.
func TestFetchOffline(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := Download(context.Background(), http.DefaultClient, t.TempDir(),
		[]Source{{Provider: provider.AWS, URL: url + "/ip-ranges.json", File: "aws.json"}})
	if !errors.Is(err, ErrOffline) || !strings.Contains(err.Error(), "--from") {
		t.Errorf("offline Download error = %v, want ErrOffline mentioning --from", err)
	}
}

func TestImport(t *testing.T) {
	from := "../../../shared/geo/cloud"
	if _, err := os.Stat(from); err != nil {
		t.Skipf("shared reference data not found at %s (../shared beside the repo): %v", from, err)
	}
	dir := filepath.Join(t.TempDir(), "cloud")
	imported, skipped, err := Import(from, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(imported) != 8 || len(skipped) != 0 {
		t.Errorf("Import: %d imported %v, skipped %v; want the 8 provider files", len(imported), imported, skipped)
	}
	holds(t, filepath.Join(dir, "oracle-public_ip_ranges.json"), "79.72.64.1", "oracle", "uk-london-1", "GB")
	if _, _, err := Import(filepath.Join(from, "nonexistent"), dir); err == nil {
		t.Error("Import from a missing directory succeeded")
	}
}
