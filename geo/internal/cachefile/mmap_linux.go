//go:build linux

package cachefile

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

// Map maps the file at path read-only and shared: its pages come from
// the page cache and count against the process only while touched. The
// caches are replaced by rename, never rewritten in place, so a mapped
// file does not change under its readers. mapped is false when the data
// was read instead.
func Map(path string) (data []byte, mapped bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	if st.Size() <= 0 || st.Size() > 1<<34 {
		return nil, false, fmt.Errorf("map %s: size %d", path, st.Size())
	}
	data, err = syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, false, fmt.Errorf("map %s: %w", path, err)
	}
	return data, true, nil
}

// Unmap releases a mapping made by Map.
func Unmap(data []byte) {
	if len(data) > 0 {
		_ = syscall.Munmap(data)
	}
}

// ReleasePages drops the whole pages of b, part of a mapping, from the
// process: validating a cache reads every page, but lookups need few of
// them. They come back from the page cache when touched again.
func ReleasePages(b []byte) {
	if len(b) == 0 {
		return
	}
	pg := uintptr(os.Getpagesize())
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	first := (start + pg - 1) &^ (pg - 1)
	last := (start + uintptr(len(b))) &^ (pg - 1)
	if last <= first {
		return
	}
	p := unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), first-start)
	_ = syscall.Madvise(unsafe.Slice((*byte)(p), last-first), syscall.MADV_DONTNEED)
}
