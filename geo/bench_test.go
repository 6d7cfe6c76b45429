package geo

import (
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/egresswatch/egresswatch/geo/provider"
)

// benchAddrs returns n public-looking addresses, a quarter of them IPv6.
func benchAddrs(n int) []netip.Addr {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]netip.Addr, 0, n)
	for len(out) < n {
		if len(out)%4 == 3 {
			var b [16]byte
			b[0], b[1] = 0x26, 0x00|byte(r.IntN(16))
			for i := 2; i < 16; i++ {
				b[i] = byte(r.Uint32())
			}
			out = append(out, netip.AddrFrom16(b))
			continue
		}
		v := r.Uint32()
		a := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
		if internalReason(a) == "" {
			out = append(out, a)
		}
	}
	return out
}

func benchDB(b *testing.B) *DB {
	dir := shared(b)
	db, err := Open(Options{GeoIP: []string{mmTest(dir, "GeoIP2-Country-Test.mmdb"), mmTest(dir, "GeoLite2-ASN-Test.mmdb")},
		CloudDir: filepath.Join(dir, "cloud")})
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// BenchmarkLookupCold is DB.Lookup without a cache: trie, MMDB and
// decoding on every call.
func BenchmarkLookupCold(b *testing.B) {
	db := benchDB(b)
	addrs := benchAddrs(1 << 14)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		db.Lookup(addrs[i&(len(addrs)-1)])
		i++
	}
}

// BenchmarkLookupCloudHit is DB.Lookup on an address in a cloud range.
func BenchmarkLookupCloudHit(b *testing.B) {
	db := benchDB(b)
	a := netip.MustParseAddr("3.8.0.1")
	b.ReportAllocs()
	for b.Loop() {
		db.Lookup(a)
	}
}

// BenchmarkCacheHit is Cache.Lookup over a working set that fits.
func BenchmarkCacheHit(b *testing.B) {
	db := benchDB(b)
	addrs := benchAddrs(256)
	c := NewCache(db, 1<<14) // large enough that no set of two overflows: every call hits
	for _, a := range addrs {
		c.Lookup(a)
	}
	if _, misses := c.Stats(); misses != uint64(len(addrs)) {
		b.Fatalf("warm-up: %d misses, want %d", misses, len(addrs))
	}
	for _, a := range addrs {
		c.Lookup(a)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Lookup(addrs[i&255])
		i++
	}
}

// BenchmarkLoadCloud loads all provider files (from the per-file caches)
// and merges them, as a start with a stale merged cache does, and reports
// the heap the merged table keeps.
func BenchmarkLoadCloud(b *testing.B) {
	dir := filepath.Join(shared(b), "cloud")
	b.ReportAllocs()
	var keep *cloudTable
	var ranges int
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		files, err := provider.ParseDir(dir)
		if err != nil {
			b.Fatal(err)
		}
		keep = newCloudTable(files)
		files = nil
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB-table")
		ranges = len(keep.spans)
	}
	b.ReportMetric(float64(ranges), "intervals")
	runtime.KeepAlive(keep)
}

// BenchmarkLoadRealData loads the databases of `make geodata` (skipped when
// ../data/geo has none) and reports load time and retained heap.
func BenchmarkLoadRealData(b *testing.B) {
	opts := Discover([]string{filepath.Join("..", "data", "geo")})
	if len(opts.GeoIP) == 0 {
		b.Skip("no databases in ../data/geo: run make geodata")
	}
	var keep *DB
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		db, err := Open(opts)
		if err != nil {
			b.Fatal(err)
		}
		keep = db
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB-retained")
	}
	runtime.KeepAlive(keep)
}

// BenchmarkLookupRealData is DB.Lookup without a cache on the make geodata
// databases (country MMDB, ASN CSVs, cloud files).
func BenchmarkLookupRealData(b *testing.B) {
	opts := Discover([]string{filepath.Join("..", "data", "geo")})
	if len(opts.GeoIP) == 0 {
		b.Skip("no databases in ../data/geo: run make geodata")
	}
	db, err := Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	addrs := benchAddrs(1 << 14)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		db.Lookup(addrs[i&(len(addrs)-1)])
		i++
	}
}
