package rules

import (
	"strings"

	"gopkg.in/yaml.v3"
)

var ruleKeys = []string{"id", "name", "from", "to", "allow", "indeterminate", "severity", "except"}

// ruleRefs resolves the names rules refer to.
type ruleRefs struct {
	groups       map[string]int // name -> index in pol.groups
	services     map[string]int // name -> index in pol.services
	serviceNames []string
	ids          map[string]*yaml.Node // the rule ids so far
}

// rules reads the rules, which refer to the groups, services and
// jurisdictions read before them.
func (p *parser) rules(n *yaml.Node) {
	refs := &ruleRefs{groups: map[string]int{}, services: map[string]int{}, ids: map[string]*yaml.Node{}}
	for i, g := range p.pol.groups {
		refs.groups[g.Name] = i
	}
	for i, s := range p.pol.services {
		refs.services[s.Name] = i
		refs.serviceNames = append(refs.serviceNames, s.Name)
	}
	for _, rn := range p.list(n, "rules") {
		keys := map[string]*yaml.Node{} // a key's value; nil when the rule leaves it out
		for _, f := range p.mapping(rn, "rule", ruleKeys) {
			keys[f.key] = f.v
		}
		if rn.Kind == yaml.MappingNode {
			p.pol.Rules = append(p.pol.Rules, p.rule(rn, keys, refs))
		}
	}
}

// rule reads one rule, rn, whose values are keys.
func (p *parser) rule(rn *yaml.Node, keys map[string]*yaml.Node, refs *ruleRefs) *Rule {
	r := &Rule{Pos: p.pos(rn), except: -1}
	label := p.ruleID(r, rn, keys["id"], refs)
	if n := keys["name"]; n == nil {
		p.errorf(rn, "%s has no name (a short sentence for the alert)", label)
	} else if s, ok := p.scalar(n, label+" name"); ok {
		r.Name = s
	}
	p.ruleFrom(r, rn, keys["from"], label, refs)
	p.ruleTo(r, rn, keys["to"], label, refs)
	p.ruleAllow(r, keys["allow"], label)
	p.ruleIndeterminate(r, keys["indeterminate"], label)
	p.ruleSeverity(r, rn, keys["severity"], label)
	if n := keys["except"]; n != nil {
		if spec, ok := p.spec(n, label+" except"); ok {
			r.Except = spec
			r.except = len(p.pol.services)
			p.pol.services = append(p.pol.services, &Service{Name: "except:" + r.ID, Source: r.Pos.String(), Spec: spec, hidden: true})
		}
	}
	return r
}

// ruleID reads the rule's id, which must be unique, and returns how
// messages name the rule.
func (p *parser) ruleID(r *Rule, rn, n *yaml.Node, refs *ruleRefs) (label string) {
	if n == nil {
		p.errorf(rn, "rule has no id")
		return "rule"
	}
	id, ok := p.scalar(n, "rule id")
	if !ok {
		return "rule"
	}
	r.ID = id
	if !nameRE.MatchString(id) {
		p.errorf(n, "rule id %q: use letters, digits, '.', '_' and '-'", id)
	} else if first, dup := refs.ids[id]; dup {
		p.errorf(n, "duplicate rule id %q (first at line %d)", id, first.Line)
	} else {
		refs.ids[id] = n
	}
	return "rule " + id
}

// ruleFrom reads the groups the rule applies to.
func (p *parser) ruleFrom(r *Rule, rn, n *yaml.Node, label string, refs *ruleRefs) {
	if n == nil {
		p.errorf(rn, "%s has no from (the device groups it applies to)", label)
		return
	}
	from := p.strings(n, label+" from")
	if fn := p.deref(n); isNull(fn) || fn.Kind == yaml.SequenceNode && len(fn.Content) == 0 {
		p.errorf(n, "%s from is empty", label)
	}
	for _, g := range from {
		i, ok := refs.groups[g.Value]
		if !ok {
			p.errorf(g, "unknown group %q in %s from%s", g.Value, label, known(groupNames(p.pol)))
			continue
		}
		r.From = append(r.From, g.Value)
		r.from.set(i)
	}
}

// ruleTo reads the services the rule watches: any, or a list.
func (p *parser) ruleTo(r *Rule, rn, n *yaml.Node, label string, refs *ruleRefs) {
	if n == nil {
		p.errorf(rn, "%s has no to (any, or a list of services)", label)
		return
	}
	to := p.deref(n)
	switch {
	case to == nil:
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
			i, ok := refs.services[s.Value]
			if !ok || p.pol.services[i].hidden {
				p.errorf(s, "unknown service %q in %s to%s", s.Value, label, known(refs.serviceNames))
				continue
			}
			r.To = append(r.To, s.Value)
			r.to.set(i)
		}
	default:
		p.errorf(to, "%s to must be any or a list of services", label)
	}
}

// ruleAllow reads the jurisdictions and countries the rule allows.
func (p *parser) ruleAllow(r *Rule, n *yaml.Node, label string) {
	if n == nil {
		return
	}
	items := p.strings(n, label+" allow")
	if len(items) == 0 {
		p.errorf(n, "%s allow is empty (omit it to alert on every destination)", label)
	}
	for _, a := range items {
		switch {
		case isCountryCode(a.Value):
			r.allow.add(a.Value)
		case p.pol.Jurisdictions[a.Value] != nil:
			r.allow.union(&p.pol.Jurisdictions[a.Value].set)
		default:
			p.unknownJurisdiction(a)
			continue
		}
		r.Allow = append(r.Allow, a.Value)
	}
	r.hasAllow = true
}

// ruleIndeterminate reads what the rule does with a destination it cannot
// place; it needs allow, read before.
func (p *parser) ruleIndeterminate(r *Rule, n *yaml.Node, label string) {
	if n == nil {
		return
	}
	if s, ok := p.scalar(n, label+" indeterminate"); ok {
		if ind, ok := indeterminates[s]; ok {
			r.Indeterminate = ind
		} else {
			p.errorf(n, "invalid indeterminate %q in %s (want alert, warn or ignore)", s, label)
		}
		if !r.hasAllow {
			p.errorf(n, "%s: indeterminate applies only with allow", label)
		}
	}
}

var indeterminates = map[string]Indeterminate{"warn": IndeterminateWarn, "alert": IndeterminateAlert, "ignore": IndeterminateIgnore}

var severities = map[string]Severity{"low": SeverityLow, "medium": SeverityMedium, "high": SeverityHigh, "critical": SeverityCritical}

// ruleSeverity reads the severity of the rule's alerts.
func (p *parser) ruleSeverity(r *Rule, rn, n *yaml.Node, label string) {
	if n == nil {
		p.errorf(rn, "%s has no severity (low, medium, high or critical)", label)
	} else if s, ok := p.scalar(n, label+" severity"); ok {
		if sev, ok := severities[s]; ok {
			r.Severity = sev
		} else {
			p.errorf(n, "invalid severity %q in %s (want low, medium, high or critical)", s, label)
		}
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
