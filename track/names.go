package track

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// NamesOptions bound the passive DNS cache.
type NamesOptions struct {
	MaxEntries int           // default 1<<18
	Grace      time.Duration // how long past its TTL an answer still names a flow; default 5 min
	// MaxECHPublicNames bounds the set of ECH public names (see
	// AddECHPublicName); default 1024.
	MaxECHPublicNames int
}

// NameStats counts the cache's work.
type NameStats struct {
	Added, Hits, Misses, Expired, Evicted uint64
	Entries                               int
}

type nameEntry struct {
	name    string
	expires time.Time
	seen    time.Time
}

// Names is the passive DNS cache: address -> the name a client asked for
// (the question, not the CNAME target it resolved through). It is safe for
// concurrent use; lookups take a read lock only.
//
// Entries expire by packet time: an answer names flows that start within
// its TTL plus a grace period (resolvers and applications routinely keep
// answers past their TTL).
type Names struct {
	opts         NamesOptions
	mu           sync.RWMutex
	m            map[netip.Addr]nameEntry
	fifo         []netip.Addr // insertion order, for eviction
	stats        NameStats    // guarded by mu, except hits and misses
	hits, misses atomic.Uint64
	pub          publicNames
}

// NewNames returns an empty cache.
func NewNames(opts NamesOptions) *Names {
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = 1 << 18
	}
	if opts.Grace <= 0 {
		opts.Grace = 5 * time.Minute
	}
	if opts.MaxECHPublicNames <= 0 {
		opts.MaxECHPublicNames = 1024
	}
	return &Names{opts: opts, m: make(map[netip.Addr]nameEntry),
		pub: publicNames{max: opts.MaxECHPublicNames, m: make(map[string]struct{})}}
}

// Add records that name resolved to addr at packet time t with the given TTL.
func (c *Names) Add(addr netip.Addr, name string, ttl uint32, t time.Time) {
	if !addr.IsValid() || name == "" {
		return
	}
	addr = addr.Unmap()
	exp := t.Add(time.Duration(ttl)*time.Second + c.opts.Grace)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[addr]; !ok {
		for len(c.m) >= c.opts.MaxEntries && len(c.fifo) > 0 {
			old := c.fifo[0]
			c.fifo = c.fifo[1:]
			if _, ok := c.m[old]; ok {
				delete(c.m, old)
				c.stats.Evicted++
			}
		}
		c.fifo = append(c.fifo, addr)
		if len(c.fifo) > 2*c.opts.MaxEntries { // compact the backing array now and then
			c.fifo = append([]netip.Addr(nil), c.fifo...)
		}
	}
	c.m[addr] = nameEntry{name: name, expires: exp, seen: t}
	c.stats.Added++
}

// Lookup returns the name addr was last resolved from, if that answer is
// still fresh at packet time t.
func (c *Names) Lookup(addr netip.Addr, t time.Time) (string, bool) {
	addr = addr.Unmap()
	c.mu.RLock()
	e, ok := c.m[addr]
	c.mu.RUnlock()
	if ok && t.After(e.expires) {
		c.mu.Lock()
		if cur, still := c.m[addr]; still && cur == e {
			delete(c.m, addr)
			c.stats.Expired++
		}
		c.mu.Unlock()
		ok = false
	}
	if !ok || t.Before(e.seen.Add(-time.Second)) {
		c.misses.Add(1)
		return "", false
	}
	c.hits.Add(1)
	return e.name, true
}

// Stats returns a snapshot of the counters.
func (c *Names) Stats() NameStats {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s := c.stats
	s.Entries = len(c.m)
	s.Hits, s.Misses = c.hits.Load(), c.misses.Load()
	return s
}
