package geo

import (
	"os"
	"path/filepath"
	"sort"
)

// InstallDir is where `make install` puts the placement data, so that an
// installed binary finds it from any working directory.
const InstallDir = "/var/lib/egresswatch/geo"

// DefaultDirs is the data directory search order when no flags are given:
// envDir (the value of $EGRESSWATCH_GEO_DIR, may be ""), ./data/geo,
// InstallDir, then where geoipupdate and distributions put GeoLite2 files.
func DefaultDirs(envDir string) []string {
	var dirs []string
	if envDir != "" {
		dirs = append(dirs, envDir)
	}
	return append(dirs, filepath.Join("data", "geo"), InstallDir, "/usr/share/GeoIP", "/var/lib/GeoIP")
}

// Discover builds Options from the first directory in dirs that holds any
// database (*.mmdb, or an ip-location-db *.csv), and the first that has a
// "cloud" subdirectory. Missing directories are skipped. Files are taken in
// name order.
func Discover(dirs []string) Options {
	var o Options
	for _, d := range dirs {
		if len(o.GeoIP) == 0 {
			var files []string
			for _, pat := range []string{"*.mmdb", "*.csv"} {
				m, _ := filepath.Glob(filepath.Join(d, pat))
				files = append(files, m...)
			}
			sort.Strings(files)
			o.GeoIP = files
		}
		if o.CloudDir == "" {
			if st, err := os.Stat(filepath.Join(d, "cloud")); err == nil && st.IsDir() {
				o.CloudDir = filepath.Join(d, "cloud")
			}
		}
	}
	return o
}
