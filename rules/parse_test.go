package rules

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the .err golden files of bad policy fixtures")

const fixtures = "../testdata/policy"

func TestGoodPolicies(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*.good.yaml"))
	if len(files) < 3 {
		t.Fatalf("found %d good fixtures, want at least 3", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			p, err := Load(f)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if len(p.Rules) == 0 {
				t.Errorf("no rules loaded")
			}
		})
	}
}

func TestBadPolicies(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*.bad.yaml"))
	if len(files) < 5 {
		t.Fatalf("found %d bad fixtures, want at least 5", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, err := Load(f)
			if err == nil {
				t.Fatalf("Load succeeded, want errors")
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(f, ".yaml") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, rerr := os.ReadFile(golden)
			if rerr != nil {
				t.Fatalf("read golden (run go test -update): %v", rerr)
			}
			if got != string(want) {
				t.Errorf("errors differ from %s\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
			checkErrorText(t, got, f)
			var perr *Error
			if !errors.As(err, &perr) || perr.Pos.Line == 0 {
				t.Errorf("errors.As(*Error) = %v, %+v", err, perr)
			}
		})
	}
}

func TestIssueExampleContents(t *testing.T) {
	p, err := Load(filepath.Join(fixtures, "issue-example.good.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Suppress != 10*time.Minute {
		t.Errorf("Suppress = %v, want 10m", p.Suppress)
	}
	r := p.Rule("gov-outside-approved")
	if r == nil || !r.Any || r.Indeterminate != IndeterminateWarn || r.Severity != SeverityMedium ||
		len(r.Except.Domains) != 1 || r.Except.Domains[0] != "windowsupdate.com" {
		t.Fatalf("gov-outside-approved = %+v", r)
	}
	for _, c := range []struct {
		code string
		want bool
	}{{"GB", true}, {"FR", true}, {"NO", true}, {"CH", true}, {"US", false}, {"CN", false}, {"GG", false}} {
		if got := r.allow.has(c.code); got != c.want {
			t.Errorf("approved has %s = %v, want %v", c.code, got, c.want)
		}
	}
	if got := p.Rule("gov-sensitive-app").To; strings.Join(got, ",") != "tiktok,bytedance" {
		t.Errorf("to = %v", got)
	}
}

func TestFeaturesContents(t *testing.T) {
	p, err := Load(filepath.Join(fixtures, "features.good.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Suppress != 0 || len(p.Internal) != 0 {
		t.Errorf("Suppress = %v, Internal = %v, want 0 and none", p.Suppress, p.Internal)
	}
	var got []string
	for _, s := range p.AllServices() {
		if s.Name == "münchen" {
			got = s.Spec.Domains
		}
	}
	if strings.Join(got, ",") != "xn--bcher-kva.example,ok.example" {
		t.Errorf("münchen domains = %v, want A-labels", got)
	}
	if s := p.Service("www.tiktok-extra.example", noAddr, 0); s != "tiktok" {
		t.Errorf("extended built-in: Service = %q, want tiktok", s)
	}
	// nordics and UK-ADEQUACY-FULL and plain codes.
	r := p.Rule("outside")
	for code, want := range map[string]bool{"SE": true, "GB": true, "IE": true, "JP": true, "UY": true, "US": false, "KR": false} {
		if r.allow.has(code) != want {
			t.Errorf("allow has %s = %v, want %v", code, !want, want)
		}
	}
}

func TestDefaultPolicy(t *testing.T) {
	p := Default()
	if len(p.Rules) != 3 || p.Rule("gov-sensitive-app") == nil {
		t.Fatalf("default rules = %d", len(p.Rules))
	}
	if !bytes.Contains(DefaultYAML(), []byte("version: 1")) {
		t.Errorf("DefaultYAML lacks version")
	}
}

func TestParseAliasBudget(t *testing.T) {
	// Aliases are followed, but only maxAliases times per document.
	small := "version: 1\ninternal: [&c 10.0.0.0/8" + strings.Repeat(", *c", 10) + "]\n"
	if _, err := Parse("small.yaml", []byte(small)); err != nil {
		t.Errorf("10 aliases: %v", err)
	}
	big := "version: 1\ninternal: [&c 10.0.0.0/8" + strings.Repeat(", *c", maxAliases+5) + "]\n"
	_, err := Parse("big.yaml", []byte(big))
	// The excerpt shows the last 100 characters of the long line, the
	// caret under the alias that broke the budget.
	want := "big.yaml:2:" + strconv.Itoa(4*(maxAliases+1)+23) + ": too many alias expansions (more than 1000)" +
		"\n    2 | ..." + strings.Repeat(" *c,", 24) + " *c]" +
		"\n      | " + strings.Repeat(" ", 3+4*20+1) + "^"
	var perr *Error
	if !errors.As(err, &perr) || perr.Error() != want {
		t.Errorf("%d aliases: err = %v", maxAliases+5, err)
	}
}

// checkErrorText checks that the text of a policy's errors is lines of
// file:line:col: message, each followed by source lines that start with
// a space.
func checkErrorText(t testing.TB, text, file string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	for i, line := range lines {
		switch {
		case strings.HasPrefix(line, " "):
			if i == 0 {
				t.Errorf("source line %q before any error", line)
			}
		case !strings.HasPrefix(line, file+":") || strings.Count(line, ":") < 3:
			t.Errorf("line %q is not file:line:col: message", line)
		}
	}
}

// TestSyntaxErrorLines: yaml.v3 says where it noticed a syntax error,
// often lines away from it; the error points at the fault.
func TestSyntaxErrorLines(t *testing.T) {
	for _, tt := range []struct {
		fixture        string
		yamlLine, line int
	}{
		{"syntax.bad.yaml", 3, 4},          // a list left open
		{"syntax-later.bad.yaml", 4, 1},    // a list left open, noticed three lines later
		{"syntax-indent.bad.yaml", 16, 28}, // a key indented too little
		{"syntax-colon.bad.yaml", 18, 18},  // an unquoted ": "
		{"syntax-quote.bad.yaml", 23, 23},  // a quote left open
	} {
		t.Run(tt.fixture, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(fixtures, tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			if _, yl := yamlProblem(data); yl != tt.yamlLine {
				t.Errorf("yaml.v3 says line %d, want %d (has yaml.v3 changed?)", yl, tt.yamlLine)
			}
			_, err = Parse(tt.fixture, data)
			var perr *Error
			if !errors.As(err, &perr) || perr.Pos.Line != tt.line {
				t.Errorf("error %v, want it on line %d", err, tt.line)
			}
		})
	}
}

func TestErrorListOverflow(t *testing.T) {
	// 150 unknown top-level keys: the list holds them all, its text the
	// first maxErrors and a count of the rest.
	var b strings.Builder
	b.WriteString("version: 1\n")
	for i := range 150 {
		b.WriteString("k" + strconv.Itoa(i) + ": 1\n")
	}
	_, err := Parse("many.yaml", []byte(b.String()))
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("errors.As(ErrorList) = false for %T", err)
	}
	if list.Len() != 150 {
		t.Errorf("Len() = %d, want 150", list.Len())
	}
	var errLines []string // without the source lines
	for _, line := range strings.Split(err.Error(), "\n") {
		if !strings.HasPrefix(line, " ") {
			errLines = append(errLines, line)
		}
	}
	if len(errLines) != maxErrors+1 || errLines[maxErrors] != "many.yaml:102:1: too many errors (50 more)" {
		t.Errorf("%d errors, last %q", len(errLines), errLines[len(errLines)-1])
	}
	var perr *Error
	if !errors.As(err, &perr) || perr != list[0] {
		t.Errorf("errors.As(*Error) = %v, want the first error", perr)
	}
}
