package geo

import (
	"bufio"
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"testing"
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
	if second := answers(); !equalAnswers(first, second) {
		t.Errorf("from the cache: %v; parsed: %v", second, first)
	}
	if err := os.WriteFile(cache, []byte("egresswatch-ranges-v1\ngarbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if third := answers(); !equalAnswers(first, third) {
		t.Errorf("after a damaged cache: %v; want %v", third, first)
	}
}

func equalAnswers(a, b []geoAnswer) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzCacheDecoders feeds arbitrary bytes to both cache decoders: a damaged
// cache file must give an error, never a panic or a huge allocation.
func FuzzCacheDecoders(f *testing.F) {
	f.Add([]byte(rangeCacheMagic))
	f.Add([]byte(cloudCacheMagic))
	f.Add([]byte(rangeCacheMagic + "\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte(cloudCacheMagic + "\x03aws\x0aaws:x.json\x01\x00\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var db rangeDB
		_ = db.decodeCache(bufio.NewReader(bytes.NewReader(data)), int64(len(data)))
		_, _ = decodeCloudCache(bufio.NewReader(bytes.NewReader(data)), int64(len(data)))
	})
}

// TestCacheHugeCounts: a damaged header that claims millions of entries in
// a tiny file fails without allocating for the claim.
func TestCacheHugeCounts(t *testing.T) {
	rangeHdr := []byte(rangeCacheMagic + "\x00\xff\xff\xff\x00\xff\xff\xff\x03\x00\x00\x00\x00")
	cloudHdr := []byte(cloudCacheMagic + "\x00\x00\xff\xff\xff\x07")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var db rangeDB
	if err := db.decodeCache(bufio.NewReader(bytes.NewReader(rangeHdr)), int64(len(rangeHdr))); err == nil {
		t.Error("range cache with absurd counts decoded")
	}
	if _, err := decodeCloudCache(bufio.NewReader(bytes.NewReader(cloudHdr)), int64(len(cloudHdr))); err == nil {
		t.Error("cloud cache with absurd counts decoded")
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("decoding two tiny damaged caches allocated %d MiB", got>>20)
	}
}
