package rules

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/net/idna"
)

// serviceIndex answers "which services does this destination belong to"
// without allocating: domains in a map walked label by label, exact hosts
// in a second map, ASNs in a map, single addresses in a map and wider
// prefixes in a short list.
type serviceIndex struct {
	suffix map[string]bitset
	exact  map[string]bitset
	asn    map[uint32]bitset
	addr   map[netip.Addr]bitset
	nets   []prefixIndex

	// CDN edge names: a CDN names the edge host for a customer's
	// tiktokcdn.com by appending its own suffix (tiktokcdn.com.edgesuite.net,
	// v16.tiktokcdn.com.c.bytefcdn-oversea.com). For built-in sensitive
	// services (never for except lists or the file's services, where it
	// would let windowsupdate.com.evil.example through) a domain also
	// matches when it appears label-aligned inside a longer name. edgeFirst
	// holds the first labels of those domains, as a cheap filter.
	edge      map[string]bitset
	edgeFirst map[string]struct{}
}

func newServiceIndex() serviceIndex {
	return serviceIndex{
		suffix: map[string]bitset{},
		exact:  map[string]bitset{},
		asn:    map[uint32]bitset{},
		addr:   map[netip.Addr]bitset{},

		edge:      map[string]bitset{},
		edgeFirst: map[string]struct{}{},
	}
}

func (x *serviceIndex) add(i int, s *ServiceSpec, edge bool) {
	for _, d := range s.Domains {
		if edge {
			b := x.edge[d]
			b.set(i)
			x.edge[d] = b
			first, _, _ := strings.Cut(d, ".")
			x.edgeFirst[first] = struct{}{}
		}
		b := x.suffix[d]
		b.set(i)
		x.suffix[d] = b
	}
	for _, h := range s.Hosts {
		b := x.exact[h]
		b.set(i)
		x.exact[h] = b
	}
	for _, a := range s.ASNs {
		b := x.asn[a]
		b.set(i)
		x.asn[a] = b
	}
	for _, p := range s.CIDRs {
		if p.IsSingleIP() {
			b := x.addr[p.Addr()]
			b.set(i)
			x.addr[p.Addr()] = b
			continue
		}
		x.nets = append(x.nets, prefixIndex{p, i})
	}
}

// match ORs into out the services that name, dst or asn belong to. name
// must already be normalised (see normName). The map lookups with
// string(bytes) keys do not allocate.
func (x *serviceIndex) match(name []byte, dst netip.Addr, asn uint32, out *bitset) {
	if len(name) > 0 {
		if b, ok := x.exact[string(name)]; ok {
			out.or(&b)
		}
		for s := name; ; {
			if b, ok := x.suffix[string(s)]; ok {
				out.or(&b)
			}
			i := bytes.IndexByte(s, '.')
			if i < 0 {
				break
			}
			s = s[i+1:]
		}
		if len(x.edge) > 0 {
			x.matchEdge(name, out)
		}
	}
	if asn != 0 {
		if b, ok := x.asn[asn]; ok {
			out.or(&b)
		}
	}
	if dst.IsValid() {
		dst = dst.Unmap()
		if b, ok := x.addr[dst]; ok {
			out.or(&b)
		}
		for _, n := range x.nets {
			if n.p.Contains(dst) {
				out.set(n.idx)
			}
		}
	}
}

// matchEdge finds edge domains inside name, followed by at least one more
// label: for each label whose text starts an edge domain, it tries the
// label-aligned runs that begin there.
func (x *serviceIndex) matchEdge(name []byte, out *bitset) {
	for start := 0; start < len(name); {
		end := bytes.IndexByte(name[start:], '.')
		if end < 0 {
			return
		}
		end += start
		if _, ok := x.edgeFirst[string(name[start:end])]; ok {
			for j := end; j < len(name); {
				k := bytes.IndexByte(name[j+1:], '.')
				if k < 0 {
					break
				}
				j += 1 + k
				if b, ok := x.edge[string(name[start:j])]; ok {
					out.or(&b)
				}
			}
		}
		start = end + 1
	}
}

// idnaConverter turns names into lower-case A-labels. Underscores and
// hyphens in the third and fourth place are allowed, as real DNS has both.
type idnaConverter struct{ p *idna.Profile }

func newIDNA() idnaConverter {
	return idnaConverter{idna.New(idna.MapForLookup(), idna.BidiRule(),
		idna.StrictDomainName(false), idna.CheckHyphens(false))}
}

// domain normalises a domain written in a policy or catalogue.
func (c idnaConverter) domain(s string) (string, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "*.") || strings.HasPrefix(s, ".") {
		return "", fmt.Errorf("write %q without the leading %q: a domain already matches its subdomains",
			strings.TrimLeft(s, "*."), s[:len(s)-len(strings.TrimLeft(s, "*."))])
	}
	s = strings.TrimSuffix(s, ".")
	if s == "" {
		return "", fmt.Errorf("empty domain")
	}
	a, err := c.p.ToASCII(s)
	if err != nil {
		return "", fmt.Errorf("invalid domain %q: %v", s, err)
	}
	if len(a) > 253 {
		return "", fmt.Errorf("domain %q is longer than 253 bytes", s)
	}
	for _, l := range strings.Split(a, ".") {
		if l == "" {
			return "", fmt.Errorf("domain %q has an empty label", s)
		}
		if len(l) > 63 {
			return "", fmt.Errorf("domain %q has a label longer than 63 bytes", s)
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", fmt.Errorf("domain %q has a character %q not allowed in a host name", s, c)
			}
		}
	}
	return a, nil
}

// normName copies name into buf lower-cased, without a trailing dot, and
// returns the bytes to look up. Non-ASCII names are converted to A-labels,
// which allocates; ok is false when such a name cannot be converted.
func (c idnaConverter) normName(name string, buf *[256]byte) (_ []byte, ok bool) {
	name = strings.TrimSuffix(name, ".")
	var out []byte
	if len(name) <= len(buf) {
		out = buf[:len(name)]
	} else {
		out = make([]byte, len(name))
	}
	for i := 0; i < len(name); i++ {
		b := name[i]
		if b >= 0x80 {
			a, err := c.p.ToASCII(name)
			if err != nil {
				return nil, false
			}
			return []byte(a), true
		}
		if b >= 'A' && b <= 'Z' {
			b += 'a' - 'A'
		}
		out[i] = b
	}
	return out, true
}
