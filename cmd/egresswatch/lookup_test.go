package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sharedGeo(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "geo")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared reference data not found at %s: %v", dir, err)
	}
	return dir
}

func TestLookupJSON(t *testing.T) {
	dir := sharedGeo(t)
	var out, errb bytes.Buffer
	code := cmdLookup(context.Background(), []string{"--json",
		"--geoip", filepath.Join(dir, "maxmind-test", "test-data", "GeoIP2-Country-Test.mmdb"),
		"--geoip", filepath.Join(dir, "maxmind-test", "test-data", "GeoLite2-ASN-Test.mmdb"),
		"--cloud-dir", filepath.Join(dir, "cloud"),
		"96.0.40.1", "89.160.20.112", "104.16.0.1"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3:\n%s", len(lines), out.String())
	}
	type rec struct {
		Destination struct {
			IP  string
			Geo struct {
				CountryISOCode string `json:"country_iso_code"`
				Registered     string `json:"registered_country_iso_code"`
			}
			AS struct{ Number uint32 }
		}
		Cloud struct {
			Provider, Region string
			Zone             string `json:"availability_zone"`
		}
		Egresswatch struct {
			Placement struct {
				Indeterminate bool
			}
		}
	}
	var got [3]rec
	for i, l := range lines {
		if err := json.Unmarshal([]byte(l), &got[i]); err != nil {
			t.Fatalf("line %d: %v: %s", i, err, l)
		}
	}
	if g := got[0]; g.Destination.IP != "96.0.40.1" || g.Destination.Geo.CountryISOCode != "NG" ||
		g.Cloud.Provider != "aws" || g.Cloud.Region != "af-south-1" || g.Cloud.Zone != "af-south-1-los-1" {
		t.Errorf("Lagos Local Zone: %s", lines[0])
	}
	if g := got[1]; g.Destination.Geo.CountryISOCode != "SE" || g.Destination.Geo.Registered != "DE" || g.Destination.AS.Number != 29518 {
		t.Errorf("GeoIP: %s", lines[1])
	}
	if g := got[2]; !g.Egresswatch.Placement.Indeterminate || g.Cloud.Provider != "cloudflare" || g.Destination.Geo.CountryISOCode != "" {
		t.Errorf("Cloudflare: %s", lines[2])
	}
}

func TestLookupText(t *testing.T) {
	dir := sharedGeo(t)
	var out, errb bytes.Buffer
	code := cmdLookup(context.Background(), []string{"--cloud-dir", filepath.Join(dir, "cloud"), "51.34.0.1", "nonsense"}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), `"nonsense" is not an IP address`) {
		t.Errorf("exit %d, stderr %q; want 1 and a bad-address message", code, errb.String())
	}
	for _, s := range []string{"51.34.0.1\tCH", "aws region eu-central-2", "(aws:aws-ip-ranges.json)", "# sources:"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, out.String())
		}
	}
	if code := cmdLookup(context.Background(), nil, &out, &errb); code != 2 {
		t.Errorf("no arguments: exit %d, want 2", code)
	}
}

func TestLookupEnvDir(t *testing.T) {
	dir := sharedGeo(t)
	data := t.TempDir()
	if err := os.Symlink(filepath.Join(must(filepath.Abs(dir)), "cloud"), filepath.Join(data, "cloud")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("EGRESSWATCH_GEO_DIR", data)
	var out, errb bytes.Buffer
	if code := cmdLookup(context.Background(), []string{"--json", "79.72.64.1"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), `"region":"uk-london-1"`) {
		t.Errorf("EGRESSWATCH_GEO_DIR not used: %s", out.String())
	}
}

func must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}

func TestGeoFetchFrom(t *testing.T) {
	dir := sharedGeo(t)
	data := t.TempDir()
	var out, errb bytes.Buffer
	code := cmdGeo(context.Background(), []string{"fetch", "--dir", data, "--from", filepath.Join(dir, "cloud")}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if n := strings.Count(out.String(), "imported "); n != 8 {
		t.Errorf("imported %d files, want 8:\n%s", n, out.String())
	}
	if _, err := os.Stat(filepath.Join(data, "cloud", "aws-ip-ranges.json")); err != nil {
		t.Error(err)
	}
	errb.Reset()
	if code := cmdGeo(context.Background(), []string{"fetch", "--dir", data, "--from", t.TempDir()}, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), "no provider range files") {
		t.Errorf("empty --from: exit %d, %q", code, errb.String())
	}
	if code := cmdGeo(context.Background(), []string{"frobnicate"}, &out, &errb); code != 2 {
		t.Errorf("unknown geo subcommand: exit %d, want 2", code)
	}
}

// TestLookupAnycast: a public resolver is not placed in its operator's
// country; lookup says what it is and that it is indeterminate, as replay
// treats it.
func TestLookupAnycast(t *testing.T) {
	dir := sharedGeo(t)
	var out, errb bytes.Buffer
	// GeoLite2-ASN-Test gives 1.0.0.0/24 to AS15169.
	code := cmdLookup(context.Background(), []string{
		"--geoip", filepath.Join(dir, "maxmind-test", "test-data", "GeoLite2-ASN-Test.mmdb"),
		"1.0.0.1", "8.8.8.8"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, s := range []string{
		"1.0.0.1\tindeterminate for residency  (AS15169 Google Inc.)",
		"  reason      anycast: Cloudflare DNS is served from many countries (built-in list)",
		"8.8.8.8\tindeterminate for residency",
		"  reason      anycast: Google Public DNS is served from many countries (built-in list)",
	} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, out.String())
		}
	}
}
