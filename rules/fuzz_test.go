package rules

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: the policy parser never panics, and every error it reports
// is positioned.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*.yaml"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Add(defaultYAML)
	f.Add([]byte("version: 1\nrules: [{id: a, to: *x}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("f.yaml", data)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "f.yaml:") {
					t.Fatalf("unpositioned error line %q", line)
				}
			}
			return
		}
		in := Input{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("8.8.8.8"), Name: "www.tiktok.com"}
		p.Evaluate(&in, nil)
	})
}

// FuzzService: the domain matcher never panics, agrees with a slow
// reference on suffix matches of the file's services, and is
// case-insensitive.
func FuzzService(f *testing.F) {
	p := mustParse(f, evalPolicy)
	for _, s := range []string{"www.tiktok.com", "TIKTOK.COM.", "a..b", ".", "", "x.example-saas.com",
		"tiktokcdn.com.edgesuite.net", "xn--bcher-kva.example", "bücher.example", strings.Repeat("a.", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := p.Service(name, noAddr, 0)
		if up := p.Service(strings.ToUpper(name), noAddr, 0); isASCII(name) && up != got {
			t.Fatalf("Service(%q) = %q but upper-case gives %q", name, got, up)
		}
		n := strings.TrimSuffix(strings.ToLower(name), ".")
		want := n == "example-saas.com" || strings.HasSuffix(n, ".example-saas.com")
		if isASCII(name) && want != matches(p, name, "corp-saas") {
			t.Fatalf("Service(%q) = %q, reference says corp-saas=%v", name, got, want)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// FuzzParseCatalog: catalogue reading never panics.
func FuzzParseCatalog(f *testing.F) {
	f.Add([]byte("# c\ntiktok.com\nfull:www.x.com @ads\ndomain:a.b\nkeyword:tik\nregexp:^x$\ninclude:y\n"))
	f.Add([]byte("bücher.example\n*.bad\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCatalog("svc", "f.txt", data)
		if err == nil && len(c.Domains)+len(c.Hosts) == 0 {
			t.Fatalf("no error and no domains")
		}
	})
}
