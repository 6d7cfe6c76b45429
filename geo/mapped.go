package geo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"unsafe"
)

// The caches of parsed range CSVs and of the merged cloud table share one
// file layout, made to be mapped and used in place: a 24-byte magic, a
// section count, the byte length of every section, then the sections, each
// starting at a 4-byte-aligned offset (padding counts in no length). All
// numbers are little-endian. Arrays of fixed records (ipRange, valRec) are
// used straight from the mapping when the machine's layout matches, so a
// start-up touches only the pages lookups need; anything else is decoded
// by copy. Nothing read is trusted: sizes must add up to the file's size
// exactly, and the callers check every index and the order of the ranges.

const (
	magicLen     = 24
	rangeRecSize = 36 // ipRange: lo, hi, val
	valRecSize   = 16 // valRec: four uint32
)

// encodeSections lays out a cache file: magic (at most magicLen bytes),
// then the sections.
func encodeSections(magic string, secs ...[]byte) []byte {
	n := magicLen + 8 + 4*len(secs)
	for _, s := range secs {
		n += pad4(len(s))
	}
	b := make([]byte, magicLen+4, n)
	copy(b, magic)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(secs)))
	for _, s := range secs {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
	}
	for _, s := range secs {
		b = append(b, s...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	binary.LittleEndian.PutUint32(b[magicLen:], crc32.Checksum(b[magicLen+4:], crc32.MakeTable(crc32.Castagnoli)))
	return b
}

func pad4(n int) int { return (n + 3) &^ 3 }

// decodeSections splits data, a cache file of want sections, into its
// sections (which alias data). The checksum is not checked yet: the caller
// reads the sections through the returned verifier (see there) and calls
// its finish.
func decodeSections(data []byte, magic string, want int, release func([]byte)) ([][]byte, *verifier, error) {
	hdr := magicLen + 8 + 4*want
	if len(data) < hdr {
		return nil, nil, errors.New("cache: short header")
	}
	var m [magicLen]byte
	copy(m[:], magic)
	if string(data[:magicLen]) != string(m[:]) {
		return nil, nil, errors.New("cache: wrong magic")
	}
	if n := binary.LittleEndian.Uint32(data[magicLen+4:]); n != uint32(want) {
		return nil, nil, fmt.Errorf("cache: %d sections, want %d", n, want)
	}
	secs := make([][]byte, want)
	off := uint64(hdr)
	for i := range secs {
		n := uint64(binary.LittleEndian.Uint32(data[magicLen+8+4*i:]))
		end := off + n
		if end > uint64(len(data)) {
			return nil, nil, fmt.Errorf("cache: section %d (%d bytes) runs past the end", i, n)
		}
		secs[i] = data[off:end:end]
		off = (end + 3) &^ 3
	}
	if off != uint64(len(data)) {
		return nil, nil, fmt.Errorf("cache: %d bytes, sections account for %d", len(data), off)
	}
	v := &verifier{data: data, pos: magicLen + 4, want: binary.LittleEndian.Uint32(data[magicLen:]), release: release}
	return secs, v, nil
}

// verifier checksums a cache file front to back while the caller checks
// its sections, so that each page is read once: the caller hands it each
// part it is done with (after), and release, if not nil, lets go of what
// has been summed.
type verifier struct {
	data    []byte
	pos     int
	sum     uint32
	want    uint32
	release func([]byte)
}

// upTo sums data up to end, a MiB at a time.
func (v *verifier) upTo(end int) {
	tab := crc32.MakeTable(crc32.Castagnoli)
	for v.pos < end {
		part := v.data[v.pos:min(end, v.pos+1<<20)]
		v.sum = crc32.Update(v.sum, tab, part)
		if v.release != nil {
			v.release(part)
		}
		v.pos += len(part)
	}
}

// after sums data up to the end of b, a part of it.
func (v *verifier) after(b []byte) {
	if len(b) == 0 {
		return
	}
	end := int(uintptr(unsafe.Pointer(unsafe.SliceData(b)))-uintptr(unsafe.Pointer(unsafe.SliceData(v.data)))) + len(b)
	if end > 0 && end <= len(v.data) {
		v.upTo(end)
	}
}

// finish sums the rest and reports whether the file is what was written.
func (v *verifier) finish() error {
	v.upTo(len(v.data))
	if v.sum != v.want {
		return errors.New("cache: checksum mismatch")
	}
	return nil
}

// littleEndian reports whether the machine stores numbers as the cache
// files do, so records can be used in place.
func littleEndian() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}

// view returns b as a slice of T records of size bytes without copying,
// or false when the machine's layout of T differs from the file's or b is
// not aligned for T. T must hold only byte arrays and uint32s.
func view[T any](b []byte, size int) ([]T, bool) {
	var z T
	if len(b)%size != 0 || int(unsafe.Sizeof(z)) != size || !littleEndian() {
		return nil, false
	}
	if len(b) == 0 {
		return nil, true
	}
	if uintptr(unsafe.Pointer(unsafe.SliceData(b)))%unsafe.Alignof(z) != 0 {
		return nil, false
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/size), true
}

