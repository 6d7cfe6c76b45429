package geo

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/gaissmai/bart"

	"github.com/egresswatch/egresswatch/geo/internal/cachefile"
)

// rangeDB is an ip-location-db range CSV loaded into a prefix trie. Two
// layouts exist, told apart by their column count: 3 columns
// (start,end,country_code) and 4 columns (start,end,asn,organisation).
// Ranges are inclusive; they are split into CIDR prefixes on load.
type rangeDB struct {
	path    string
	source  string
	country bool // 3-column layout
	// The files list disjoint ranges, so they are kept as one sorted array
	// searched by binary search: no pointers for the garbage collector to
	// scan, and no splitting into prefixes on load (the ASN files have half
	// a million rows). Rows that overlap an earlier one go to trie. Loaded
	// from a cache, ranges and vals point into the mapped file (see
	// geoip_csv_cache.go), which stays mapped while db is reachable.
	ranges    []cachefile.Range
	overrides int
	extras    []cachefile.Range // the overlapping rows, while loading (for the cache)
	trie      bart.Table[uint32]
	vals      []valRec
	strs      string // every organisation and country, one string
}

// valRec is one distinct answer of a range file: the ASN, and in strs the
// organisation (off..orgEnd) followed by the country (orgEnd..end). Fixed
// records with no pointers, so a cache can hold them as they are used.
type valRec struct{ asn, off, orgEnd, end uint32 }

const valRecSize = 16 // bytes of a valRec: four uint32s

// errNotRangeCSV is returned for CSV files that are not ip-location-db
// range files (for example the -num variants, whose ends are integers).
var errNotRangeCSV = errors.New("not an ip-location-db range CSV (start_ip,end_ip,...)")

func openRangeCSV(path string) (*rangeDB, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("range csv: %w", err)
	}
	defer f.Close()
	db := &rangeDB{path: path,
		source: "ip-location-db:" + strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))}
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("range csv: %w", err)
	}
	cache := rangeCachePath(path, st)
	if cache != "" && db.loadRangeCache(cache) {
		return db, nil
	}
	db.ranges = make([]cachefile.Range, 0, st.Size()/40) // rows are 40-60 bytes
	if err := db.read(f); err != nil {
		return nil, fmt.Errorf("range csv %s: %w", path, err)
	}
	db.writeRangeCache(cache, db.extras)
	db.extras = nil
	return db, nil
}

func (db *rangeDB) read(r io.Reader) error {
	cr := csv.NewReader(bufio.NewReaderSize(r, 1<<16))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	index := map[geoAnswer]uint32{} // interns repeated (asn, org) pairs
	byASN := map[uint32]uint32{}
	var answers []geoAnswer
	var prefixes []netip.Prefix
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if row == 1 {
			switch len(rec) {
			case 3:
				db.country = true
			case 4:
			default:
				return fmt.Errorf("row 1: %d columns: %w", len(rec), errNotRangeCSV)
			}
		}
		want := 4
		if db.country {
			want = 3
		}
		if len(rec) != want {
			return fmt.Errorf("row %d: %d columns, want %d", row, len(rec), want)
		}
		start, err1 := netip.ParseAddr(rec[0])
		end, err2 := netip.ParseAddr(rec[1])
		if err1 != nil || err2 != nil || start.Is4() != end.Is4() || end.Less(start) || start.Zone() != "" || end.Zone() != "" {
			if row == 1 {
				return errNotRangeCSV
			}
			return fmt.Errorf("row %d: bad range %q-%q", row, rec[0], rec[1])
		}
		var v geoAnswer
		if db.country {
			v.country = strings.ToUpper(rec[2])
		} else {
			n, err := strconv.ParseUint(rec[2], 10, 32)
			if err != nil {
				return fmt.Errorf("row %d: asn %q: %w", row, rec[2], err)
			}
			v.asn, v.org = uint32(n), rec[3]
		}
		// Rows of one ASN repeat its organisation: look the ASN up first,
		// which spares hashing the name on every row.
		i, ok := byASN[v.asn]
		if !ok || db.country || answers[i].org != v.org {
			i, ok = index[v]
		}
		if !ok {
			v.org = strings.Clone(v.org) // rec is reused
			v.country = strings.Clone(v.country)
			i = uint32(len(answers))
			index[v] = i
			if !db.country {
				byASN[v.asn] = i
			}
			answers = append(answers, v)
		}
		db.ranges = append(db.ranges, cachefile.Range{Lo: start.As16(), Hi: end.As16(), Val: i})
	}
	db.setVals(answers)
	slices.SortFunc(db.ranges, func(a, b cachefile.Range) int { return cachefile.Cmp16(&a.Lo, &b.Lo) })
	// The published files are disjoint but for the odd row (asn-ipv4 has
	// one range starting inside the one before it). Such a range goes to a
	// small trie that is asked first, so inside it the later row wins, as
	// the more specific entry.
	out := db.ranges[:0]
	for _, r := range db.ranges {
		if n := len(out); n > 0 && cachefile.Cmp16(&r.Lo, &out[n-1].Hi) <= 0 {
			db.addOverride(r, &prefixes)
			db.extras = append(db.extras, r)
			continue
		}
		out = append(out, r)
	}
	db.ranges = slices.Clip(out)
	return nil
}

