package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/egresswatch/egresswatch/geo"
)

func TestPlacementTime(t *testing.T) {
	dir := t.TempDir()
	cloud := filepath.Join(dir, "cloud")
	os.Mkdir(cloud, 0o755)
	mmdb := filepath.Join(dir, "country.mmdb")
	aws := filepath.Join(cloud, "aws-ip-ranges.json")
	os.WriteFile(mmdb, nil, 0o644)
	os.WriteFile(aws, nil, 0o644)
	old, newer := time.Unix(1700000000, 0), time.Unix(1710000000, 0)
	os.Chtimes(mmdb, old, old)
	os.Chtimes(aws, newer, newer)
	if got := placementTime(geo.Options{GeoIP: []string{mmdb}, CloudDir: cloud}); !got.Equal(newer) {
		t.Errorf("placementTime = %v, want the newest file's %v", got, newer)
	}
	if got := placementTime(geo.Options{}); !got.IsZero() {
		t.Errorf("no data: placementTime = %v, want zero", got)
	}
}
