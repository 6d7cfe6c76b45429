package rules

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// jurisdictions resolves the built-in sets and the file's own, which may
// name each other (but not themselves, directly or through others).
func (p *parser) jurisdictions(n *yaml.Node) {
	builtin := addBuiltinJurisdictions(p.pol)
	type raw struct {
		key     *yaml.Node
		members []*yaml.Node
	}
	raws := map[string]raw{}
	var order []string
	for _, f := range p.mapping(n, "jurisdictions", nil) {
		switch {
		case builtin[f.key]:
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
	pol := p.pol
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
			case pol.Jurisdictions[m.Value] != nil && builtin[m.Value]:
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

// addBuiltinJurisdictions resolves the built-in sets into pol and returns
// their names.
func addBuiltinJurisdictions(pol *Policy) map[string]bool {
	builtin := map[string]builtinJurisdiction{}
	for _, b := range builtinJurisdictions() {
		builtin[b.name] = b
	}
	var resolve func(name string) *Jurisdiction
	resolve = func(name string) *Jurisdiction {
		if j, ok := pol.Jurisdictions[name]; ok {
			return j
		}
		b := builtin[name]
		j := &Jurisdiction{Name: name, Source: b.source, Members: strings.Fields(b.members)}
		for _, m := range j.Members {
			if isCountryCode(m) {
				j.set.add(m)
			} else {
				j.set.union(&resolve(m).set)
			}
		}
		pol.Jurisdictions[name] = j
		return j
	}
	names := map[string]bool{}
	for _, b := range builtinJurisdictions() {
		resolve(b.name)
		names[b.name] = true
	}
	return names
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
