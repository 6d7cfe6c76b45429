package rules

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Catalog is a domain list read from a v2fly/domain-list-community style
// file, to be added to a policy as a service (see ParseWith).
type Catalog struct {
	Name     string   // service name
	Source   string   // file it came from
	Domains  []string // A-labels; each matches itself and its subdomains
	Hosts    []string // full: entries, exact names
	Warnings []string // "file:line:col: ..." for entries that were skipped
}

// Catalogue file syntax (v2fly domain-list-community):
//
//	# comment            (also after an entry)
//	example.com          domain and subdomains
//	domain:example.com   the same
//	full:www.example.com that name only
//	keyword:, regexp:    not supported: skipped with a warning
//	include:other        the lines of file "other" beside this one
//	example.com @ads     attributes are read and, except in include filters, ignored
//
// include:other @attr takes only other's entries that carry @attr, and
// include:other @-attr only those that do not.

// LoadCatalog reads a catalogue file named by arg, "FILE" or "NAME:FILE".
// Without NAME the service is named after the file (without extension).
func LoadCatalog(arg string) (*Catalog, error) {
	name, path := "", arg
	if i := strings.IndexByte(arg, ':'); i > 0 && nameRE.MatchString(arg[:i]) && !isWindowsDrive(arg[:i]) {
		name, path = arg[:i], arg[i+1:]
	}
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		if !nameRE.MatchString(name) {
			return nil, fmt.Errorf("catalog %s: cannot name a service %q after the file; use NAME:FILE", path, name)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	dir := filepath.Dir(path)
	include := func(file string) ([]byte, string, error) {
		p := filepath.Join(dir, file)
		b, err := os.ReadFile(p)
		return b, p, err
	}
	return parseCatalog(name, path, data, include)
}

func isWindowsDrive(s string) bool { return len(s) == 1 }

// ParseCatalog reads a catalogue held in memory; include: lines are errors.
func ParseCatalog(name, source string, data []byte) (*Catalog, error) {
	return parseCatalog(name, source, data, nil)
}

type catalogEntry struct {
	kind, value string
	attrs       []string
	line, col   int
	file        string
}

func parseCatalog(name, source string, data []byte, include func(string) ([]byte, string, error)) (*Catalog, error) {
	if !nameRE.MatchString(name) || name == "any" {
		return nil, fmt.Errorf("catalog %s: invalid service name %q", source, name)
	}
	c := &Catalog{Name: name, Source: source}
	conv := newIDNA()
	var errs []string
	entries := readCatalog(source, data, include, nil, 0, &errs)
	seenD, seenH := map[string]bool{}, map[string]bool{}
	for _, e := range entries {
		pos := fmt.Sprintf("%s:%d:%d", e.file, e.line, e.col)
		switch e.kind {
		case "domain", "full":
			d, err := conv.domain(e.value)
			if err != nil {
				errs = append(errs, pos+": "+err.Error())
				continue
			}
			if e.kind == "domain" && !seenD[d] {
				seenD[d] = true
				c.Domains = append(c.Domains, d)
			} else if e.kind == "full" && !seenH[d] {
				seenH[d] = true
				c.Hosts = append(c.Hosts, d)
			}
		case "keyword", "regexp":
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s: %s: rules are not supported, skipped %q", pos, e.kind, e.value))
		default:
			errs = append(errs, fmt.Sprintf("%s: unknown rule type %q", pos, e.kind))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("catalog %s:\n%s", source, strings.Join(errs, "\n"))
	}
	if len(c.Domains)+len(c.Hosts) == 0 {
		return nil, fmt.Errorf("catalog %s: no domains", source)
	}
	return c, nil
}

func readCatalog(file string, data []byte, include func(string) ([]byte, string, error), stack []string, depth int, errs *[]string) []catalogEntry {
	var out []catalogEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		col := strings.Index(sc.Text(), fields[0]) + 1
		e := catalogEntry{kind: "domain", value: fields[0], line: line, col: col, file: file}
		if k, v, ok := strings.Cut(fields[0], ":"); ok {
			e.kind, e.value = k, v
		}
		for _, a := range fields[1:] {
			if !strings.HasPrefix(a, "@") {
				*errs = append(*errs, fmt.Sprintf("%s:%d:%d: unexpected %q (attributes start with @)", file, line, strings.Index(sc.Text(), a)+1, a))
				continue
			}
			e.attrs = append(e.attrs, a[1:])
		}
		if e.kind != "include" {
			out = append(out, e)
			continue
		}
		pos := fmt.Sprintf("%s:%d:%d", file, line, col)
		switch {
		case include == nil:
			*errs = append(*errs, pos+": include: needs a file beside this one (use LoadCatalog)")
			continue
		case depth >= 16 || slices.Contains(stack, e.value):
			*errs = append(*errs, fmt.Sprintf("%s: include cycle or too deep: %s", pos, strings.Join(append(stack, e.value), " -> ")))
			continue
		}
		sub, subFile, err := include(e.value)
		if err != nil {
			*errs = append(*errs, fmt.Sprintf("%s: include %s: %v", pos, e.value, err))
			continue
		}
		for _, se := range readCatalog(subFile, sub, include, append(stack, e.value), depth+1, errs) {
			if keep(se.attrs, e.attrs) {
				out = append(out, se)
			}
		}
	}
	if err := sc.Err(); err != nil {
		*errs = append(*errs, fmt.Sprintf("%s: %v", file, err))
	}
	return out
}

// keep applies include filters: @a requires attribute a, @-a forbids it.
func keep(attrs, filters []string) bool {
	for _, f := range filters {
		if neg, ok := strings.CutPrefix(f, "-"); ok {
			if slices.Contains(attrs, neg) {
				return false
			}
		} else if !slices.Contains(attrs, f) {
			return false
		}
	}
	return true
}

// YAML renders the catalogue as a services: entry for a policy file.
func (c *Catalog) YAML() string {
	var b strings.Builder
	fmt.Fprintf(&b, "services:\n  %s:   # imported from %s\n", c.Name, filepath.Base(c.Source))
	list := func(key string, items []string) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintf(&b, "    %s:\n", key)
		for _, d := range items {
			fmt.Fprintf(&b, "      - %s\n", d)
		}
	}
	list("domains", c.Domains)
	list("hosts", c.Hosts)
	return b.String()
}
