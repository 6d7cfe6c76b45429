package provider

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
)

// TestCloudCache parses every provider file of the shared folder, then
// reads each back from the cache it wrote: the ranges must be identical.
func TestCloudCache(t *testing.T) {
	dir := "../../../shared/geo/cloud"
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) == 0 {
		t.Skip("no ../shared/geo/cloud: skipping the cloud cache round trip")
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	n := 0
	for _, f := range files {
		direct, err := ParseFile(f)
		if err != nil {
			continue // SOURCES.md and other non-range files
		}
		if _, err := ParseFileCached(f); err != nil {
			t.Fatal(err)
		}
		st, _ := os.Stat(f)
		cached, ok := loadCloudCache(cachePath(f, st))
		if !ok {
			t.Fatalf("%s: no cache written", f)
		}
		if !reflect.DeepEqual(direct, cached) {
			t.Errorf("%s: cached ranges differ from parsed ones", filepath.Base(f))
		}
		n += len(direct.Ranges)
	}
	if n == 0 {
		t.Fatal("no provider file parsed")
	}
	t.Logf("%d ranges round-tripped", n)
}

// TestCacheKeyFollowsRegionTables: the cache name of a parsed provider
// file changes with the built-in region tables, whose countries it holds.
func TestCacheKeyFollowsRegionTables(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	f := filepath.Join(t.TempDir(), "aws-ip-ranges.json")
	if err := os.WriteFile(f, []byte(`{"prefixes":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(f)
	if err != nil {
		t.Fatal(err)
	}
	before := cachePath(f, st)
	awsRegions["xx-test-1"] = "GB"
	defer delete(awsRegions, "xx-test-1")
	if cachePath(f, st) == before {
		t.Error("provider file cache name did not change with the region table")
	}
}

// FuzzCacheDecoder feeds arbitrary bytes to the cache decoder: a damaged
// cache file must give an error, never a panic or a huge allocation.
func FuzzCacheDecoder(f *testing.F) {
	f.Add([]byte(cloudCacheMagic))
	f.Add([]byte(cloudCacheMagic + "\x03aws\x0aaws:x.json\x01\x00\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = decodeCloudCache(bufio.NewReader(bytes.NewReader(data)), int64(len(data)))
	})
}

// TestCacheHugeCounts: a damaged header that claims millions of entries in
// a tiny file fails without allocating for the claim.
func TestCacheHugeCounts(t *testing.T) {
	hdr := []byte(cloudCacheMagic + "\x00\x00\xff\xff\xff\x07")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := decodeCloudCache(bufio.NewReader(bytes.NewReader(hdr)), int64(len(hdr))); err == nil {
		t.Error("cloud cache with absurd counts decoded")
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("decoding a tiny damaged cache allocated %d MiB", got>>20)
	}
}
