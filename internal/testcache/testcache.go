// Package testcache gives a test binary a cache directory of its own.
// The placement caches that geo writes are keyed by the data file's path;
// tests open fixtures in fresh temporary directories, so their caches
// would otherwise pile up in the user's cache with every run.
package testcache

import "os"

// Main runs the tests with XDG_CACHE_HOME set to a new directory that
// every user may write (some tests drop privileges), removes it, and
// exits with the tests' status. Call it from TestMain with its
// *testing.M (or anything that runs the tests and returns their status).
func Main(m interface{ Run() int }) {
	dir, err := os.MkdirTemp("", "egresswatch-test-cache-")
	if err == nil {
		os.Chmod(dir, 0o777)
		os.Setenv("XDG_CACHE_HOME", dir)
	}
	code := m.Run()
	if err == nil {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}
