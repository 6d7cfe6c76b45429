package geo

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/gaissmai/bart"

	"github.com/egresswatch/egresswatch/geo/internal/cachefile"
	"github.com/egresswatch/egresswatch/geo/provider"
)

// trieTable is the cloud table as it was built before the intervals: a
// longest-prefix-match trie, the first file (by source) listing a prefix
// winning unless a later one is better. The interval table must answer
// exactly as it does.
func trieTable(files []provider.File) (*bart.Table[uint32], []provider.Range) {
	files = slices.Clone(files)
	slices.SortStableFunc(files, func(a, b provider.File) int { return strings.Compare(a.Source, b.Source) })
	t := &bart.Table[uint32]{}
	var entries []provider.Range
	for _, f := range files {
		for _, r := range f.Ranges {
			if i, ok := t.Get(r.Prefix); ok {
				if better(r, entries[i]) {
					entries[i] = r
				}
				continue
			}
			t.Insert(r.Prefix, uint32(len(entries)))
			entries = append(entries, r)
		}
	}
	return t, entries
}

// cloudDirs returns the provider file folders there are: the shared
// snapshot and the make geodata one.
func cloudDirs(t *testing.T) []string {
	var dirs []string
	for _, d := range []string{"../../shared/geo/cloud", "../data/geo/cloud"} {
		if ps, _ := provider.Paths(d); len(ps) > 0 {
			dirs = append(dirs, d)
		}
	}
	if len(dirs) == 0 {
		t.Skip("no provider files in ../../shared/geo/cloud or ../data/geo/cloud")
	}
	return dirs
}

// probeAddrs returns, for every prefix, its first and last address and one
// inside, then n random IPv4 and n random IPv6 addresses (half of the IPv6
// ones near a listed prefix, where the data is).
func probeAddrs(files []provider.File, n int) []netip.Addr {
	r := rand.New(rand.NewPCG(7, 8))
	var out, v6 []netip.Addr
	for _, f := range files {
		for _, c := range f.Ranges {
			first, last := c.Prefix.Addr(), lastAddr(c.Prefix)
			out = append(out, first, last, first.Next(), last.Next(), first.Prev())
			if first.Is6() {
				v6 = append(v6, first)
			}
		}
	}
	for range n {
		v := r.Uint32()
		out = append(out, netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}))
		var b [16]byte
		if len(v6) > 0 && r.IntN(2) == 0 {
			b = v6[r.IntN(len(v6))].As16()
			binary.BigEndian.PutUint64(b[8:], r.Uint64())
			b[r.IntN(8)] ^= byte(r.Uint32())
		} else {
			binary.BigEndian.PutUint64(b[:8], r.Uint64())
			binary.BigEndian.PutUint64(b[8:], r.Uint64())
		}
		out = append(out, netip.AddrFrom16(b))
	}
	var keep []netip.Addr
	for _, a := range out {
		if a.IsValid() {
			keep = append(keep, a.Unmap())
		}
	}
	return keep
}

// TestCloudIntervalsMatchTrie compares the interval table with the trie on
// the real provider files: every prefix's edges, an address inside, and
// 100 000 random addresses of each family.
func TestCloudIntervalsMatchTrie(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	for _, dir := range cloudDirs(t) {
		files, err := provider.ParseDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		trie, entries := trieTable(files)
		table := newCloudTable(files)
		addrs := probeAddrs(files, 100000)
		hits, diffs := 0, 0
		for _, a := range addrs {
			i, wantOK := trie.Lookup(a)
			got, ok := table.lookup(a)
			var want provider.Range
			if wantOK {
				want = entries[i]
				want.Prefix = netip.Prefix{}
				hits++
			}
			if ok != wantOK || got != want {
				if diffs++; diffs <= 5 {
					t.Errorf("%s %s: intervals %v %+v; trie %v %+v", dir, a, ok, got, wantOK, want)
				}
			}
		}
		if diffs > 0 {
			t.Errorf("%s: %d of %d answers differ", dir, diffs, len(addrs))
		}
		if hits < len(addrs)/4 {
			t.Errorf("%s: only %d of %d probes in a cloud range: the probes miss the data", dir, hits, len(addrs))
		}
		t.Logf("%s: %d probes (%d in a range), %d prefixes -> %d intervals, %d distinct answers",
			dir, len(addrs), hits, trie.Size(), len(table.spans), len(table.entries))
	}
}

