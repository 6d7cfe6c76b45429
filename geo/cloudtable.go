package geo

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// The merged cloud table is cached whole, so a start with unchanged
// provider files maps the intervals (mapped.go) and decodes only the few
// thousand distinct answers, instead of decoding every file's cache and
// merging 100 000 prefixes. The key covers every provider file's absolute
// path, size and modification time, and the format version; a changed,
// added or removed file misses, and the table is built from the per-file
// caches (cloudcache.go) and stored again.
//
// Sections: strs (every string), entries (13 uint32s each: string refs of
// Provider, Region, Zone, Service, Country, Source as off,end pairs, then
// flags 1=umbrella 2=global), sources (5 uint32s each: refs of source and
// provider, range count), spans (ipRange records indexing entries).

const cloudTableMagic = "egresswatch-cloudtab-v1\n"

const (
	secCloudStrs = iota
	secCloudEntries
	secCloudSources
	secCloudSpans
	cloudSections
)

const (
	entryWords  = 13
	sourceWords = 5
)

// cloudFilePaths lists the provider files of dir (*.json, *.txt, *.csv) in
// name order.
func cloudFilePaths(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cloud ranges: %w", err)
	}
	var paths []string
	for _, e := range ents {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || (ext != ".json" && ext != ".txt" && ext != ".csv") {
			continue
		}
		paths = append(paths, filepath.Join(dir, e.Name()))
	}
	return paths, nil
}

// cloudTablePath returns the cache file of the table merged from paths, or
// "" when a file cannot be looked at or there is no cache directory.
func cloudTablePath(paths []string) string {
	dir, err := os.UserCacheDir()
	if err != nil || len(paths) == 0 {
		return ""
	}
	keys := make([]string, 0, len(paths))
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return ""
		}
		st, err := os.Stat(p)
		if err != nil {
			return ""
		}
		keys = append(keys, fmt.Sprintf("%s\x00%d\x00%d", abs, st.Size(), st.ModTime().UnixNano()))
	}
	slices.Sort(keys)
	h := sha256.New()
	h.Write([]byte(cloudTableMagic))
	writeRegionTables(h)
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{'\n'})
	}
	return filepath.Join(dir, "egresswatch", fmt.Sprintf("cloudtable-%x.bin", h.Sum(nil)[:12]))
}

// openCloudTable returns the merged table of the provider files in dir,
// from the cache when it is fresh.
func openCloudTable(dir string) (*cloudTable, error) {
	paths, err := cloudFilePaths(dir)
	if err != nil {
		return nil, err
	}
	cache := cloudTablePath(paths)
	if cache != "" {
		if t, ok := loadCloudTable(cache); ok {
			return t, nil
		}
	}
	files, err := parseCloudFiles(paths)
	if err != nil {
		return nil, err
	}
	t := newCloudTable(files)
	if cache != "" {
		writeCacheFile(cache, t.encode())
	}
	return t, nil
}

// loadCloudTable maps a cached table; false if there is none or it is
// damaged.
func loadCloudTable(file string) (*cloudTable, bool) {
	data, mapped, err := mapFile(file)
	if err != nil {
		return nil, false
	}
	release := releasePages
	if !mapped {
		release = nil
	}
	t, aliased, err := decodeCloudTable(data, release)
	if mapped {
		if err == nil && aliased {
			runtime.AddCleanup(t, unmapFile, data)
		} else {
			unmapFile(data)
		}
	}
	return t, err == nil
}

// decodeCloudTable reads a cached table. aliased says whether t.spans
// points into data, which must then outlive t; release, if not nil, is
// handed pages that validation read and lookups may not need.
func decodeCloudTable(data []byte, release func([]byte)) (t *cloudTable, aliased bool, err error) {
	secs, v, err := decodeSections(data, cloudTableMagic, cloudSections, release)
	if err != nil {
		return nil, false, err
	}
	strs := string(secs[secCloudStrs])
	str := func(u u32s, rec, field int) (string, error) {
		s, ok := u.ref(rec, field).sub(strs)
		if !ok {
			return "", fmt.Errorf("cloud table cache: record %d: bad string", rec)
		}
		return s, nil
	}
	ents := u32s{secs[secCloudEntries], entryWords}
	srcs := u32s{secs[secCloudSources], sourceWords}
	if len(ents.b)%(4*entryWords) != 0 || len(srcs.b)%(4*sourceWords) != 0 {
		return nil, false, errors.New("cloud table cache: bad record section")
	}
	t = &cloudTable{entries: make([]cloudRange, ents.count())} // bounded by the file's size
	for i := range t.entries {
		var f [6]string
		for k := range f {
			if f[k], err = str(ents, i, 2*k); err != nil {
				return nil, false, err
			}
		}
		flags := ents.at(i, 12)
		if flags > 3 {
			return nil, false, fmt.Errorf("cloud table cache: entry %d: flags %#x", i, flags)
		}
		t.entries[i] = cloudRange{umbrella: flags&1 != 0, global: flags&2 != 0,
			entry: Cloud{Provider: f[0], Region: f[1], Zone: f[2], Service: f[3], Country: f[4], Source: f[5]}}
	}
	t.sources = make([]cloudSource, srcs.count())
	for i := range t.sources {
		s := &t.sources[i]
		if s.source, err = str(srcs, i, 0); err != nil {
			return nil, false, err
		}
		if s.provider, err = str(srcs, i, 2); err != nil {
			return nil, false, err
		}
		s.ranges = int(srcs.at(i, 4))
	}
	spans, aliased, err := rangesFrom(secs[secCloudSpans])
	if err != nil {
		return nil, false, err
	}
	v.after(secs[secCloudSources])
	done := func([]ipRange) {}
	if aliased {
		done = func(part []ipRange) { v.after(rangeBytes(part)) }
	}
	if err := checkRanges(spans, uint32(len(t.entries)), true, done); err != nil {
		return nil, false, err
	}
	if err := v.finish(); err != nil {
		return nil, false, err
	}
	t.spans = spans
	return t, aliased, nil
}

// encode lays t out as a cache file.
func (t *cloudTable) encode() []byte {
	var strs []byte
	refs := map[string][2]uint32{}
	ref := func(b []byte, s string) []byte {
		r, ok := refs[s]
		if !ok {
			r = [2]uint32{uint32(len(strs)), uint32(len(strs) + len(s))}
			strs = append(strs, s...)
			refs[s] = r
		}
		return binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(b, r[0]), r[1])
	}
	ents := make([]byte, 0, len(t.entries)*4*entryWords)
	for _, e := range t.entries {
		c := e.entry
		for _, s := range [6]string{c.Provider, c.Region, c.Zone, c.Service, c.Country, c.Source} {
			ents = ref(ents, s)
		}
		var flags uint32
		if e.umbrella {
			flags |= 1
		}
		if e.global {
			flags |= 2
		}
		ents = binary.LittleEndian.AppendUint32(ents, flags)
	}
	var srcs []byte
	for _, s := range t.sources {
		srcs = ref(ref(srcs, s.source), s.provider)
		srcs = binary.LittleEndian.AppendUint32(srcs, uint32(s.ranges))
	}
	return encodeSections(cloudTableMagic, strs, ents, srcs,
		appendRanges(make([]byte, 0, len(t.spans)*rangeRecSize), t.spans))
}
