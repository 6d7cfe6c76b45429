//go:build !linux

package geo

import "os"

// mapFile reads the file: only Linux builds map the caches.
func mapFile(path string) (data []byte, mapped bool, err error) {
	data, err = os.ReadFile(path)
	return data, false, err
}

func unmapFile([]byte) {}

func releasePages([]byte) {}