// TestFlatten covers the corners of the sweep: nesting several deep, the
// all-ones upper bound, an inner prefix at the very start or end of its
// outer one, and an IPv6 prefix over the IPv4-mapped block, which must not
// answer IPv4 addresses.
func TestFlatten(t *testing.T) {
	mk := func(entries ...string) provider.File {
		cf := provider.File{Provider: "geofeed", Source: "geofeed:x.csv"}
		for i, p := range entries {
			cf.Ranges = append(cf.Ranges, provider.Range{Prefix: netip.MustParsePrefix(p),
				Cloud: Cloud{Provider: "geofeed", Region: p, Country: "C" + string(rune('A'+i))}})
		}
		return cf
	}
	files := []provider.File{mk("0.0.0.0/0", "255.255.255.255/32", "0.0.0.0/8", "10.0.0.0/8", "10.0.0.0/16",
		"10.0.0.0/24", "10.255.255.0/24", "10.128.0.0/9", "::/0", "ffff:ffff::/32",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "2001:db8::/32", "::ffff:0:0/96")}
	table := newCloudTable(files)
	trie, entries := trieTable(files)
	for _, s := range []string{"0.0.0.0", "0.255.255.255", "1.0.0.0", "9.255.255.255", "10.0.0.0", "10.0.0.255",
		"10.0.1.0", "10.127.255.255", "10.128.0.0", "10.255.254.255", "10.255.255.0", "10.255.255.255",
		"11.0.0.0", "255.255.255.254", "255.255.255.255", "::", "::fffe:ffff:ffff", "::1:0:0:0",
		"2001:db8::", "2001:db9::", "ffff:ffff::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fffe::"} {
		a := netip.MustParseAddr(s)
		got, ok := table.lookup(a)
		i, wantOK := trie.Lookup(a)
		if !ok || !wantOK || got.Cloud != entries[i].Cloud {
			t.Errorf("%s: intervals %v %s; trie %v %s", s, ok, got.Cloud.Region, wantOK, entries[i].Cloud.Region)
		}
	}
	for i := 1; i < len(table.spans); i++ {
		if cachefile.Cmp16(&table.spans[i].Lo, &table.spans[i-1].Hi) <= 0 {
			t.Fatalf("spans %d and %d overlap", i-1, i)
		}
	}
}

// TestCloudTableCache opens the provider folders twice: the second time
// from the merged cache, which must be mapped, answer as the freshly built
// table does and keep the summary.
func TestCloudTableCache(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	for _, dir := range cloudDirs(t) {
		files, err := provider.ParseDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		built := newCloudTable(files)
		first, err := openCloudTable(dir)
		if err != nil {
			t.Fatal(err)
		}
		paths, _ := provider.Paths(dir)
		cache := cloudTablePath(paths, provider.WriteRegionTables)
		if _, err := os.Stat(cache); err != nil {
			t.Fatalf("no merged cache written: %v", err)
		}
		second, err := openCloudTable(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, tab := range []*cloudTable{first, second} {
			if !reflect.DeepEqual(tab.entries, built.entries) || !reflect.DeepEqual(tab.sources, built.sources) {
				t.Fatalf("%s: entries or sources differ from the built table", dir)
			}
			if !slices.Equal(tab.spans, built.spans) {
				t.Fatalf("%s: intervals differ from the built table", dir)
			}
		}
		if runtime.GOOS == "linux" && cachefile.LittleEndian() && !inMapping(t, &second.spans[0]) {
			t.Errorf("%s: cached intervals were copied, not mapped", dir)
		}
		for _, a := range probeAddrs(files, 20000) {
			g, ok := second.lookup(a)
			w, wok := built.lookup(a)
			if g != w || ok != wok {
				t.Fatalf("%s: cached %+v, built %+v", a, g, w)
			}
		}
		var n int
		for _, s := range second.sources {
			n += s.ranges
			if !strings.HasPrefix(s.source, s.provider+":") {
				t.Errorf("source %q of provider %q", s.source, s.provider)
			}
		}
		if want := countRanges(files); n != want {
			t.Errorf("%s: summary counts %d ranges, files have %d", dir, n, want)
		}
	}
}

func countRanges(files []provider.File) int {
	n := 0
	for _, f := range files {
		n += len(f.Ranges)
	}
	return n
}

// inMapping reports whether p lies in a file mapping of the cache folder.
func inMapping(t *testing.T, p *cachefile.Range) bool {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skip("no /proc/self/maps")
	}
	addr := uint64(uintptr(unsafe.Pointer(p)))
	for _, line := range strings.Split(string(maps), "\n") {
		var lo, hi uint64
		var rest string
		if _, err := fmt.Sscanf(line, "%x-%x %s", &lo, &hi, &rest); err != nil {
			continue
		}
		if addr >= lo && addr < hi {
			return strings.Contains(line, "egresswatch")
		}
	}
	return false
}

