package geo

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
)

// A parsed range CSV is cached in the user's cache directory, keyed by the
// file's absolute path, size and modification time: the ASN files have
// half a million rows, and reading the cache takes a small part of the
// time parsing them does. A cache that is missing, stale or damaged is
// ignored (and rewritten); one that cannot be written costs nothing.

const rangeCacheMagic = "egresswatch-ranges-v1\n"

// rangeCachePath returns the cache file for the CSV at path, or "".
func rangeCachePath(path string, st os.FileInfo) string { return cachePath("ranges", path, st) }

// cachePath returns the cache file of kind for the data file at path, or
// "" when there is no cache directory.
func cachePath(kind, path string, st os.FileInfo) string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	h := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%d", abs, st.Size(), st.ModTime().UnixNano()))
	return filepath.Join(dir, "egresswatch", kind+"-"+hex.EncodeToString(h[:12])+".bin")
}

// loadRangeCache fills db from the cache file; false if there is none.
func (db *rangeDB) loadRangeCache(file string) bool {
	f, err := os.Open(file)
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false
	}
	r := bufio.NewReaderSize(f, 1<<20)
	if err := db.decodeCache(r, st.Size()); err != nil {
		db.ranges, db.vals, db.overrides = nil, nil, 0
		return false
	}
	return true
}

// decodeCache reads a cache of size bytes (the bound on what its counts may
// claim: a damaged count cannot ask for more memory than the file holds).
func (db *rangeDB) decodeCache(r *bufio.Reader, size int64) error {
	magic := make([]byte, len(rangeCacheMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != rangeCacheMagic {
		return errors.New("not a range cache")
	}
	var hdr struct {
		Country              uint8
		Vals, Ranges, Extras uint32
	}
	if err := binary.Read(r, binary.LittleEndian, &hdr); err != nil {
		return err
	}
	if hdr.Vals > 1<<24 || hdr.Ranges > 1<<26 || hdr.Extras > 1<<20 {
		return errors.New("range cache: absurd counts")
	}
	db.country = hdr.Country == 1
	str := func() (string, error) {
		n, err := binary.ReadUvarint(r)
		if err != nil || n > 1<<16 {
			return "", errors.New("range cache: bad string")
		}
		b := make([]byte, n)
		_, err = io.ReadFull(r, b)
		return string(b), err
	}
	// Counts come from the file: no more is set aside than the file's size
	// could hold (a value takes at least 3 bytes, a range 36).
	fit := func(n uint32, rec int64) int { return int(min(int64(n), size/rec)) }
	db.vals = make([]geoAnswer, 0, fit(hdr.Vals, 3))
	for i := uint32(0); i < hdr.Vals; i++ {
		var v geoAnswer
		asn, err := binary.ReadUvarint(r)
		if err != nil {
			return err
		}
		v.asn = uint32(asn)
		if v.org, err = str(); err != nil {
			return err
		}
		if v.country, err = str(); err != nil {
			return err
		}
		db.vals = append(db.vals, v)
	}
	read := func(n uint32) ([]ipRange, error) {
		out := make([]ipRange, 0, fit(n, 36))
		raw := make([]byte, 36*4096)
		for n > 0 {
			k := min(n, 4096)
			if _, err := io.ReadFull(r, raw[:36*k]); err != nil {
				return nil, err
			}
			for i := uint32(0); i < k; i++ {
				rec := raw[i*36 : i*36+36]
				var x ipRange
				copy(x.lo[:], rec[0:16])
				copy(x.hi[:], rec[16:32])
				x.val = binary.LittleEndian.Uint32(rec[32:36])
				if x.val >= hdr.Vals {
					return nil, errors.New("range cache: bad value index")
				}
				out = append(out, x)
			}
			n -= k
		}
		return out, nil
	}
	var err error
	if db.ranges, err = read(hdr.Ranges); err != nil {
		return err
	}
	extras, err := read(hdr.Extras)
	if err != nil {
		return err
	}
	var prefixes []netip.Prefix
	for _, e := range extras {
		db.addOverride(e, &prefixes)
	}
	return nil
}

// writeRangeCache stores db for the next start; errors are ignored.
func (db *rangeDB) writeRangeCache(file string, extras []ipRange) {
	if file == "" || os.MkdirAll(filepath.Dir(file), 0o755) != nil {
		return
	}
	var b bytes.Buffer
	b.WriteString(rangeCacheMagic)
	var country uint8
	if db.country {
		country = 1
	}
	_ = binary.Write(&b, binary.LittleEndian, struct {
		Country              uint8
		Vals, Ranges, Extras uint32
	}{country, uint32(len(db.vals)), uint32(len(db.ranges)), uint32(len(extras))})
	for _, v := range db.vals {
		b.Write(binary.AppendUvarint(nil, uint64(v.asn)))
		b.Write(binary.AppendUvarint(nil, uint64(len(v.org))))
		b.WriteString(v.org)
		b.Write(binary.AppendUvarint(nil, uint64(len(v.country))))
		b.WriteString(v.country)
	}
	for _, list := range [][]ipRange{db.ranges, extras} {
		var rec [36]byte
		for _, x := range list {
			copy(rec[0:16], x.lo[:])
			copy(rec[16:32], x.hi[:])
			binary.LittleEndian.PutUint32(rec[32:36], x.val)
			b.Write(rec[:])
		}
	}
	tmp := file + ".tmp"
	if os.WriteFile(tmp, b.Bytes(), 0o644) == nil {
		_ = os.Rename(tmp, file)
	}
}
