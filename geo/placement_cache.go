package geo

import (
	"encoding/binary"
	"net/netip"
)

// Cache is a small two-way set-associative placement cache for one worker. It is not
// safe for concurrent use: give each worker its own. A hit costs a hash and
// a compare and does not allocate. The cache notices DB.Reload and starts
// empty again.
type Cache struct {
	db           *DB
	st           *state
	slots        []cacheSlot
	mask         uint64
	hits, misses uint64
}

type cacheSlot struct {
	addr   netip.Addr
	used   bool
	recent bool
	p      Placement
}

// NewCache returns a cache of at least size entries (rounded up to a power
// of two, minimum 16) in front of db.
func NewCache(db *DB, size int) *Cache {
	n := 16
	for n < size {
		n <<= 1
	}
	return &Cache{db: db, slots: make([]cacheSlot, n), mask: uint64(n - 1)}
}

// Lookup returns db.Lookup(a), from the cache when it can.
func (c *Cache) Lookup(a netip.Addr) Placement {
	if s := c.db.cur.Load(); s != c.st {
		clear(c.slots)
		c.st = s
	}
	// Two-way set: slots i and i^1. A hit marks its slot recent; a miss
	// replaces the slot that is not.
	i := hashAddr(a) & c.mask
	s0, s1 := &c.slots[i], &c.slots[i^1]
	switch {
	case s0.used && s0.addr == a:
		c.hits++
		s0.recent, s1.recent = true, false
		return s0.p
	case s1.used && s1.addr == a:
		c.hits++
		s1.recent, s0.recent = true, false
		return s1.p
	}
	c.misses++
	victim, other := s0, s1
	if s0.recent {
		victim, other = s1, s0
	}
	victim.addr, victim.used, victim.recent, victim.p = a, true, true, c.st.lookup(a)
	other.recent = false
	return victim.p
}

// Stats returns the number of hits and misses so far.
func (c *Cache) Stats() (hits, misses uint64) { return c.hits, c.misses }

// hashAddr mixes the 128 address bits (IPv4 as IPv4-mapped) into a slot
// number.
func hashAddr(a netip.Addr) uint64 {
	b := a.As16()
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	h := (hi ^ lo*0x9e3779b97f4a7c15) * 0xbf58476d1ce4e5b9
	return h ^ h>>31
}
