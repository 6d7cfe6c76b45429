package geo

import (
	"encoding/binary"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/egresswatch/egresswatch/geo/internal/cachefile"
	"github.com/egresswatch/egresswatch/geo/provider"
)

// TestRangeCache loads a range CSV twice: the second load comes from the
// cache the first one wrote, and every lookup must agree; a damaged cache
// is ignored and the CSV parsed again.
func TestRangeCache(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	csv := filepath.Join(dir, "asn.csv")
	data := "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n" +
		"1.0.4.0,1.0.7.255,38803,Wirefreebroadband\n" +
		"1.0.5.0,1.0.5.127,64500,Nested Row\n" + // overlaps the row before it
		"2001:db8::,2001:db8::ffff,64501,Documentation\n"
	if err := os.WriteFile(csv, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	probes := []string{"1.0.0.1", "1.0.4.1", "1.0.5.1", "1.0.5.200", "1.0.8.1", "2001:db8::1", "2001:db9::1"}
	answers := func() []geoAnswer {
		t.Helper()
		db, err := openRangeCSV(csv)
		if err != nil {
			t.Fatal(err)
		}
		var out []geoAnswer
		for _, p := range probes {
			var r geoAnswer
			db.lookup(netip.MustParseAddr(p), &r)
			out = append(out, r)
		}
		return out
	}
	first := answers()
	want := []uint32{13335, 38803, 64500, 38803, 0, 64501, 0}
	for i, a := range first {
		if a.asn != want[i] {
			t.Errorf("%s: AS%d; want AS%d", probes[i], a.asn, want[i])
		}
	}
	st, _ := os.Stat(csv)
	cache := rangeCachePath(csv, st)
	if _, err := os.Stat(cache); err != nil {
		t.Fatalf("no cache written: %v", err)
	}
	if second := answers(); !slices.Equal(first, second) {
		t.Errorf("from the cache: %v; parsed: %v", second, first)
	}
	if err := os.WriteFile(cache, []byte(rangeCacheMagic+"garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if third := answers(); !slices.Equal(first, third) {
		t.Errorf("after a damaged cache: %v; want %v", third, first)
	}
}

// FuzzCacheDecoders feeds arbitrary bytes to the cache decoders: a damaged
// cache file must give an error, never a panic or a huge allocation. The
// checksum of the mapped formats is set right first, or nearly every input
// would stop there; each input is decoded in place and, shifted off the
// records' alignment, by copy, and both must agree.
func FuzzCacheDecoders(f *testing.F) {
	f.Add([]byte(rangeCacheMagic))
	f.Add([]byte(cloudTableMagic))
	for _, b := range seedCaches(f) {
		f.Add(b)
	}
	probes := []netip.Addr{netip.MustParseAddr("1.0.0.1"), netip.MustParseAddr("1.0.5.1"),
		netip.MustParseAddr("3.0.0.1"), netip.MustParseAddr("20.0.0.1"), netip.MustParseAddr("2001:db8::1")}
	f.Fuzz(func(t *testing.T, data []byte) {
		cachefile.Seal(data)
		shifted := make([]byte, len(data)+1)[1:]
		copy(shifted, data)
		var a, b rangeDB
		_, errA := a.decodeCache(data, nil)
		_, errB := b.decodeCache(shifted, nil)
		if (errA == nil) != (errB == nil) {
			t.Fatalf("in place: %v; by copy: %v", errA, errB)
		}
		ta, _, errA := decodeCloudTable(data, nil)
		tb, _, errB := decodeCloudTable(shifted, nil)
		if (errA == nil) != (errB == nil) {
			t.Fatalf("cloud table in place: %v; by copy: %v", errA, errB)
		}
		for _, p := range probes {
			var ra, rb geoAnswer
			a.lookup(p, &ra)
			b.lookup(p, &rb)
			if ra != rb {
				t.Fatalf("%s: %+v in place, %+v by copy", p, ra, rb)
			}
			ca, oka := ta.lookup(p)
			cb, okb := tb.lookup(p)
			if ca != cb || oka != okb {
				t.Fatalf("%s: cloud %+v in place, %+v by copy", p, ca, cb)
			}
		}
	})
}

// seedCaches returns valid caches of both mapped kinds, made from small
// tables.
func seedCaches(t testing.TB) [][]byte {
	db := &rangeDB{}
	csv := "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n1.0.4.0,1.0.7.255,38803,Wirefreebroadband\n" +
		"1.0.5.0,1.0.5.127,64500,Nested Row\n2001:db8::,2001:db8::ffff,64501,Documentation\n"
	if err := db.read(strings.NewReader(csv)); err != nil {
		t.Fatal(err)
	}
	ctry := &rangeDB{}
	if err := ctry.read(strings.NewReader("1.0.0.0,1.0.0.255,au\n::,::ff,zz\n")); err != nil {
		t.Fatal(err)
	}
	cf, err := provider.Parse("ip-ranges.json", []byte(`{"syncToken":"1","prefixes":[
	 {"ip_prefix":"3.0.0.0/16","region":"eu-west-2","service":"AMAZON","network_border_group":"eu-west-2"},
	 {"ip_prefix":"3.0.5.0/24","region":"GLOBAL","service":"CLOUDFRONT","network_border_group":"GLOBAL"}],
	 "ipv6_prefixes":[{"ipv6_prefix":"2001:db8::/32","region":"eu-central-2","service":"EC2","network_border_group":"eu-central-2"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{db.encodeRangeCache(db.extras), ctry.encodeRangeCache(nil), newCloudTable([]provider.File{cf}).encode()}
}

// TestCacheHugeCounts: a damaged header that claims millions of entries in
// a tiny file fails without allocating for the claim.
func TestCacheHugeCounts(t *testing.T) {
	huge := func(magic string, n int) []byte {
		b := make([]byte, cachefile.MagicLen+8+4*n)
		copy(b, magic)
		binary.LittleEndian.PutUint32(b[cachefile.MagicLen+4:], uint32(n))
		for i := range n {
			binary.LittleEndian.PutUint32(b[cachefile.MagicLen+8+4*i:], 0xfffffff0)
		}
		cachefile.Seal(b)
		return b
	}
	rangeHdr, tableHdr := huge(rangeCacheMagic, rangeSections), huge(cloudTableMagic, cloudSections)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var db rangeDB
	if _, err := db.decodeCache(rangeHdr, nil); err == nil {
		t.Error("range cache with absurd counts decoded")
	}
	if _, _, err := decodeCloudTable(tableHdr, nil); err == nil {
		t.Error("cloud table cache with absurd counts decoded")
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("decoding tiny damaged caches allocated %d MiB", got>>20)
	}
}

// TestCacheKeys: the merged cloud table's cache name changes with the
// region tables, whose countries it holds; the names are stable.
func TestCacheKeys(t *testing.T) {
	f := fixture("asn-ranges.csv")
	changed := func(w io.Writer) {
		provider.WriteRegionTables(w)
		io.WriteString(w, "aws\x00xx-test-1\x00GB\n")
	}
	if cloudTablePath([]string{f}, provider.WriteRegionTables) == cloudTablePath([]string{f}, changed) {
		t.Error("merged table cache name did not change with the region tables")
	}
	st, err := os.Stat(f)
	if err != nil {
		t.Fatal(err)
	}
	if rangeCachePath(f, st) != rangeCachePath(f, st) {
		t.Error("cache names are not stable")
	}
}
