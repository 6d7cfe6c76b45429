package rules

import (
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The node helpers: they read one YAML node each, report what is wrong
// with it and return what is usable.

const maxAliases = 1000

var nameRE = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N}._-]*$`)

// deref follows aliases, with a budget against alias bombs.
func (p *parser) deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		p.aliases++
		if p.aliases == maxAliases+1 {
			p.errorf(n, "too many alias expansions (more than %d)", maxAliases)
		}
		if p.aliases > maxAliases || i > 100 {
			return nil
		}
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

type field struct {
	key  string
	k, v *yaml.Node
}

// collection follows n's aliases and returns it if it is of kind; null
// gives nil, any other kind the error wrong and nil.
func (p *parser) collection(n *yaml.Node, kind yaml.Kind, wrong string) *yaml.Node {
	n = p.deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != kind {
		p.errorf(n, "%s", wrong)
		return nil
	}
	return n
}

// named returns the entries of a section of named things (groups,
// services) whose names are valid and not any, which is reserved: the
// error says so, followed by why.
func (p *parser) named(n *yaml.Node, what, why string) []field {
	var out []field
	for _, f := range p.mapping(n, what+"s", nil) {
		if !p.checkName(f.k, what) {
			continue
		}
		if f.key == "any" {
			p.errorf(f.k, "%s name \"any\" is reserved%s", what, why)
			continue
		}
		out = append(out, f)
	}
	return out
}

// mapping returns the fields of a mapping node. With allowed set, other
// keys are errors. Duplicate keys are errors.
func (p *parser) mapping(n *yaml.Node, what string, allowed []string) []field {
	n = p.collection(n, yaml.MappingNode, what+" must be a mapping")
	if n == nil {
		return nil
	}
	var out []field
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := p.deref(n.Content[i]), n.Content[i+1]
		if k == nil {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, "%s: keys must be plain strings", what)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			p.errorf(k, "duplicate key %q in %s (first at line %d)", k.Value, what, first.Line)
			continue
		}
		seen[k.Value] = k
		if allowed != nil && !slices.Contains(allowed, k.Value) {
			p.errorf(k, "unknown key %q in %s (want %s)", k.Value, what, strings.Join(allowed, ", "))
			continue
		}
		out = append(out, field{k.Value, k, v})
	}
	return out
}

// list returns the items of a sequence node (null = empty).
func (p *parser) list(n *yaml.Node, what string) []*yaml.Node {
	n = p.collection(n, yaml.SequenceNode, what+" must be a list")
	if n == nil {
		return nil
	}
	out := make([]*yaml.Node, 0, len(n.Content))
	for _, c := range n.Content {
		if c = p.deref(c); c != nil {
			out = append(out, c)
		}
	}
	return out
}

// scalar returns a non-empty scalar's text.
func (p *parser) scalar(n *yaml.Node, what string) (string, bool) {
	n = p.deref(n)
	if n == nil {
		return "", false
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, "%s must be a single value", what)
		return "", false
	}
	if strings.TrimSpace(n.Value) == "" {
		p.errorf(n, "%s is empty", what)
		return "", false
	}
	return n.Value, true
}

func (p *parser) strings(n *yaml.Node, what string) []*yaml.Node {
	var out []*yaml.Node
	for _, c := range p.list(n, what) {
		if _, ok := p.scalar(c, what+" entry"); ok {
			out = append(out, c)
		}
	}
	return out
}

func (p *parser) prefix(n *yaml.Node) (netip.Prefix, bool) {
	s := strings.TrimSpace(n.Value)
	pr, err := netip.ParsePrefix(s)
	if err != nil {
		a, aerr := netip.ParseAddr(s)
		if aerr != nil || a.Zone() != "" {
			p.errorf(n, "invalid CIDR %q (want an address or prefix like 10.20.0.0/16)", s)
			return netip.Prefix{}, false
		}
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), true
	}
	if pr.Addr().Is4In6() {
		p.errorf(n, "CIDR %q is an IPv4-mapped IPv6 prefix; write the IPv4 prefix", s)
		return netip.Prefix{}, false
	}
	if pr != pr.Masked() {
		p.errorf(n, "CIDR %q has host bits set (did you mean %s?)", s, pr.Masked())
		return netip.Prefix{}, false
	}
	return pr, true
}

func (p *parser) prefixes(n *yaml.Node, what string) []netip.Prefix {
	var out []netip.Prefix
	for _, c := range p.strings(n, what) {
		if pr, ok := p.prefix(c); ok {
			out = append(out, pr)
		}
	}
	return out
}

func (p *parser) mac(n *yaml.Node) (MACPrefix, bool) {
	s := strings.TrimSpace(n.Value)
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ':' || r == '-' })
	var m MACPrefix
	ok := len(parts) == 3 || len(parts) == 6
	for i, part := range parts {
		if !ok {
			break
		}
		v, err := strconv.ParseUint(part, 16, 8)
		if err != nil || len(part) != 2 {
			ok = false
			break
		}
		m.Addr[i] = byte(v)
	}
	if !ok || strings.Count(s, ":")+strings.Count(s, "-") != len(parts)-1 {
		p.errorf(n, "invalid MAC %q (want a full MAC like 00:1b:63:84:45:e6 or an OUI like 00:1b:63)", s)
		return MACPrefix{}, false
	}
	m.Len = len(parts)
	return m, true
}

func (p *parser) asn(n *yaml.Node) (uint32, bool) {
	s := strings.TrimSpace(n.Value)
	t := strings.TrimPrefix(strings.TrimPrefix(s, "AS"), "as")
	v, err := strconv.ParseUint(t, 10, 32)
	if err != nil || v == 0 {
		p.errorf(n, "invalid ASN %q (want a number like 64500 or AS64500)", s)
		return 0, false
	}
	return uint32(v), true
}

func (p *parser) domain(n *yaml.Node) (string, bool) {
	d, err := p.conv.domain(n.Value)
	if err != nil {
		p.errorf(n, "%v", err)
		return "", false
	}
	return d, true
}

func (p *parser) checkName(n *yaml.Node, what string) bool {
	if !nameRE.MatchString(n.Value) {
		p.errorf(n, "%s name %q: use letters, digits, '.', '_' and '-'", what, n.Value)
		return false
	}
	return true
}
