package rules

import (
	_ "embed"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Error is one problem in a policy file.
type Error struct {
	Pos Pos
	Msg string

	before   bool   // the fault is about the line above too: show it
	fileWide bool   // about no line: Pos is 1:1, and no line is shown
	excerpt  string // the line and a caret under Pos, see source.excerpt
}

// Error returns file:line:col: message, then the line with a caret under
// the column (and for some YAML syntax errors the line above), each
// source line starting with a space.
func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg + e.excerpt }

// ErrorList is every problem found in a policy file, sorted by position.
// Load and Parse return one as their error; get it with errors.As, and the
// single problems with errors.As on *Error or by ranging over the list.
type ErrorList []*Error

// maxErrors caps how many errors ErrorList.Error spells out.
const maxErrors = 100

// Error returns one problem a line, at most maxErrors of them and then
// a line that says how many more there are.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		if i == maxErrors {
			more := &Error{Pos: e.Pos, Msg: fmt.Sprintf("too many errors (%d more)", len(l)-i)}
			b.WriteString(more.Error())
			break
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Len returns the number of problems, including those Error leaves out.
func (l ErrorList) Len() int { return len(l) }

// Unwrap returns the problems, for errors.As and errors.Is.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Defaults for keys the file leaves out.
var defaultInternal = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"}

const defaultSuppress = 10 * time.Minute

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the text of the embedded default policy.
func DefaultYAML() []byte { return slices.Clone(defaultYAML) }

// Default returns the embedded default policy: a UK-government example
// that treats every internal device as a government device.
func Default() *Policy {
	p, err := Parse("default.yaml", defaultYAML)
	if err != nil {
		panic("rules: embedded default policy is invalid: " + err.Error())
	}
	return p
}

// DefaultWith returns the default policy with catalogues added.
func DefaultWith(cats ...*Catalog) (*Policy, error) {
	return ParseWith("default.yaml", defaultYAML, cats...)
}

// Load reads and validates a policy file.
func Load(path string) (*Policy, error) { return LoadWith(path) }

// LoadWith reads a policy file, adding the services of cats (see
// ParseWith).
func LoadWith(path string, cats ...*Catalog) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load policy: %w", err)
	}
	return ParseWith(path, data, cats...)
}

// Parse validates a policy; name is used in error positions.
func Parse(name string, data []byte) (*Policy, error) { return ParseWith(name, data) }

// ParseWith validates a policy with catalogues added as services: a
// catalogue named like an existing service (built-in or the file's) adds to
// it, otherwise it is a new service that rules may name in to. The error,
// if any, is an ErrorList.
func ParseWith(name string, data []byte, cats ...*Catalog) (*Policy, error) {
	p := &parser{file: name, conv: newIDNA(), src: newSource(data)}
	pol := p.parse(data, cats)
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool {
			a, b := p.errs[i].Pos, p.errs[j].Pos
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			return a.Col < b.Col
		})
		for _, e := range p.errs[:min(len(p.errs), maxErrors)] {
			if !e.fileWide {
				e.excerpt = p.src.excerpt(e.Pos, e.before)
			}
		}
		return nil, ErrorList(p.errs)
	}
	return pol, nil
}

// parser reads one policy file into pol, one method a section of the
// file, and collects every problem it finds in errs.
type parser struct {
	file    string
	src     *source
	conv    idnaConverter
	pol     *Policy // being built
	errs    []*Error
	aliases int // alias expansions so far, see deref
}

// sections are the top-level keys of a policy file, in the order the
// parser reads them.
var sections = []string{"version", "internal", "jurisdictions", "groups", "services", "rules", "suppress"}

func (p *parser) parse(data []byte, cats []*Catalog) *Policy {
	root := p.document(data)
	if root == nil {
		return nil
	}
	p.pol = &Policy{File: p.file, Suppress: defaultSuppress, Jurisdictions: map[string]*Jurisdiction{},
		groupVLAN: map[uint16]bitset{}, groupMAC: map[[6]byte]bitset{}, groupOUI: map[[3]byte]bitset{},
		svc: newServiceIndex(), idna: p.conv}
	top := map[string]*yaml.Node{} // a section's value; nil when the file leaves it out
	for _, f := range p.mapping(root, "policy", sections) {
		top[f.key] = f.v
	}
	p.version(root, top["version"])
	p.internal(top["internal"])
	p.suppress(top["suppress"])
	p.jurisdictions(top["jurisdictions"])
	p.groups(top["groups"])
	p.services(top["services"], cats)
	p.rules(top["rules"])
	p.indexServices(root)
	return p.pol
}

// document decodes the YAML and returns the root mapping, or nil after
// reporting why there is none.
func (p *parser) document(data []byte) *yaml.Node {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		p.errs = append(p.errs, p.src.syntaxError(p.file, err))
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		p.errorf(nil, "empty policy: want at least version: 1")
		return nil
	}
	root := p.deref(doc.Content[0])
	if root == nil || root.Kind != yaml.MappingNode {
		p.errorf(root, "policy must be a mapping of %s", strings.Join(sections, ", "))
		return nil
	}
	return root
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	e := &Error{Pos: Pos{p.file, 1, 1}, Msg: fmt.Sprintf(format, args...), fileWide: true}
	if n != nil && n.Line > 0 {
		e.Pos.Line, e.Pos.Col, e.fileWide = n.Line, n.Column, false
	}
	p.errs = append(p.errs, e)
}

func (p *parser) pos(n *yaml.Node) Pos { return Pos{p.file, n.Line, n.Column} }

// version checks version: 1, which root must have.
func (p *parser) version(root, n *yaml.Node) {
	if n == nil {
		p.errorf(root, "version is required: add version: 1")
	} else if s, ok := p.scalar(n, "version"); ok {
		if s != "1" {
			p.errorf(n, "unsupported version %q (this egresswatch reads version 1)", s)
		}
		p.pol.Version = 1
	}
}

// internal reads the internal prefixes; left out, they are the private
// ranges.
func (p *parser) internal(n *yaml.Node) {
	if n != nil {
		p.pol.Internal = p.prefixes(n, "internal")
		return
	}
	for _, s := range defaultInternal {
		p.pol.Internal = append(p.pol.Internal, netip.MustParsePrefix(s))
	}
}

// suppress reads how long an alert silences its repeats.
func (p *parser) suppress(n *yaml.Node) {
	if n == nil {
		return
	}
	s, ok := p.scalar(n, "suppress")
	if !ok {
		return
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		p.errorf(n, "invalid suppress duration %q (want e.g. 10m, 1h, or 0 for no suppression)", s)
	case d < 0:
		p.errorf(n, "suppress duration %q is negative", s)
	default:
		p.pol.Suppress = d
	}
}

// indexServices builds the domain, ASN and CIDR index over every service
// and except list, once the rules have added theirs.
func (p *parser) indexServices(root *yaml.Node) {
	pol := p.pol
	if len(pol.services) > maxSets {
		p.errorf(root, "too many services and except lists (%d, at most %d)", len(pol.services), maxSets)
	}
	for i, s := range pol.services {
		if i < maxSets {
			pol.svc.add(i, &s.Spec, s.builtin && s.edge)
		}
	}
}
