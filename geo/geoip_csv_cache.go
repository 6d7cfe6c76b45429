package geo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime"

	"github.com/egresswatch/egresswatch/geo/internal/cachefile"
)

// A parsed range CSV is cached in the user's cache directory, keyed by the
// file's absolute path, size and modification time: the ASN files have
// half a million rows, and reading the cache takes a small part of the
// time parsing them does. A cache that is missing, stale or damaged is
// ignored (and rewritten); one that cannot be written costs nothing.

// Version 2 is made to be mapped (package cachefile): sections meta (flags),
// vals (valRec records), strs (organisations and countries), ranges and
// extras (cachefile.Range records; extras are the overlapping rows, replayed into
// the trie). Version 1 files have another magic and are parsed again.
const rangeCacheMagic = "egresswatch-ranges-v2\n"

const (
	secMeta = iota
	secVals
	secStrs
	secRanges
	secExtras
	rangeSections
)

// rangeCachePath returns the cache file for the CSV at path, or "". Each
// version has its own file name, so binaries of two versions run in turn
// do not rewrite each other's caches on every start.
func rangeCachePath(path string, st os.FileInfo) string {
	return cachefile.PathFor("ranges2", path, st, nil)
}

// loadRangeCache fills db from the cache file; false if there is none or
// it is damaged. When db's records point into the mapping, the mapping is
// released once db is unreachable (a Reload drops the old rangeDB).
func (db *rangeDB) loadRangeCache(file string) bool {
	data, mapped, err := cachefile.Map(file)
	if err != nil {
		return false
	}
	release := cachefile.ReleasePages
	if !mapped {
		release = nil
	}
	aliased, err := db.decodeCache(data, release)
	if err != nil {
		db.ranges, db.vals, db.strs, db.overrides = nil, nil, "", 0 // the trie is filled only on success
		if mapped {
			cachefile.Unmap(data)
		}
		return false
	}
	if mapped {
		if aliased {
			runtime.AddCleanup(db, cachefile.Unmap, data)
		} else {
			cachefile.Unmap(data)
		}
	}
	return true
}

// decodeCache fills db from a cache file's bytes. aliased says whether
// db.ranges or db.vals point into data, which must then outlive db.
// release, if not nil, is handed the pages that validation read and
// lookups may not need.
func (db *rangeDB) decodeCache(data []byte, release func([]byte)) (aliased bool, err error) {
	secs, v, err := cachefile.Decode(data, rangeCacheMagic, rangeSections, release)
	if err != nil {
		return false, err
	}
	if len(secs[secMeta]) != 4 {
		return false, errors.New("range cache: bad meta section")
	}
	flags := binary.LittleEndian.Uint32(secs[secMeta])
	if flags > 1 {
		return false, errors.New("range cache: unknown flags")
	}
	db.country = flags == 1
	vals, valsAliased, err := valsFrom(secs[secVals])
	if err != nil {
		return false, err
	}
	strs := string(secs[secStrs])
	for i, v := range vals {
		if v.off > v.orgEnd || v.orgEnd > v.end || uint64(v.end) > uint64(len(strs)) {
			return false, fmt.Errorf("range cache: value %d: bad string bounds", i)
		}
	}
	v.After(secs[secStrs])
	nvals := uint32(len(vals))
	ranges, rangesAliased, err := cachefile.Ranges(secs[secRanges])
	if err != nil {
		return false, err
	}
	done := func([]cachefile.Range) {}
	if rangesAliased {
		done = func(part []cachefile.Range) { v.After(cachefile.RangeBytes(part)) }
	}
	if err := cachefile.CheckRanges(ranges, nvals, true, done); err != nil {
		return false, err
	}
	extras, _, err := cachefile.Ranges(secs[secExtras])
	if err != nil {
		return false, err
	}
	if err := cachefile.CheckRanges(extras, nvals, false, nil); err != nil {
		return false, err
	}
	for i, e := range extras {
		if netip.AddrFrom16(e.Lo).Is4In6() != netip.AddrFrom16(e.Hi).Is4In6() {
			return false, fmt.Errorf("range cache: extra range %d mixes address families", i)
		}
	}
	if err := v.Finish(); err != nil {
		return false, err
	}
	db.vals, db.strs, db.ranges = vals, strs, ranges
	var prefixes []netip.Prefix
	for _, e := range extras {
		db.addOverride(e, &prefixes)
	}
	return valsAliased || rangesAliased, nil
}

// valsFrom returns the valRec records of sec, in place when it can.
func valsFrom(sec []byte) ([]valRec, bool, error) {
	if len(sec)%valRecSize != 0 {
		return nil, false, fmt.Errorf("range cache: value section of %d bytes", len(sec))
	}
	if vs, ok := cachefile.View[valRec](sec, valRecSize); ok {
		return vs, true, nil
	}
	u := cachefile.Records{B: sec, N: 4}
	vs := make([]valRec, u.Count())
	for i := range vs {
		vs[i] = valRec{u.At(i, 0), u.At(i, 1), u.At(i, 2), u.At(i, 3)}
	}
	return vs, false, nil
}

// encodeRangeCache lays db out as a version 2 cache.
func (db *rangeDB) encodeRangeCache(extras []cachefile.Range) []byte {
	var flags uint32
	if db.country {
		flags = 1
	}
	meta := binary.LittleEndian.AppendUint32(nil, flags)
	vals := make([]byte, 0, len(db.vals)*valRecSize)
	for _, v := range db.vals {
		for _, x := range [4]uint32{v.asn, v.off, v.orgEnd, v.end} {
			vals = binary.LittleEndian.AppendUint32(vals, x)
		}
	}
	return cachefile.Encode(rangeCacheMagic, meta, vals, []byte(db.strs),
		cachefile.AppendRanges(make([]byte, 0, len(db.ranges)*cachefile.RangeSize), db.ranges), cachefile.AppendRanges(nil, extras))
}

// writeRangeCache stores db for the next start; errors are ignored.
func (db *rangeDB) writeRangeCache(file string, extras []cachefile.Range) {
	cachefile.Write(file, db.encodeRangeCache(extras))
}
