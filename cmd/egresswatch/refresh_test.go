package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestRefreshGeodataScript runs scripts/refresh-geodata.sh with a stand-in
// for npm that packs the repository's own GeoIP fixtures: good packages
// replace the files and the sensor is told to reload; a failing npm, or a
// package whose database egresswatch cannot open, leaves the old files as
// they were and exits 1.
func TestRefreshGeodataScript(t *testing.T) {
	for _, tool := range []string{"bash", "tar"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	tmp := t.TempDir()
	ew := buildBinary(t, tmp)
	// The packages npm would hand out, as tarballs with a package/ folder.
	pkgs := filepath.Join(tmp, "pkgs")
	pack := func(name string, files map[string]string) {
		dir := filepath.Join(tmp, "src-"+name, "package")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for dst, src := range files {
			b, err := os.ReadFile(src)
			if err != nil {
				b = []byte(src) // literal content
			}
			if err := os.WriteFile(filepath.Join(dir, dst), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		os.MkdirAll(pkgs, 0o755)
		if out, err := exec.Command("tar", "-czf", filepath.Join(pkgs, name), "-C", filepath.Dir(dir), "package").CombinedOutput(); err != nil {
			t.Fatalf("tar: %v\n%s", err, out)
		}
	}
	pack("ip-location-db-geo-whois-asn-country-mmdb-1.0.0.tgz", map[string]string{
		"geo-whois-asn-country.mmdb": "../../testdata/geo/iplocationdb-country.mmdb"})
	pack("ip-location-db-asn-1.0.0.tgz", map[string]string{
		"asn-ipv4.csv": "../../testdata/geo/asn-ranges.csv",
		"asn-ipv6.csv": "2001:db8::,2001:db8::ffff,64501,Test Six\n"})
	npm := filepath.Join(tmp, "npm")
	script := "#!/bin/sh\n[ -n \"$FAKE_NPM_FAIL\" ] && { echo 'npm: registry unreachable' >&2; exit 1; }\n" +
		"case \"$3\" in *country*) cp " + filepath.Join(pkgs, "ip-location-db-geo-whois-asn-country-mmdb-1.0.0.tgz") + " . ;;\n" +
		"*) cp " + filepath.Join(pkgs, "ip-location-db-asn-1.0.0.tgz") + " . ;; esac\n"
	if err := os.WriteFile(npm, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}

	data := filepath.Join(tmp, "geo")
	os.MkdirAll(data, 0o755)
	old := []byte("old data\n")
	for _, f := range []string{"geo-whois-asn-country.mmdb", "asn-ipv4.csv", "asn-ipv6.csv"} {
		os.WriteFile(filepath.Join(data, f), old, 0o644)
	}
	run := func(env ...string) (int, string) {
		cmd := exec.Command("bash", "../../scripts/refresh-geodata.sh", data, ew)
		cmd.Env = append(os.Environ(), append([]string{"NPM=" + npm, "REFRESH_CLOUD=no",
			"REFRESH_RELOAD=touch " + filepath.Join(tmp, "reloaded")}, env...)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), out.String()
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, out.String()
	}
	same := func(f string) bool {
		b, _ := os.ReadFile(filepath.Join(data, f))
		return bytes.Equal(b, old)
	}

	if code, out := run("FAKE_NPM_FAIL=1"); code != 1 || !same("geo-whois-asn-country.mmdb") || !same("asn-ipv4.csv") {
		t.Fatalf("npm failing: exit %d, files replaced %v; want exit 1 and the old files\n%s", code, !same("asn-ipv4.csv"), out)
	}

	// A damaged database: egresswatch cannot open it, so nothing moves.
	pack("ip-location-db-geo-whois-asn-country-mmdb-1.0.0.tgz", map[string]string{"geo-whois-asn-country.mmdb": "not a database"})
	if code, out := run(); code != 1 || !same("geo-whois-asn-country.mmdb") || !same("asn-ipv4.csv") {
		t.Fatalf("damaged database: exit %d; want exit 1 and the old files\n%s", code, out)
	}

	pack("ip-location-db-geo-whois-asn-country-mmdb-1.0.0.tgz", map[string]string{
		"geo-whois-asn-country.mmdb": "../../testdata/geo/iplocationdb-country.mmdb"})
	os.Remove(filepath.Join(tmp, "reloaded"))
	if code, out := run(); code != 0 || same("geo-whois-asn-country.mmdb") || same("asn-ipv4.csv") || same("asn-ipv6.csv") {
		t.Fatalf("good packages: exit %d; want 0 and every file replaced\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(tmp, "reloaded")); err != nil {
		t.Error("the sensor was not told to reload")
	}
	want, _ := os.ReadFile("../../testdata/geo/iplocationdb-country.mmdb")
	if got, _ := os.ReadFile(filepath.Join(data, "geo-whois-asn-country.mmdb")); !bytes.Equal(got, want) {
		t.Error("the country database in place is not the new one")
	}
	if ents, _ := filepath.Glob(filepath.Join(data, ".refresh.*")); len(ents) != 0 {
		t.Errorf("staging folders left behind: %v", ents)
	}
}