// rangesFrom returns the ipRange records of sec, in place when it can;
// aliased says whether the result points into sec.
func rangesFrom(sec []byte) (rs []ipRange, aliased bool, err error) {
	if len(sec)%rangeRecSize != 0 {
		return nil, false, fmt.Errorf("cache: range section of %d bytes", len(sec))
	}
	if rs, ok := view[ipRange](sec, rangeRecSize); ok {
		return rs, true, nil
	}
	rs = make([]ipRange, len(sec)/rangeRecSize) // bounded by the file's size
	for i := range rs {
		rec := sec[i*rangeRecSize : (i+1)*rangeRecSize]
		copy(rs[i].lo[:], rec[0:16])
		copy(rs[i].hi[:], rec[16:32])
		rs[i].val = binary.LittleEndian.Uint32(rec[32:36])
	}
	return rs, false, nil
}

// appendRanges encodes rs as range records.
func appendRanges(b []byte, rs []ipRange) []byte {
	for _, r := range rs {
		b = append(b, r.lo[:]...)
		b = append(b, r.hi[:]...)
		b = binary.LittleEndian.AppendUint32(b, r.val)
	}
	return b
}

// checkRanges validates range records read from a cache: each lo <= hi,
// every val < nvals, and, when sorted, lo strictly above the previous hi
// (the order binary search needs). done is called with each checked chunk
// of records, so the caller can let go of pages it does not need resident.
func checkRanges(rs []ipRange, nvals uint32, sorted bool, done func([]ipRange)) error {
	const chunk = 1 << 15 // ~1 MiB of records
	for start := 0; start < len(rs); start += chunk {
		part := rs[start:min(start+chunk, len(rs))]
		for i := range part {
			r := &part[i]
			if r.val >= nvals {
				return fmt.Errorf("cache: range %d: value %d of %d", start+i, r.val, nvals)
			}
			if cmp16(&r.lo, &r.hi) > 0 {
				return fmt.Errorf("cache: range %d ends before it starts", start+i)
			}
			if sorted && start+i > 0 && cmp16(&r.lo, &rs[start+i-1].hi) <= 0 {
				return fmt.Errorf("cache: range %d out of order", start+i)
			}
		}
		if done != nil {
			done(part)
		}
	}
	return nil
}

// rangeBytes returns the bytes under a run of records.
func rangeBytes(part []ipRange) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(part))), len(part)*rangeRecSize)
}

// cmp16 compares two 16-byte addresses as big-endian numbers.
func cmp16(a, b *[16]byte) int {
	ah, bh := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8])
	if ah != bh {
		if ah < bh {
			return -1
		}
		return 1
	}
	al, bl := binary.BigEndian.Uint64(a[8:]), binary.BigEndian.Uint64(b[8:])
	switch {
	case al < bl:
		return -1
	case al > bl:
		return 1
	}
	return 0
}

// searchRanges returns the val of the range of rs (sorted, disjoint)
// holding k.
func searchRanges(rs []ipRange, k *[16]byte) (uint32, bool) {
	kh, kl := binary.BigEndian.Uint64(k[:8]), binary.BigEndian.Uint64(k[8:])
	// The first range starting above k; the one before it is the candidate.
	i, j := 0, len(rs)
	for i < j {
		h := int(uint(i+j) >> 1)
		lo := &rs[h].lo
		lh, ll := binary.BigEndian.Uint64(lo[:8]), binary.BigEndian.Uint64(lo[8:])
		if lh > kh || (lh == kh && ll > kl) {
			j = h
		} else {
			i = h + 1
		}
	}
	if i == 0 {
		return 0, false
	}
	r := &rs[i-1]
	if cmp16(k, &r.hi) > 0 {
		return 0, false
	}
	return r.val, true
}

// strRef is a substring of a cache's string section.
type strRef struct{ off, end uint32 }

// sub returns s[r.off:r.end], or false when r does not fit s.
func (r strRef) sub(s string) (string, bool) {
	if r.off > r.end || uint64(r.end) > uint64(len(s)) {
		return "", false
	}
	return s[r.off:r.end], true
}

// u32s reads fixed records of n uint32s from a section.
type u32s struct {
	b []byte
	n int // uint32s per record
}

func (u u32s) count() int { return len(u.b) / (4 * u.n) }
func (u u32s) at(rec, field int) uint32 {
	return binary.LittleEndian.Uint32(u.b[4*(rec*u.n+field):])
}
func (u u32s) ref(rec, field int) strRef {
	return strRef{u.at(rec, field), u.at(rec, field+1)}
}
