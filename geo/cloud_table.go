package geo

import (
	"encoding/binary"
	"net/netip"
	"runtime"
	"slices"
	"strings"

	"github.com/egresswatch/egresswatch/geo/internal/cachefile"
	"github.com/egresswatch/egresswatch/geo/provider"
)

// better reports whether candidate should replace current for the same
// prefix: a range with a region wins over one without (Azure lists many
// prefixes in both a global and a regional tag), then a specific service
// wins over the umbrella set.
func better(candidate, current provider.Range) bool {
	if candidate.Global != current.Global {
		return !candidate.Global
	}
	if candidate.Umbrella != current.Umbrella {
		return !candidate.Umbrella
	}
	return false
}

// cloudTable is the merged longest-prefix-match table of all provider
// files, flattened: provider prefixes nest (they never overlap partly), so
// the innermost prefix over each address can be worked out once, giving
// sorted disjoint intervals searched like a range CSV. Loaded from a cache
// (cloud_table_cache.go), spans points into the mapped file, which stays mapped
// while t is reachable.
type cloudTable struct {
	spans   []cachefile.Range // val indexes entries
	entries []provider.Range  // distinct answers; prefix unset
	sources []cloudSource
}

// cloudSource is one provider file, for the run summary.
type cloudSource struct {
	source, provider string
	ranges           int
}

func newCloudTable(files []provider.File) *cloudTable {
	t := &cloudTable{}
	// Deterministic order: files sorted by source, so ties keep the same
	// winner whatever the directory order.
	files = slices.Clone(files)
	slices.SortStableFunc(files, func(a, b provider.File) int { return strings.Compare(a.Source, b.Source) })
	// One winner per Prefix: the first listed, unless a later one is
	// better.
	n := 0
	for _, f := range files {
		n += len(f.Ranges)
		t.sources = append(t.sources, cloudSource{source: f.Source, provider: f.Provider, ranges: len(f.Ranges)})
	}
	byPrefix := make(map[netip.Prefix]int, n)
	winners := make([]provider.Range, 0, n)
	for _, f := range files {
		for _, r := range f.Ranges {
			if i, ok := byPrefix[r.Prefix]; ok {
				if better(r, winners[i]) {
					winners[i] = r
				}
				continue
			}
			byPrefix[r.Prefix] = len(winners)
			winners = append(winners, r)
		}
	}
	// Distinct answers: a provider file repeats a few hundred (region,
	// service) pairs across tens of thousands of prefixes.
	type answer struct {
		entry            Cloud
		umbrella, global bool
	}
	index := map[answer]uint32{}
	var v4, v6 []span
	for _, r := range winners {
		k := answer{r.Cloud, r.Umbrella, r.Global}
		i, ok := index[k]
		if !ok {
			i = uint32(len(t.entries))
			index[k] = i
			t.entries = append(t.entries, provider.Range{Cloud: r.Cloud, Umbrella: r.Umbrella, Global: r.Global})
		}
		s := span{lo: u128From(r.Prefix.Addr().As16()), hi: u128From(lastAddr(r.Prefix).As16()), val: i}
		if r.Prefix.Addr().Is4() {
			v4 = append(v4, s)
		} else {
			v6 = append(v6, s)
		}
	}
	// IPv4 and IPv6 are separate tables in a trie: an IPv6 prefix that
	// covers the IPv4-mapped block (::/0, ::/64, ::ffff:0:0/96) must not
	// answer for IPv4 addresses, so that block is cut out of the IPv6
	// intervals before the IPv4 ones go in.
	mappedLo := u128{lo: 0xffff << 32}
	mappedHi := u128{lo: 0xffff<<32 | 0xffffffff}
	var spans []span
	for _, s := range flatten(v6) {
		if s.hi.less(mappedLo) || mappedHi.less(s.lo) {
			spans = append(spans, s)
			continue
		}
		if s.lo.less(mappedLo) {
			spans = append(spans, span{s.lo, mappedLo.prev(), s.val})
		}
		if mappedHi.less(s.hi) {
			spans = append(spans, span{mappedHi.next(), s.hi, s.val})
		}
	}
	spans = append(spans, flatten(v4)...)
	slices.SortFunc(spans, func(a, b span) int { return a.lo.cmp(b.lo) })
	t.spans = make([]cachefile.Range, len(spans))
	for i, s := range spans {
		t.spans[i] = cachefile.Range{Lo: s.lo.bytes(), Hi: s.hi.bytes(), Val: s.val}
	}
	return t
}

// span is an inclusive address interval (IPv4 as IPv4-mapped) and its
// answer, as numbers for the sweep.
type span struct {
	lo, hi u128
	val    uint32
}

// flatten turns nested intervals (any two are disjoint or one holds the
// other; no two equal) into sorted disjoint ones, each address keeping the
// answer of the innermost interval over it. Neighbours with the same answer
// are joined.
func flatten(in []span) []span {
	// Outer before inner: by start, then the longer first.
	slices.SortFunc(in, func(a, b span) int {
		if c := a.lo.cmp(b.lo); c != 0 {
			return c
		}
		return b.hi.cmp(a.hi)
	})
	var out, stack []span
	var pos u128 // first address not yet given out
	end := false // pos went past the all-ones address
	emit := func(lo, hi u128, val uint32) {
		if n := len(out); n > 0 && out[n-1].val == val && out[n-1].hi.next() == lo && !out[n-1].hi.isMax() {
			out[n-1].hi = hi
			return
		}
		out = append(out, span{lo, hi, val})
	}
	// pop closes the innermost open interval: the rest of it is its own.
	pop := func() {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if end || top.hi.less(pos) {
			return
		}
		emit(pos, top.hi, top.val)
		if top.hi.isMax() {
			end = true
			return
		}
		pos = top.hi.next()
	}
	for _, s := range in {
		for len(stack) > 0 && stack[len(stack)-1].hi.less(s.lo) {
			pop()
		}
		if n := len(stack); n > 0 && pos.less(s.lo) {
			emit(pos, s.lo.prev(), stack[n-1].val)
		}
		pos, end = s.lo, false
		stack = append(stack, s)
	}
	for len(stack) > 0 {
		pop()
	}
	return out
}

// u128 is a 16-byte address as a number.
type u128 struct{ hi, lo uint64 }

func u128From(b [16]byte) u128 {
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func (a u128) bytes() [16]byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], a.hi)
	binary.BigEndian.PutUint64(b[8:], a.lo)
	return b
}

func (a u128) less(b u128) bool { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo) }
func (a u128) isMax() bool      { return a.hi == ^uint64(0) && a.lo == ^uint64(0) }

func (a u128) cmp(b u128) int {
	switch {
	case a.less(b):
		return -1
	case b.less(a):
		return 1
	}
	return 0
}

// next returns a+1 (wrapping at the top: callers check isMax first).
func (a u128) next() u128 {
	if a.lo == ^uint64(0) {
		return u128{a.hi + 1, 0}
	}
	return u128{a.hi, a.lo + 1}
}

// prev returns a-1 (a must not be zero).
func (a u128) prev() u128 {
	if a.lo == 0 {
		return u128{a.hi - 1, ^uint64(0)}
	}
	return u128{a.hi, a.lo - 1}
}

func (t *cloudTable) lookup(a netip.Addr) (provider.Range, bool) {
	if t == nil {
		return provider.Range{}, false
	}
	k := a.As16()
	i, ok := cachefile.Search(t.spans, &k)
	runtime.KeepAlive(t) // t.spans may be a mapping that t's cleanup unmaps
	if !ok {
		return provider.Range{}, false
	}
	return t.entries[i], true
}
