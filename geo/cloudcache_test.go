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
