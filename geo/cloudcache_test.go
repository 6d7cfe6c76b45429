package geo

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestCloudCache parses every provider file of the shared folder, then
// reads each back from the cache it wrote: the ranges must be identical.
func TestCloudCache(t *testing.T) {
	dir := "../../shared/geo/cloud"
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) == 0 {
		t.Skip("no ../shared/geo/cloud: skipping the cloud cache round trip")
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	n := 0
	for _, f := range files {
		direct, err := parseCloudFile(f)
		if err != nil {
			continue // SOURCES.md and other non-range files
		}
		if _, err := parseCloudFileCached(f); err != nil {
			t.Fatal(err)
		}
		st, _ := os.Stat(f)
		cached, ok := loadCloudCache(cachePath("cloud", f, st))
		if !ok {
			t.Fatalf("%s: no cache written", f)
		}
		if !reflect.DeepEqual(direct, cached) {
			t.Errorf("%s: cached ranges differ from parsed ones", filepath.Base(f))
		}
		n += len(direct.ranges)
	}
	if n == 0 {
		t.Fatal("no provider file parsed")
	}
	t.Logf("%d ranges round-tripped", n)
}

// TestCacheKeysFollowRegionTables: the cache names of parsed provider
// files and of the merged cloud table change with the built-in region
// tables, whose countries those caches hold.
func TestCacheKeysFollowRegionTables(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	f := filepath.Join(t.TempDir(), "aws-ip-ranges.json")
	if err := os.WriteFile(f, []byte(`{"prefixes":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(f)
	if err != nil {
		t.Fatal(err)
	}
	beforeFile, beforeTable := cachePath("cloud", f, st), cloudTablePath([]string{f})
	awsRegions["xx-test-1"] = "GB"
	defer delete(awsRegions, "xx-test-1")
	if cachePath("cloud", f, st) == beforeFile {
		t.Error("provider file cache name did not change with the region table")
	}
	if cloudTablePath([]string{f}) == beforeTable {
		t.Error("merged table cache name did not change with the region table")
	}
	if cachePath("ranges2", f, st) != cachePath("ranges2", f, st) {
		t.Error("cache names are not stable")
	}
}
