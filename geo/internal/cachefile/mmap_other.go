//go:build !linux

package cachefile

import "os"

// Map reads the file: only Linux builds map the caches.
func Map(path string) (data []byte, mapped bool, err error) {
	data, err = os.ReadFile(path)
	return data, false, err
}

func Unmap([]byte) {}

func ReleasePages([]byte) {}