// cacheMappings counts the mappings of egresswatch cache files.
func cacheMappings(t *testing.T) int {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skip("no /proc/self/maps")
	}
	return bytes.Count(maps, []byte("/egresswatch/"))
}

// TestRangeCacheRealData loads the make geodata ASN files twice (parsed,
// then from the cache) and compares the answers at every range's edges and
// at random addresses.
func TestRangeCacheRealData(t *testing.T) {
	paths, _ := filepath.Glob("../data/geo/*.csv")
	paths = append(paths, fixture("asn-ranges.csv"), fixture("country-ranges.csv"))
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	r := rand.New(rand.NewPCG(3, 4))
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		parsed, err := openRangeCSV(p)
		if err != nil {
			t.Fatal(err)
		}
		cached, err := openRangeCSV(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(parsed.ranges) > 0 && cachefile.LittleEndian() && runtime.GOOS == "linux" && !inMapping(t, &cached.ranges[0]) {
			t.Errorf("%s: cached ranges were copied, not mapped", p)
		}
		var addrs []netip.Addr
		for _, x := range parsed.ranges {
			lo, hi := netip.AddrFrom16(x.Lo).Unmap(), netip.AddrFrom16(x.Hi).Unmap()
			addrs = append(addrs, lo, hi, lo.Prev(), hi.Next())
		}
		for range 50000 {
			var b [16]byte
			binary.BigEndian.PutUint64(b[:8], r.Uint64())
			binary.BigEndian.PutUint64(b[8:], r.Uint64())
			v := r.Uint32()
			addrs = append(addrs, netip.AddrFrom16(b), netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}))
		}
		found := 0
		for _, a := range addrs {
			if !a.IsValid() {
				continue
			}
			var w, g geoAnswer
			parsed.lookup(a, &w)
			cached.lookup(a, &g)
			if w != g {
				t.Fatalf("%s %s: cached %+v, parsed %+v", p, a, g, w)
			}
			if w != (geoAnswer{}) {
				found++
			}
		}
		if found == 0 {
			t.Errorf("%s: no probe found an answer", p)
		}
		t.Logf("%s: %d ranges, %d overrides, %d probes agree (%d answered)", filepath.Base(p), len(parsed.ranges), parsed.overrides, len(addrs), found)
	}
}

