package rules

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzParse: the policy parser never panics, and every error it reports
// is positioned, followed only by source lines.
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
			checkErrorText(t, err.Error(), "f.yaml")
			return
		}
		in := Input{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("8.8.8.8"), Name: "www.tiktok.com"}
		p.Evaluate(&in, nil)
	})
}

// FuzzSource: the lines of a source are yaml.v3's: every plain scalar
// node stands at its Line and Column. Excerpts never panic and put their
// caret under the column; a YAML syntax error is placed on a line of the
// file, and its text is positioned.
func FuzzSource(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*.yaml"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("\ufeffa: b\r\nc: [d,\re]\u0085f: \"g\th\"\u2028i: 'j\u2029k'\n"))
	f.Add([]byte("a:\n  b: 1\n c: 2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		src := newSource(data)
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			e := src.syntaxError("f.yaml", err)
			if len(src.lines) > 0 && (e.Pos.Line < 1 || e.Pos.Line > len(src.lines)) {
				t.Fatalf("syntax error on line %d of %d", e.Pos.Line, len(src.lines))
			}
			checkErrorText(t, e.Pos.String()+": "+e.Msg+src.excerpt(e.Pos, e.before), "f.yaml")
			return
		}
		if len(src.lines) == 0 {
			return // UTF-16
		}
		var walk func(n *yaml.Node, depth int)
		walk = func(n *yaml.Node, depth int) {
			if depth > 50 {
				return
			}
			word := n.Value
			if i := strings.IndexAny(word, " \t\n"); i >= 0 {
				word = word[:i]
			}
			if n.Kind == yaml.ScalarNode && n.Style == 0 && n.Anchor == "" && word != "" {
				line, ok := src.line(n.Line)
				rs := []rune(line)
				if !ok || n.Column < 1 || n.Column > len(rs) || !strings.HasPrefix(string(rs[n.Column-1:]), word) {
					t.Fatalf("node %q at %d:%d, but the line there is %q", n.Value, n.Line, n.Column, line)
				}
				ex := src.excerpt(Pos{"f.yaml", n.Line, n.Column}, false)
				shown := strings.Split(ex, "\n")
				if len(shown) != 3 {
					t.Fatalf("excerpt of %d:%d is %d lines: %q", n.Line, n.Column, len(shown)-1, ex)
				}
				if i := strings.IndexByte(shown[2], '^'); len(line) <= excerptWidth && isPrintableASCII(line) && shown[1][i] != word[0] {
					t.Fatalf("caret not under %q:%s", word, ex)
				}
			}
			for _, c := range n.Content {
				walk(c, depth+1)
			}
		}
		walk(&doc, 0)
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

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
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