// setVals lays the answers out as valRecs over one string.
func (db *rangeDB) setVals(answers []geoAnswer) {
	n := 0
	for _, a := range answers {
		n += len(a.org) + len(a.country)
	}
	var sb strings.Builder
	sb.Grow(n)
	db.vals = make([]valRec, len(answers))
	for i, a := range answers {
		off := sb.Len()
		sb.WriteString(a.org)
		orgEnd := sb.Len()
		sb.WriteString(a.country)
		db.vals[i] = valRec{asn: a.asn, off: uint32(off), orgEnd: uint32(orgEnd), end: uint32(sb.Len())}
	}
	db.strs = sb.String()
}

// addOverride puts a range that overlaps an earlier one into the trie.
func (db *rangeDB) addOverride(r cachefile.Range, prefixes *[]netip.Prefix) {
	lo, hi := netip.AddrFrom16(r.Lo), netip.AddrFrom16(r.Hi)
	if lo.Is4In6() {
		lo, hi = lo.Unmap(), hi.Unmap()
	}
	*prefixes = rangePrefixes(lo, hi, (*prefixes)[:0])
	for _, p := range *prefixes {
		db.trie.Insert(p, r.Val)
	}
	db.overrides++
}

// find returns the answer index of the range holding a.
func (db *rangeDB) find(a netip.Addr) (uint32, bool) {
	if db.overrides > 0 {
		if v, ok := db.trie.Lookup(a); ok {
			return v, true
		}
	}
	k := a.As16()
	v, ok := cachefile.Search(db.ranges, &k)
	// db.ranges may be a mapping that db's cleanup unmaps: db must stay
	// reachable until the search is done.
	runtime.KeepAlive(db)
	return v, ok
}

func (db *rangeDB) lookup(a netip.Addr, r *geoAnswer) {
	if i, ok := db.find(a); ok {
		v := db.vals[i]
		if db.country {
			r.country = db.strs[v.orgEnd:v.end]
		} else {
			r.asn, r.org = v.asn, db.strs[v.off:v.orgEnd]
		}
		runtime.KeepAlive(db)
	}
}

// rangePrefixes appends the CIDR prefixes that exactly cover the inclusive
// range start..end (same family, start <= end).
func rangePrefixes(start, end netip.Addr, dst []netip.Prefix) []netip.Prefix {
	bitLen := start.BitLen()
	for {
		// The block at start can be at most as large as start's alignment.
		l := bitLen - trailingZeros(start)
		for ; l < bitLen; l++ {
			if !end.Less(lastAddr(netip.PrefixFrom(start, l))) {
				break // the whole block fits in the range
			}
		}
		p := netip.PrefixFrom(start, l)
		dst = append(dst, p)
		last := lastAddr(p)
		if last == end {
			return dst
		}
		start = last.Next()
		if !start.IsValid() {
			return dst
		}
	}
}

// trailingZeros counts the zero bits at the end of a's address.
func trailingZeros(a netip.Addr) int {
	if a.Is4() {
		b := a.As4()
		n := bits.TrailingZeros32(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
		return n
	}
	b := a.As16()
	var lo, hi uint64
	for i := 0; i < 8; i++ {
		hi = hi<<8 | uint64(b[i])
		lo = lo<<8 | uint64(b[i+8])
	}
	if lo != 0 {
		return bits.TrailingZeros64(lo)
	}
	return 64 + bits.TrailingZeros64(hi) // 128 for ::
}

// lastAddr returns the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr()
	if a.Is4() {
		b := a.As4()
		v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		if p.Bits() < 32 {
			v |= 1<<(32-p.Bits()) - 1
		}
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	b := a.As16()
	for i := p.Bits(); i < 128; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	return netip.AddrFrom16(b)
}