// TestDamagedCaches: a cache that is truncated, has a flipped byte, claims
// absurd sizes, or holds unsorted or out-of-range records is rejected
// (then the source is parsed again), never trusted, and never panics.
func TestDamagedCaches(t *testing.T) {
	seeds := seedCaches(t)
	rangeCache, tableCache := seeds[0], seeds[2]
	decode := func(b []byte) (error, error) {
		var db rangeDB
		_, e1 := db.decodeCache(b, nil)
		_, _, e2 := decodeCloudTable(b, nil)
		return e1, e2
	}
	for _, good := range [][]byte{rangeCache, seeds[1], tableCache} {
		e1, e2 := decode(good)
		if e1 != nil && e2 != nil {
			t.Fatalf("a good cache is rejected: %v / %v", e1, e2)
		}
		for n := range len(good) {
			if e1, e2 := decode(good[:n]); e1 == nil || e2 == nil {
				t.Fatalf("truncated to %d of %d bytes: accepted", n, len(good))
			}
		}
		for i := range len(good) {
			for _, bit := range []byte{1, 0x80} {
				b := bytes.Clone(good)
				b[i] ^= bit
				if e1, e2 := decode(b); e1 == nil || e2 == nil {
					t.Fatalf("bit %#x flipped at byte %d of %d: accepted", bit, i, len(good))
				}
			}
		}
	}
	// Damage under a valid checksum: only the structural checks can tell.
	secStart := func(b []byte, nsec, sec int) int {
		off := cachefile.MagicLen + 8 + 4*nsec
		for i := range sec {
			off += (int(binary.LittleEndian.Uint32(b[cachefile.MagicLen+8+4*i:])) + 3) &^ 3 // padded to 4 bytes
		}
		return off
	}
	forged := func(base []byte, nsec int, edit func(b []byte)) []byte {
		b := bytes.Clone(base)
		edit(b)
		cachefile.Seal(b)
		return b
	}
	ranges := secStart(rangeCache, rangeSections, secRanges)
	vals := secStart(rangeCache, rangeSections, secVals)
	spans := secStart(tableCache, cloudSections, secCloudSpans)
	for _, tt := range []struct {
		name  string
		cache []byte
	}{
		{"unsorted ranges", forged(rangeCache, rangeSections, func(b []byte) {
			var r0 [36]byte
			copy(r0[:], b[ranges:])
			copy(b[ranges:ranges+36], b[ranges+36:ranges+72])
			copy(b[ranges+36:], r0[:])
		})},
		{"range ends before it starts", forged(rangeCache, rangeSections, func(b []byte) { b[ranges+14] = 0xff })},
		{"value index out of range", forged(rangeCache, rangeSections, func(b []byte) { b[ranges+35] = 0x7f })},
		{"string past the end", forged(rangeCache, rangeSections, func(b []byte) { b[vals+14] = 0x7f })},
		{"absurd section size", forged(rangeCache, rangeSections, func(b []byte) { b[cachefile.MagicLen+8+4*secRanges+3] = 0x40 })},
		{"wrong section count", forged(rangeCache, rangeSections, func(b []byte) { b[cachefile.MagicLen+4] = 9 })},
		{"unknown flags", forged(rangeCache, rangeSections, func(b []byte) { b[secStart(b, rangeSections, secMeta)] = 7 })},
		{"unsorted spans", forged(tableCache, cloudSections, func(b []byte) {
			var r0 [36]byte
			copy(r0[:], b[spans:])
			copy(b[spans:spans+36], b[spans+36:spans+72])
			copy(b[spans+36:], r0[:])
		})},
		{"span entry out of range", forged(tableCache, cloudSections, func(b []byte) { b[spans+35] = 0x7f })},
		{"entry string past the end", forged(tableCache, cloudSections, func(b []byte) {
			b[secStart(b, cloudSections, secCloudEntries)+7] = 0x7f
		})},
	} {
		if e1, e2 := decode(tt.cache); e1 == nil || e2 == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}

	// Through the loaders: a damaged cache file is parsed again and
	// rewritten whole.
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	csv := filepath.Join(dir, "asn.csv")
	if err := os.WriteFile(csv, []byte("1.0.0.0,1.0.0.255,13335,Cloudflare\n1.0.4.0,1.0.7.255,38803,Wirefree\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := openRangeCSV(csv); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(csv)
	cache := rangeCachePath(csv, st)
	good, err := os.ReadFile(cache)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(good)
	bad[len(bad)-5] ^= 0xff
	if err := os.WriteFile(cache, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := openRangeCSV(csv)
	if err != nil {
		t.Fatal(err)
	}
	var r geoAnswer
	db.lookup(netip.MustParseAddr("1.0.5.1"), &r)
	if r.asn != 38803 {
		t.Errorf("after a damaged cache: %+v, want AS38803", r)
	}
	if again, _ := os.ReadFile(cache); !bytes.Equal(again, good) {
		t.Error("the damaged cache was not rewritten")
	}
}

// TestMappingsReleased reloads a DB many times: the old generations'
// mappings must be released once unreachable, not pile up.
func TestMappingsReleased(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("caches are mapped on Linux only")
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	cloud := filepath.Join(dir, "cloud")
	if err := os.Mkdir(cloud, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cloud, "cloudflare-ips-v4.txt"), []byte("104.16.0.0/13\n172.64.0.0/13\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := Options{GeoIP: []string{fixture("asn-ranges.csv"), fixture("country-ranges.csv"), fixture("iplocationdb-country.mmdb")}, CloudDir: cloud}
	db, err := Open(opts) // writes the caches
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Reload(); err != nil { // maps them
		t.Fatal(err)
	}
	base := cacheMappings(t)
	if base == 0 {
		t.Fatal("the reloaded caches are not mapped")
	}
	for range 30 {
		if err := db.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	if p := db.Lookup(netip.MustParseAddr("104.16.0.1")); p.Cloud.Provider != provider.Cloudflare {
		t.Fatalf("after reloads: %+v", p)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		n := cacheMappings(t)
		if n <= 2*base {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d cache mappings after 30 reloads, %d for one generation", n, base)
		}
		time.Sleep(10 * time.Millisecond)
	}
	runtime.KeepAlive(db)
}

// TestSearchAllocs: the range and interval searches do not allocate.
func TestSearchAllocs(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	db, err := openRangeCSV(fixture("asn-ranges.csv"))
	if err != nil {
		t.Fatal(err)
	}
	files := []provider.File{{Provider: "cloudflare", Source: "cloudflare:x.txt",
		Ranges: []provider.Range{{Prefix: netip.MustParsePrefix("104.16.0.0/13"), Global: true}}}}
	table := newCloudTable(files)
	a, b := netip.MustParseAddr("81.2.69.160"), netip.MustParseAddr("104.16.0.1")
	if n := testing.AllocsPerRun(1000, func() {
		var r geoAnswer
		db.lookup(a, &r)
		table.lookup(b)
	}); n != 0 {
		t.Errorf("%v allocations per search, want 0", n)
	}
}

// BenchmarkCloudTableLookup is the interval search alone on the shared
// provider files.
func BenchmarkCloudTableLookup(b *testing.B) {
	files, err := provider.ParseDir(filepath.Join(shared(b), "cloud"))
	if err != nil {
		b.Fatal(err)
	}
	table := newCloudTable(files)
	addrs := probeAddrs(files, 1<<14)[:1<<14]
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		table.lookup(addrs[i&(1<<14-1)])
		i++
	}
}

// BenchmarkCloudTrieLookup is the same search in the trie it replaced.
func BenchmarkCloudTrieLookup(b *testing.B) {
	files, err := provider.ParseDir(filepath.Join(shared(b), "cloud"))
	if err != nil {
		b.Fatal(err)
	}
	trie, _ := trieTable(files)
	addrs := probeAddrs(files, 1<<14)[:1<<14]
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		trie.Lookup(addrs[i&(1<<14-1)])
		i++
	}
}

// TestMMDBCache opens MaxMind DB files twice: the second time the cached
// copy is mapped, and must answer as the file read into memory does; a
// damaged copy is ignored and written again.
func TestMMDBCache(t *testing.T) {
	paths, _ := filepath.Glob("../data/geo/*.mmdb")
	if dir := "../../shared/geo/maxmind-test"; true {
		m, _ := filepath.Glob(filepath.Join(dir, "*", "GeoIP2-Country-Test.mmdb"))
		m2, _ := filepath.Glob(filepath.Join(dir, "*", "GeoLite2-ASN-Test.mmdb"))
		paths = append(append(paths, m...), m2...)
	}
	paths = append(paths, fixture("iplocationdb-country.mmdb"), fixture("dbip-country-lite.mmdb"))
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	addrs := benchAddrs(20000)
	n := 0
	defer func() {
		if n < 4 {
			t.Errorf("%d databases compared, want at least the 4 fixtures and test databases", n)
		}
	}()
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		read, err := openMMDB(p)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := os.Stat(p)
		cache := cachefile.PathFor("mmdb", p, st, nil)
		good, err := os.ReadFile(cache)
		if err != nil {
			t.Fatalf("%s: no cached copy: %v", p, err)
		}
		compare := func(what string) {
			t.Helper()
			mapped, err := openMMDB(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range append(addrs, netip.MustParseAddr("81.2.69.160"), netip.MustParseAddr("2a02:d180::1")) {
				var w, g geoAnswer
				werr, gerr := read.lookup(a, &w), mapped.lookup(a, &g)
				if w != g || (werr == nil) != (gerr == nil) {
					t.Fatalf("%s %s %s: %+v (%v), read: %+v (%v)", p, what, a, g, gerr, w, werr)
				}
			}
		}
		compare("mapped")
		n++
		bad := bytes.Clone(good)
		bad[len(bad)/2] ^= 0x10
		if err := os.WriteFile(cache, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		compare("after a damaged copy")
		if again, _ := os.ReadFile(cache); !bytes.Equal(again, good) {
			t.Errorf("%s: damaged copy not rewritten", p)
		}
	}
}
