package rules

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sharedDomains = "../../shared/catalog/domains"

func readList(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(sharedDomains, name))
	if err != nil {
		t.Skipf("shared catalogue not available (%s): %v", sharedDomains, err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// TestBuiltinCoverage measures how much of the curated community lists our
// hand-written built-in lists match (entry, or a subdomain of it, is
// matched by the built-in service).
func TestBuiltinCoverage(t *testing.T) {
	p := Default()
	for _, tt := range []struct {
		file, service string
		min           float64
	}{
		{"tiktok.txt", "tiktok", 0.90},
		{"bytedance.txt", "bytedance", 0.15},
		{"tiktok.txt", "bytedance", 0.90}, // bytedance is a superset of tiktok
	} {
		entries := readList(t, tt.file)
		hit := 0
		var missed []string
		for _, e := range entries {
			if p.Service(e, noAddr, 0) != "" && matches(p, e, tt.service) {
				hit++
			} else {
				missed = append(missed, e)
			}
		}
		frac := float64(hit) / float64(len(entries))
		t.Logf("built-in %s matches %d/%d = %.1f%% of %s", tt.service, hit, len(entries), 100*frac, tt.file)
		if frac < tt.min {
			t.Errorf("coverage of %s by %s = %.1f%%, want >= %.0f%%; missed e.g. %v", tt.file, tt.service, 100*frac, 100*tt.min, missed)
		}
	}
}

func matches(p *Policy, name, service string) bool {
	var buf [256]byte
	var b bitset
	n, _ := p.idna.normName(name, &buf)
	p.svc.match(n, noAddr, 0, &b)
	for i, s := range p.services {
		if s.Name == service && b.has(i) {
			return true
		}
	}
	return false
}

// TestCatalogImportCoverage imports the shared lists and checks the
// imported service matches every entry, and a subdomain of it.
func TestCatalogImportCoverage(t *testing.T) {
	for _, file := range []string{"tiktok.txt", "bytedance.txt", "tencent.txt", "wechat.txt", "kaspersky.txt", "deepseek.txt"} {
		path := filepath.Join(sharedDomains, file)
		if _, err := os.Stat(path); err != nil {
			t.Skipf("shared catalogue not available (%s): %v", path, err)
		}
		c, err := LoadCatalog("imported-" + file + ":" + path)
		if err != nil {
			t.Fatalf("LoadCatalog(%s): %v", file, err)
		}
		p, err := DefaultWith(c)
		if err != nil {
			t.Fatal(err)
		}
		entries := readList(t, file)
		hit := 0
		for _, e := range entries {
			if matches(p, e, c.Name) && matches(p, "sub."+e, c.Name) {
				hit++
			}
		}
		t.Logf("catalog import %s: %d domains, %d hosts; matches %d/%d entries", file, len(c.Domains), len(c.Hosts), hit, len(entries))
		if hit != len(entries) {
			t.Errorf("import of %s matches %d/%d entries, want all", file, hit, len(entries))
		}
	}
}
