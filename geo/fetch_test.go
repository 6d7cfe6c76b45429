package geo

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

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
	files, err := Fetch(context.Background(), srv.Client(), dir, []FetchSource{
		{Provider: ProviderAWS, URL: srv.URL + "/ip-ranges.json", File: "aws-ip-ranges.json"},
		{Provider: ProviderAzure, URL: srv.URL + "/details", File: "azure.json",
			Link: regexp.MustCompile(`http://[^"]+/ServiceTags_Public_[0-9]+\.json`)},
		{Provider: ProviderGCP, URL: srv.URL + "/not-json", File: "google-cloud.json"},
		{Provider: ProviderOracle, URL: srv.URL + "/missing", File: "oracle.json"},
	})
	if len(files) != 2 {
		t.Errorf("Fetch wrote %v, want aws and azure", files)
	}
	if err == nil || !strings.Contains(err.Error(), "google-cloud.json") || !strings.Contains(err.Error(), "404") {
		t.Errorf("Fetch error = %v, want the bad gcp body and the oracle 404 reported", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "google-cloud.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an unparsable download was written: %v", err)
	}
	db, err := Open(Options{CloudDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	check(t, db, "4.158.0.1", want{country: "GB", provider: "azure", region: "uksouth"})
	check(t, db, "3.8.0.1", want{country: "GB", provider: "aws", region: "eu-west-2"})
}

// TestFetchOffline points at a closed loopback port: the error must say
// the network is unreachable and suggest --from.
func TestFetchOffline(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := Fetch(context.Background(), http.DefaultClient, t.TempDir(),
		[]FetchSource{{Provider: ProviderAWS, URL: url + "/ip-ranges.json", File: "aws.json"}})
	if !errors.Is(err, ErrOffline) || !strings.Contains(err.Error(), "--from") {
		t.Errorf("offline Fetch error = %v, want ErrOffline mentioning --from", err)
	}
}

func TestImport(t *testing.T) {
	from := filepath.Join(shared(t), "cloud")
	dir := filepath.Join(t.TempDir(), "cloud")
	imported, skipped, err := Import(from, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(imported) != 8 || len(skipped) != 0 {
		t.Errorf("Import: %d imported %v, skipped %v; want the 8 provider files", len(imported), imported, skipped)
	}
	db, err := Open(Options{CloudDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	check(t, db, "79.72.64.1", want{country: "GB", provider: "oracle", region: "uk-london-1"})
	if _, _, err := Import(filepath.Join(from, "nonexistent"), dir); err == nil {
		t.Error("Import from a missing directory succeeded")
	}
}
