package geo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"

	"github.com/egresswatch/egresswatch/geo/internal/cachefile"
	"github.com/egresswatch/egresswatch/geo/provider"
)

// The merged cloud table is cached whole, so a start with unchanged
// provider files maps the intervals (package cachefile) and decodes only the few
// thousand distinct answers, instead of decoding every file's cache and
// merging 100 000 prefixes. The key covers every provider file's absolute
// path, size and modification time, and the format version; a changed,
// added or removed file misses, and the table is built from the per-file
// caches (provider.ParseFiles) and stored again.
//
// Sections: strs (every string), entries (13 uint32s each: string refs of
// Provider, Region, Zone, Service, Country, Source as off,end pairs, then
// flags 1=umbrella 2=global), sources (5 uint32s each: refs of source and
// provider, range count), spans (cachefile.Range records indexing entries).

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

// cloudTablePath returns the cache file of the table merged from paths, or
// "" when a file cannot be looked at or there is no cache directory. The
// key covers regions' output: the built-in region tables, whose countries
// the table holds (provider.WriteRegionTables).
func cloudTablePath(paths []string, regions func(io.Writer)) string {
	if len(paths) == 0 {
		return ""
	}
	keys := make([]string, 0, len(paths))
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return ""
		}
		k, err := cachefile.FileKey(p, st)
		if err != nil {
			return ""
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return cachefile.Path("cloudtable", func(w io.Writer) {
		io.WriteString(w, cloudTableMagic)
		regions(w)
		for _, k := range keys {
			io.WriteString(w, k+"\n")
		}
	})
}

// openCloudTable returns the merged table of the provider files in dir,
// from the cache when it is fresh.
func openCloudTable(dir string) (*cloudTable, error) {
	paths, err := provider.Paths(dir)
	if err != nil {
		return nil, err
	}
	cache := cloudTablePath(paths, provider.WriteRegionTables)
	if cache != "" {
		if t, ok := loadCloudTable(cache); ok {
			return t, nil
		}
	}
	files, err := provider.ParseFiles(paths)
	if err != nil {
		return nil, err
	}
	t := newCloudTable(files)
	if cache != "" {
		cachefile.Write(cache, t.encode())
	}
	return t, nil
}

// loadCloudTable maps a cached table; false if there is none or it is
// damaged.
func loadCloudTable(file string) (*cloudTable, bool) {
	data, mapped, err := cachefile.Map(file)
	if err != nil {
		return nil, false
	}
	release := cachefile.ReleasePages
	if !mapped {
		release = nil
	}
	t, aliased, err := decodeCloudTable(data, release)
	if mapped {
		if err == nil && aliased {
			runtime.AddCleanup(t, cachefile.Unmap, data)
		} else {
			cachefile.Unmap(data)
		}
	}
	return t, err == nil
}

// decodeCloudTable reads a cached table. aliased says whether t.spans
// points into data, which must then outlive t; release, if not nil, is
// handed pages that validation read and lookups may not need.
func decodeCloudTable(data []byte, release func([]byte)) (t *cloudTable, aliased bool, err error) {
	secs, v, err := cachefile.Decode(data, cloudTableMagic, cloudSections, release)
	if err != nil {
		return nil, false, err
	}
	strs := string(secs[secCloudStrs])
	str := func(u cachefile.Records, rec, field int) (string, error) {
		s, ok := u.Ref(rec, field).Sub(strs)
		if !ok {
			return "", fmt.Errorf("cloud table cache: record %d: bad string", rec)
		}
		return s, nil
	}
	ents := cachefile.Records{B: secs[secCloudEntries], N: entryWords}
	srcs := cachefile.Records{B: secs[secCloudSources], N: sourceWords}
	if len(ents.B)%(4*entryWords) != 0 || len(srcs.B)%(4*sourceWords) != 0 {
		return nil, false, errors.New("cloud table cache: bad record section")
	}
	t = &cloudTable{entries: make([]provider.Range, ents.Count())} // bounded by the file's size
	for i := range t.entries {
		var f [6]string
		for k := range f {
			if f[k], err = str(ents, i, 2*k); err != nil {
				return nil, false, err
			}
		}
		flags := ents.At(i, 12)
		if flags > 3 {
			return nil, false, fmt.Errorf("cloud table cache: entry %d: flags %#x", i, flags)
		}
		t.entries[i] = provider.Range{Umbrella: flags&1 != 0, Global: flags&2 != 0,
			Cloud: Cloud{Provider: f[0], Region: f[1], Zone: f[2], Service: f[3], Country: f[4], Source: f[5]}}
	}
	t.sources = make([]cloudSource, srcs.Count())
	for i := range t.sources {
		s := &t.sources[i]
		if s.source, err = str(srcs, i, 0); err != nil {
			return nil, false, err
		}
		if s.provider, err = str(srcs, i, 2); err != nil {
			return nil, false, err
		}
		s.ranges = int(srcs.At(i, 4))
	}
	spans, aliased, err := cachefile.Ranges(secs[secCloudSpans])
	if err != nil {
		return nil, false, err
	}
	v.After(secs[secCloudSources])
	done := func([]cachefile.Range) {}
	if aliased {
		done = func(part []cachefile.Range) { v.After(cachefile.RangeBytes(part)) }
	}
	if err := cachefile.CheckRanges(spans, uint32(len(t.entries)), true, done); err != nil {
		return nil, false, err
	}
	if err := v.Finish(); err != nil {
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
		c := e.Cloud
		for _, s := range [6]string{c.Provider, c.Region, c.Zone, c.Service, c.Country, c.Source} {
			ents = ref(ents, s)
		}
		var flags uint32
		if e.Umbrella {
			flags |= 1
		}
		if e.Global {
			flags |= 2
		}
		ents = binary.LittleEndian.AppendUint32(ents, flags)
	}
	var srcs []byte
	for _, s := range t.sources {
		srcs = ref(ref(srcs, s.source), s.provider)
		srcs = binary.LittleEndian.AppendUint32(srcs, uint32(s.ranges))
	}
	return cachefile.Encode(cloudTableMagic, strs, ents, srcs,
		cachefile.AppendRanges(make([]byte, 0, len(t.spans)*cachefile.RangeSize), t.spans))
}
