package rules

import (
	_ "embed"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Error is one problem in a policy file. Load and Parse return all of them
// joined with errors.Join, sorted by position.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

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
// it, otherwise it is a new service that rules may name in to.
func ParseWith(name string, data []byte, cats ...*Catalog) (*Policy, error) {
	p := &parser{file: name, conv: newIDNA()}
	pol := p.parse(data, cats)
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool {
			a, b := p.errs[i].Pos, p.errs[j].Pos
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			return a.Col < b.Col
		})
		const maxErrors = 100
		errs := make([]error, 0, min(len(p.errs), maxErrors+1))
		for i, e := range p.errs {
			if i == maxErrors {
				errs = append(errs, &Error{e.Pos, fmt.Sprintf("too many errors (%d more)", len(p.errs)-i)})
				break
			}
			errs = append(errs, e)
		}
		return nil, errors.Join(errs...)
	}
	return pol, nil
}

type parser struct {
	file    string
	errs    []*Error
	aliases int
	conv    idnaConverter
}

const maxAliases = 1000

var (
	nameRE = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N}._-]*$`)
	yamlRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
)

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, n.Column
	}
	p.errs = append(p.errs, &Error{Pos{p.file, line, col}, fmt.Sprintf(format, args...)})
}

func (p *parser) pos(n *yaml.Node) Pos { return Pos{p.file, n.Line, n.Column} }

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

// mapping returns the fields of a mapping node. With allowed set, other
// keys are errors. Duplicate keys are errors.
func (p *parser) mapping(n *yaml.Node, what string, allowed []string) []field {
	n = p.deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping", what)
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
	n = p.deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s must be a list", what)
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

// spec reads a service body (domains, hosts, asns, cidrs).
func (p *parser) spec(n *yaml.Node, what string) (ServiceSpec, bool) {
	var s ServiceSpec
	fields := p.mapping(n, what, []string{"domains", "hosts", "asns", "cidrs"})
	for _, f := range fields {
		switch f.key {
		case "domains", "hosts":
			for _, c := range p.strings(f.v, what+" "+f.key) {
				if d, ok := p.domain(c); ok {
					if f.key == "domains" {
						s.Domains = append(s.Domains, d)
					} else {
						s.Hosts = append(s.Hosts, d)
					}
				}
			}
		case "asns":
			for _, c := range p.strings(f.v, what+" asns") {
				if a, ok := p.asn(c); ok {
					s.ASNs = append(s.ASNs, a)
				}
			}
		case "cidrs":
			s.CIDRs = append(s.CIDRs, p.prefixes(f.v, what+" cidrs")...)
		}
	}
	empty := len(s.Domains)+len(s.Hosts)+len(s.ASNs)+len(s.CIDRs) == 0
	return s, !empty
}

func (p *parser) checkName(n *yaml.Node, what string) bool {
	if !nameRE.MatchString(n.Value) {
		p.errorf(n, "%s name %q: use letters, digits, '.', '_' and '-'", what, n.Value)
		return false
	}
	return true
}

// rawRule keeps a rule's nodes for the second pass.
type rawRule struct {
	node                                     *yaml.Node
	id, name, from, to, allow, ind, sev, exc *yaml.Node
}

func (p *parser) parse(data []byte, cats []*Catalog) *Policy {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg, line := err.Error(), 1
		if m := yamlRE.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		} else {
			msg = strings.TrimPrefix(msg, "yaml: ")
		}
		p.errs = append(p.errs, &Error{Pos{p.file, line, 1}, "YAML syntax: " + msg})
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		p.errorf(nil, "empty policy: want at least version: 1")
		return nil
	}
	root := p.deref(doc.Content[0])
	if root == nil || root.Kind != yaml.MappingNode {
		p.errorf(root, "policy must be a mapping of version, internal, jurisdictions, groups, services, rules, suppress")
		return nil
	}
	pol := &Policy{File: p.file, Suppress: defaultSuppress, Jurisdictions: map[string]*Jurisdiction{},
		groupVLAN: map[uint16]bitset{}, groupMAC: map[[6]byte]bitset{}, groupOUI: map[[3]byte]bitset{},
		svc: newServiceIndex(), idna: p.conv}
	top := map[string]field{}
	for _, f := range p.mapping(root, "policy", []string{"version", "internal", "jurisdictions", "groups", "services", "rules", "suppress"}) {
		top[f.key] = f
	}

	// version
	if f, ok := top["version"]; !ok {
		p.errorf(root, "version is required: add version: 1")
	} else if s, ok := p.scalar(f.v, "version"); ok {
		if s != "1" {
			p.errorf(f.v, "unsupported version %q (this egresswatch reads version 1)", s)
		}
		pol.Version = 1
	}

	// internal
	if f, ok := top["internal"]; ok {
		pol.Internal = p.prefixes(f.v, "internal")
	} else {
		for _, s := range defaultInternal {
			pol.Internal = append(pol.Internal, netip.MustParsePrefix(s))
		}
	}

	// suppress
	if f, ok := top["suppress"]; ok {
		if s, ok := p.scalar(f.v, "suppress"); ok {
			d, err := time.ParseDuration(s)
			switch {
			case err != nil:
				p.errorf(f.v, "invalid suppress duration %q (want e.g. 10m, 1h, or 0 for no suppression)", s)
			case d < 0:
				p.errorf(f.v, "suppress duration %q is negative", s)
			default:
				pol.Suppress = d
			}
		}
	}

	p.jurisdictions(pol, top["jurisdictions"].v)
	p.groups(pol, top["groups"].v)
	p.services(pol, top["services"].v, cats)
	p.rules(pol, top["rules"].v)
	if len(pol.services) > maxSets {
		p.errorf(root, "too many services and except lists (%d, at most %d)", len(pol.services), maxSets)
	}
	for i, s := range pol.services {
		if i < maxSets {
			pol.svc.add(i, &s.Spec, s.builtin && s.edge)
		}
	}
	return pol
}

// jurisdictions resolves the built-in sets and the file's own.
func (p *parser) jurisdictions(pol *Policy, n *yaml.Node) {
	builtin := map[string]builtinJurisdiction{}
	for _, b := range builtinJurisdictions() {
		builtin[b.name] = b
	}
	var resolveBuiltin func(name string) *Jurisdiction
	resolveBuiltin = func(name string) *Jurisdiction {
		if j, ok := pol.Jurisdictions[name]; ok {
			return j
		}
		b := builtin[name]
		j := &Jurisdiction{Name: name, Source: b.source, Members: strings.Fields(b.members)}
		for _, m := range j.Members {
			if isCountryCode(m) {
				j.set.add(m)
			} else {
				j.set.union(&resolveBuiltin(m).set)
			}
		}
		pol.Jurisdictions[name] = j
		return j
	}
	for _, b := range builtinJurisdictions() {
		resolveBuiltin(b.name)
	}

	type raw struct {
		key     *yaml.Node
		members []*yaml.Node
	}
	raws := map[string]raw{}
	var order []string
	for _, f := range p.mapping(n, "jurisdictions", nil) {
		switch {
		case builtin[f.key].name != "":
			p.errorf(f.k, "jurisdiction %q is built in and cannot be redefined; choose another name", f.key)
			continue
		case isCountryCode(f.key) || len(f.key) == 2 && strings.ToUpper(f.key) == f.key:
			p.errorf(f.k, "jurisdiction name %q looks like a country code; choose a longer name", f.key)
			continue
		case !p.checkName(f.k, "jurisdiction"):
			continue
		}
		members := p.strings(f.v, "jurisdiction "+f.key)
		if len(members) == 0 {
			p.errorf(f.k, "jurisdiction %q is empty", f.key)
		}
		raws[f.key] = raw{f.k, members}
		order = append(order, f.key)
	}
	state := map[string]int{} // 1 resolving, 2 done
	var resolve func(name string, path []string) *Jurisdiction
	resolve = func(name string, path []string) *Jurisdiction {
		if state[name] == 2 {
			return pol.Jurisdictions[name]
		}
		r := raws[name]
		if state[name] == 1 {
			p.errorf(r.key, "jurisdiction %q refers to itself (%s)", name, strings.Join(append(path, name), " -> "))
			return nil
		}
		state[name] = 1
		j := &Jurisdiction{Name: name, Source: fmt.Sprintf("%s:%d", p.file, r.key.Line)}
		for _, m := range r.members {
			j.Members = append(j.Members, m.Value)
			switch {
			case isCountryCode(m.Value):
				j.set.add(m.Value)
			case pol.Jurisdictions[m.Value] != nil && builtin[m.Value].name != "":
				j.set.union(&pol.Jurisdictions[m.Value].set)
			case raws[m.Value].key != nil:
				if sub := resolve(m.Value, append(path, name)); sub != nil {
					j.set.union(&sub.set)
				}
			default:
				p.unknownJurisdiction(m)
			}
		}
		state[name] = 2
		pol.Jurisdictions[name] = j
		return j
	}
	for _, name := range order {
		resolve(name, nil)
	}
}

func (p *parser) unknownJurisdiction(n *yaml.Node) {
	v := n.Value
	switch {
	case v == "EL":
		p.errorf(n, "unknown country code \"EL\": Greece is GR in ISO 3166")
	case isCountryCode(strings.ToUpper(v)) || strings.ToUpper(v) == "UK":
		p.errorf(n, "unknown jurisdiction %q: country codes and built-in sets are upper-case (%s)", v, strings.ToUpper(v))
	case len(v) == 2:
		p.errorf(n, "unknown country code %q (want an ISO 3166-1 alpha-2 code)", v)
	default:
		p.errorf(n, "unknown jurisdiction %q (built in: EU, EEA, UK, EU-ADEQUACY, UK-ADEQUACY, EU-ADEQUACY-FULL, UK-ADEQUACY-FULL; or define it under jurisdictions)", v)
	}
}

func (p *parser) groups(pol *Policy, n *yaml.Node) {
	for _, f := range p.mapping(n, "groups", nil) {
		if !p.checkName(f.k, "group") {
			continue
		}
		if f.key == "any" {
			p.errorf(f.k, "group name \"any\" is reserved")
			continue
		}
		g := &Group{Name: f.key, Pos: p.pos(f.k)}
		nerrs := len(p.errs)
		what := "group " + f.key
		for _, gf := range p.mapping(f.v, what, append([]string{"cidrs", "vlans", "macs"}, deviceGroupKeys...)) {
			switch gf.key {
			case "hostnames", "inventory":
				p.groupDeviceKey(g, gf.key, gf.v, what)
			case "cidrs":
				g.CIDRs = append(g.CIDRs, p.prefixes(gf.v, what+" cidrs")...)
			case "vlans":
				for _, c := range p.strings(gf.v, what+" vlans") {
					v, err := strconv.ParseUint(c.Value, 10, 16)
					if err != nil || v < 1 || v > 4094 {
						p.errorf(c, "invalid VLAN %q (want 1 to 4094)", c.Value)
						continue
					}
					g.VLANs = append(g.VLANs, uint16(v))
				}
			case "macs":
				for _, c := range p.strings(gf.v, what+" macs") {
					if m, ok := p.mac(c); ok {
						g.MACs = append(g.MACs, m)
					}
				}
			}
		}
		if len(g.CIDRs)+len(g.VLANs)+len(g.MACs)+len(g.Hostnames)+len(g.Inventory) == 0 && len(p.errs) == nerrs {
			p.errorf(f.k, "group %q matches no device (give cidrs, vlans, macs, hostnames or inventory)", f.key)
		}
		idx := len(pol.groups)
		if idx >= maxSets {
			p.errorf(f.k, "too many groups (at most %d)", maxSets)
			continue
		}
		pol.groups = append(pol.groups, g)
		pol.groupNames = append(pol.groupNames, g.Name)
		pol.indexDeviceKeys(g, idx)
		for _, c := range g.CIDRs {
			pol.groupCIDRs = append(pol.groupCIDRs, prefixIndex{c, idx})
		}
		for _, v := range g.VLANs {
			b := pol.groupVLAN[v]
			b.set(idx)
			pol.groupVLAN[v] = b
		}
		for _, m := range g.MACs {
			if m.Len == 6 {
				b := pol.groupMAC[m.Addr]
				b.set(idx)
				pol.groupMAC[m.Addr] = b
			} else {
				k := [3]byte{m.Addr[0], m.Addr[1], m.Addr[2]}
				b := pol.groupOUI[k]
				b.set(idx)
				pol.groupOUI[k] = b
			}
		}
	}
}

func (p *parser) services(pol *Policy, n *yaml.Node, cats []*Catalog) {
	byName := map[string]*Service{}
	for _, b := range builtinServices() {
		s := &Service{Name: b.name, Source: "builtin: " + b.source, builtin: true, edge: b.edge,
			Spec: ServiceSpec{ASNs: b.asns}}
		for _, d := range b.domains {
			a, err := p.conv.domain(d)
			if err != nil {
				panic("rules: built-in service " + b.name + ": " + err.Error())
			}
			s.Spec.Domains = append(s.Spec.Domains, a)
		}
		s.Spec.Hosts = b.hosts
		for _, c := range b.cidrs {
			s.Spec.CIDRs = append(s.Spec.CIDRs, netip.MustParsePrefix(c))
		}
		pol.services = append(pol.services, s)
		byName[s.Name] = s
	}
	for _, f := range p.mapping(n, "services", nil) {
		if !p.checkName(f.k, "service") {
			continue
		}
		if f.key == "any" {
			p.errorf(f.k, "service name \"any\" is reserved (to: any means every egress destination)")
			continue
		}
		nerrs := len(p.errs)
		spec, ok := p.spec(f.v, "service "+f.key)
		if !ok && len(p.errs) == nerrs {
			p.errorf(f.k, "service %q matches nothing (give domains, hosts, asns or cidrs)", f.key)
			continue
		}
		if !ok {
			continue
		}
		src := fmt.Sprintf("%s:%d", p.file, f.k.Line)
		if s := byName[f.key]; s != nil {
			s.Spec = mergeSpec(s.Spec, spec)
			s.Source += "; " + src
			continue
		}
		s := &Service{Name: f.key, Source: src, Spec: spec}
		pol.services = append(pol.services, s)
		byName[s.Name] = s
	}
	for _, c := range cats {
		spec := ServiceSpec{Domains: c.Domains, Hosts: c.Hosts}
		if s := byName[c.Name]; s != nil {
			s.Spec = mergeSpec(s.Spec, spec)
			s.Source += "; catalog " + c.Source
			continue
		}
		s := &Service{Name: c.Name, Source: "catalog " + c.Source, Spec: spec}
		pol.services = append(pol.services, s)
		byName[s.Name] = s
	}
}

func mergeSpec(a, b ServiceSpec) ServiceSpec {
	return ServiceSpec{
		Domains: append(slices.Clip(a.Domains), b.Domains...),
		Hosts:   append(slices.Clip(a.Hosts), b.Hosts...),
		ASNs:    append(slices.Clip(a.ASNs), b.ASNs...),
		CIDRs:   append(slices.Clip(a.CIDRs), b.CIDRs...),
	}
}

var severities = map[string]Severity{"low": SeverityLow, "medium": SeverityMedium, "high": SeverityHigh, "critical": SeverityCritical}

func (p *parser) rules(pol *Policy, n *yaml.Node) {
	groupIdx := map[string]int{}
	for i, g := range pol.groups {
		groupIdx[g.Name] = i
	}
	svcIdx := map[string]int{}
	var svcNames []string
	for i, s := range pol.services {
		svcIdx[s.Name] = i
		svcNames = append(svcNames, s.Name)
	}
	ids := map[string]*yaml.Node{}
	for _, rn := range p.list(n, "rules") {
		var raw rawRule
		raw.node = rn
		for _, f := range p.mapping(rn, "rule", []string{"id", "name", "from", "to", "allow", "indeterminate", "severity", "except"}) {
			switch f.key {
			case "id":
				raw.id = f.v
			case "name":
				raw.name = f.v
			case "from":
				raw.from = f.v
			case "to":
				raw.to = f.v
			case "allow":
				raw.allow = f.v
			case "indeterminate":
				raw.ind = f.v
			case "severity":
				raw.sev = f.v
			case "except":
				raw.exc = f.v
			}
		}
		if rn.Kind != yaml.MappingNode {
			continue
		}
		r := &Rule{Pos: p.pos(rn), except: -1}
		label := "rule"
		if raw.id == nil {
			p.errorf(rn, "rule has no id")
		} else if id, ok := p.scalar(raw.id, "rule id"); ok {
			r.ID = id
			label = "rule " + id
			if !nameRE.MatchString(id) {
				p.errorf(raw.id, "rule id %q: use letters, digits, '.', '_' and '-'", id)
			} else if first, dup := ids[id]; dup {
				p.errorf(raw.id, "duplicate rule id %q (first at line %d)", id, first.Line)
			} else {
				ids[id] = raw.id
			}
		}
		if raw.name == nil {
			p.errorf(rn, "%s has no name (a short sentence for the alert)", label)
		} else if s, ok := p.scalar(raw.name, label+" name"); ok {
			r.Name = s
		}
		// from
		if raw.from == nil {
			p.errorf(rn, "%s has no from (the device groups it applies to)", label)
		} else {
			from := p.strings(raw.from, label+" from")
			if fn := p.deref(raw.from); isNull(fn) || fn.Kind == yaml.SequenceNode && len(fn.Content) == 0 {
				p.errorf(raw.from, "%s from is empty", label)
			}
			for _, g := range from {
				i, ok := groupIdx[g.Value]
				if !ok {
					p.errorf(g, "unknown group %q in %s from%s", g.Value, label, known(groupNames(pol)))
					continue
				}
				r.From = append(r.From, g.Value)
				r.from.set(i)
			}
		}
		// to
		if raw.to == nil {
			p.errorf(rn, "%s has no to (any, or a list of services)", label)
		} else if to := p.deref(raw.to); to != nil {
			switch {
			case to.Kind == yaml.ScalarNode && to.Value == "any":
				r.Any = true
			case to.Kind == yaml.SequenceNode:
				items := p.strings(to, label+" to")
				if len(to.Content) == 0 {
					p.errorf(to, "%s to is empty (write to: any for every destination)", label)
				}
				for _, s := range items {
					if s.Value == "any" {
						p.errorf(s, "%s to: write any on its own, not in a list", label)
						continue
					}
					i, ok := svcIdx[s.Value]
					if !ok || pol.services[i].hidden {
						p.errorf(s, "unknown service %q in %s to%s", s.Value, label, known(svcNames))
						continue
					}
					r.To = append(r.To, s.Value)
					r.to.set(i)
				}
			default:
				p.errorf(to, "%s to must be any or a list of services", label)
			}
		}
		// allow
		if raw.allow != nil {
			items := p.strings(raw.allow, label+" allow")
			if len(items) == 0 {
				p.errorf(raw.allow, "%s allow is empty (omit it to alert on every destination)", label)
			}
			for _, a := range items {
				switch {
				case isCountryCode(a.Value):
					r.allow.add(a.Value)
				case pol.Jurisdictions[a.Value] != nil:
					r.allow.union(&pol.Jurisdictions[a.Value].set)
				default:
					p.unknownJurisdiction(a)
					continue
				}
				r.Allow = append(r.Allow, a.Value)
			}
			r.hasAllow = true
		}
		if raw.ind != nil {
			if s, ok := p.scalar(raw.ind, label+" indeterminate"); ok {
				switch s {
				case "warn":
					r.Indeterminate = IndeterminateWarn
				case "alert":
					r.Indeterminate = IndeterminateAlert
				case "ignore":
					r.Indeterminate = IndeterminateIgnore
				default:
					p.errorf(raw.ind, "invalid indeterminate %q in %s (want alert, warn or ignore)", s, label)
				}
				if raw.allow == nil {
					p.errorf(raw.ind, "%s: indeterminate applies only with allow", label)
				}
			}
		}
		if raw.sev == nil {
			p.errorf(rn, "%s has no severity (low, medium, high or critical)", label)
		} else if s, ok := p.scalar(raw.sev, label+" severity"); ok {
			if sev, ok := severities[s]; ok {
				r.Severity = sev
			} else {
				p.errorf(raw.sev, "invalid severity %q in %s (want low, medium, high or critical)", s, label)
			}
		}
		if raw.exc != nil {
			spec, ok := p.spec(raw.exc, label+" except")
			if ok {
				r.Except = spec
				r.except = len(pol.services)
				pol.services = append(pol.services, &Service{Name: "except:" + r.ID, Source: r.Pos.String(), Spec: spec, hidden: true})
			}
		}
		pol.Rules = append(pol.Rules, r)
	}
}

func groupNames(pol *Policy) []string {
	var out []string
	for _, g := range pol.groups {
		out = append(out, g.Name)
	}
	return out
}

func known(names []string) string {
	if len(names) == 0 {
		return " (none defined)"
	}
	return " (known: " + strings.Join(names, ", ") + ")"
}
