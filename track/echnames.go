package track

import "sync"

// publicNames is a bounded set of ECH public names (the names of an ECH
// provider's client-facing servers, from the ech parameter of DNS
// HTTPS/SVCB answers). The oldest name is forgotten first. Unlike an
// address answer it does not expire with its TTL: a provider's public
// name is stable for months, and forgetting it would turn real ECH back
// into an apparently plain hello.
type publicNames struct {
	mu   sync.RWMutex
	max  int
	m    map[string]struct{}
	fifo []string
}

// AddECHPublicName records a public name seen in an ECH config (lower
// case, as tlshello.ECHPublicNames returns it).
func (c *Names) AddECHPublicName(name string) {
	p := &c.pub
	if name == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.m[name]; ok {
		return
	}
	if len(p.fifo) >= p.max {
		delete(p.m, p.fifo[0])
		p.fifo = append(p.fifo[:0], p.fifo[1:]...)
	}
	p.m[name] = struct{}{}
	p.fifo = append(p.fifo, name)
}

// IsECHPublicName reports whether sni (lower case, as tlshello returns
// it) is an ECH public name: one seen in a DNS answer's ECH config, or
// one of the few well-known ones (see wellKnownECHPublicName).
func (c *Names) IsECHPublicName(sni string) bool {
	if sni == "" {
		return false
	}
	if wellKnownECHPublicName(sni) {
		return true
	}
	p := &c.pub
	p.mu.RLock()
	_, ok := p.m[sni]
	p.mu.RUnlock()
	return ok
}

// wellKnownECHPublicName reports whether name is the public name of a
// large ECH deployment, known without having seen its DNS answer (the
// client may have resolved it over encrypted DNS, or before the capture
// began). Keep this list short and sourced:
//
//   - cloudflare-ech.com: the public name of every ECH config Cloudflare
//     publishes for the zones it serves (Cloudflare's ECH announcement and
//     documentation; it is the name in the HTTPS records of
//     ../shared/pcaps/zeek-dns-ech.pcap).
func wellKnownECHPublicName(name string) bool {
	switch name {
	case "cloudflare-ech.com":
		return true
	}
	return false
}
