package geo

import "net/netip"

// Cache is a small direct-mapped placement cache for one worker. It is not
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
	addr netip.Addr
	used bool
	p    Placement
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
	slot := &c.slots[hashAddr(a)&c.mask]
	if slot.used && slot.addr == a {
		c.hits++
		return slot.p
	}
	c.misses++
	slot.addr, slot.used, slot.p = a, true, c.st.lookup(a)
	return slot.p
}

// Stats returns the number of hits and misses so far.
func (c *Cache) Stats() (hits, misses uint64) { return c.hits, c.misses }

// hashAddr mixes the 128 address bits (IPv4 as IPv4-mapped) into a slot
// number.
func hashAddr(a netip.Addr) uint64 {
	b := a.As16()
	var hi, lo uint64
	for i := 0; i < 8; i++ {
		hi = hi<<8 | uint64(b[i])
		lo = lo<<8 | uint64(b[i+8])
	}
	h := (hi ^ lo*0x9e3779b97f4a7c15) * 0xbf58476d1ce4e5b9
	return h ^ h>>31
}
