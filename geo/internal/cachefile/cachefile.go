package cachefile

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"unsafe"
)

const (
	MagicLen  = 24 // bytes of magic at the start of a file
	RangeSize = 36 // bytes of a Range record: lo, hi, val
)

// Range is an inclusive range of 16-byte (IPv4-mapped for IPv4) addresses
// and the index of its answer: the fixed record of range sections.
type Range struct {
	Lo, Hi [16]byte
	Val    uint32
}

// Encode lays out a cache file: magic (at most MagicLen bytes),
// then the sections.
func Encode(magic string, secs ...[]byte) []byte {
	n := MagicLen + 8 + 4*len(secs)
	for _, s := range secs {
		n += pad4(len(s))
	}
	b := make([]byte, MagicLen+4, n)
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
	Seal(b)
	return b
}

// Seal sets the checksum of a cache file to match its bytes (Encode does;
// tests forging damaged files do too).
func Seal(b []byte) {
	if len(b) >= MagicLen+4 {
		binary.LittleEndian.PutUint32(b[MagicLen:], crc32.Checksum(b[MagicLen+4:], crc32.MakeTable(crc32.Castagnoli)))
	}
}

func pad4(n int) int { return (n + 3) &^ 3 }

// Decode splits data, a cache file of want sections, into its
// sections (which alias data). The checksum is not checked yet: the caller
// reads the sections through the returned Verifier (see there) and calls
// its Finish.
func Decode(data []byte, magic string, want int, release func([]byte)) ([][]byte, *Verifier, error) {
	hdr := MagicLen + 8 + 4*want
	if len(data) < hdr {
		return nil, nil, errors.New("cache: short header")
	}
	var m [MagicLen]byte
	copy(m[:], magic)
	if string(data[:MagicLen]) != string(m[:]) {
		return nil, nil, errors.New("cache: wrong magic")
	}
	if n := binary.LittleEndian.Uint32(data[MagicLen+4:]); n != uint32(want) {
		return nil, nil, fmt.Errorf("cache: %d sections, want %d", n, want)
	}
	secs := make([][]byte, want)
	off := uint64(hdr)
	for i := range secs {
		n := uint64(binary.LittleEndian.Uint32(data[MagicLen+8+4*i:]))
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
	v := &Verifier{data: data, pos: MagicLen + 4, want: binary.LittleEndian.Uint32(data[MagicLen:]), release: release}
	return secs, v, nil
}

// Verifier checksums a cache file front to back while the caller checks
// its sections, so that each page is read once: the caller hands it each
// part it is done with (After), and release, if not nil, lets go of what
// has been summed.
type Verifier struct {
	data    []byte
	pos     int
	sum     uint32
	want    uint32
	release func([]byte)
}

// upTo sums data up to end, a MiB at a time.
func (v *Verifier) upTo(end int) {
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

// After sums data up to the end of b, a part of it.
func (v *Verifier) After(b []byte) {
	if len(b) == 0 {
		return
	}
	end := int(uintptr(unsafe.Pointer(unsafe.SliceData(b)))-uintptr(unsafe.Pointer(unsafe.SliceData(v.data)))) + len(b)
	if end > 0 && end <= len(v.data) {
		v.upTo(end)
	}
}

// Finish sums the rest and reports whether the file is what was written.
func (v *Verifier) Finish() error {
	v.upTo(len(v.data))
	if v.sum != v.want {
		return errors.New("cache: checksum mismatch")
	}
	return nil
}

// LittleEndian reports whether the machine stores numbers as the cache
// files do, so records can be used in place.
func LittleEndian() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}

// View returns b as a slice of T records of size bytes without copying,
// or false when the machine's layout of T differs from the file's or b is
// not aligned for T. T must hold only byte arrays and uint32s.
func View[T any](b []byte, size int) ([]T, bool) {
	var z T
	if len(b)%size != 0 || int(unsafe.Sizeof(z)) != size || !LittleEndian() {
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

// Ranges returns the Range records of sec, in place when it can;
// aliased says whether the result points into sec.
func Ranges(sec []byte) (rs []Range, aliased bool, err error) {
	if len(sec)%RangeSize != 0 {
		return nil, false, fmt.Errorf("cache: range section of %d bytes", len(sec))
	}
	if rs, ok := View[Range](sec, RangeSize); ok {
		return rs, true, nil
	}
	rs = make([]Range, len(sec)/RangeSize) // bounded by the file's size
	for i := range rs {
		rec := sec[i*RangeSize : (i+1)*RangeSize]
		copy(rs[i].Lo[:], rec[0:16])
		copy(rs[i].Hi[:], rec[16:32])
		rs[i].Val = binary.LittleEndian.Uint32(rec[32:36])
	}
	return rs, false, nil
}

// AppendRanges encodes rs as range records.
func AppendRanges(b []byte, rs []Range) []byte {
	for _, r := range rs {
		b = append(b, r.Lo[:]...)
		b = append(b, r.Hi[:]...)
		b = binary.LittleEndian.AppendUint32(b, r.Val)
	}
	return b
}

// CheckRanges validates range records read from a cache: each lo <= hi,
// every val < nvals, and, when sorted, lo strictly above the previous hi
// (the order binary search needs). done is called with each checked chunk
// of records, so the caller can let go of pages it does not need resident.
func CheckRanges(rs []Range, nvals uint32, sorted bool, done func([]Range)) error {
	const chunk = 1 << 15 // ~1 MiB of records
	for start := 0; start < len(rs); start += chunk {
		part := rs[start:min(start+chunk, len(rs))]
		for i := range part {
			r := &part[i]
			if r.Val >= nvals {
				return fmt.Errorf("cache: range %d: value %d of %d", start+i, r.Val, nvals)
			}
			if Cmp16(&r.Lo, &r.Hi) > 0 {
				return fmt.Errorf("cache: range %d ends before it starts", start+i)
			}
			if sorted && start+i > 0 && Cmp16(&r.Lo, &rs[start+i-1].Hi) <= 0 {
				return fmt.Errorf("cache: range %d out of order", start+i)
			}
		}
		if done != nil {
			done(part)
		}
	}
	return nil
}

// RangeBytes returns the bytes under a run of records.
func RangeBytes(part []Range) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(part))), len(part)*RangeSize)
}

// Cmp16 compares two 16-byte addresses as big-endian numbers.
func Cmp16(a, b *[16]byte) int {
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

// Search returns the val of the range of rs (sorted, disjoint)
// holding k.
func Search(rs []Range, k *[16]byte) (uint32, bool) {
	kh, kl := binary.BigEndian.Uint64(k[:8]), binary.BigEndian.Uint64(k[8:])
	// The first range starting above k; the one before it is the candidate.
	i, j := 0, len(rs)
	for i < j {
		h := int(uint(i+j) >> 1)
		lo := &rs[h].Lo
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
	if Cmp16(k, &r.Hi) > 0 {
		return 0, false
	}
	return r.Val, true
}

// StrRef is a substring of a cache's string section.
type StrRef struct{ off, end uint32 }

// Sub returns s[r.off:r.end], or false when r does not fit s.
func (r StrRef) Sub(s string) (string, bool) {
	if r.off > r.end || uint64(r.end) > uint64(len(s)) {
		return "", false
	}
	return s[r.off:r.end], true
}

// Records reads fixed records of N uint32s from a section, B.
type Records struct {
	B []byte
	N int // uint32s per record
}

// Count is the number of whole records.
func (u Records) Count() int { return len(u.B) / (4 * u.N) }

// At returns field of record rec.
func (u Records) At(rec, field int) uint32 {
	return binary.LittleEndian.Uint32(u.B[4*(rec*u.N+field):])
}

// Ref returns fields field and field+1 of record rec as a string reference.
func (u Records) Ref(rec, field int) StrRef {
	return StrRef{u.At(rec, field), u.At(rec, field+1)}
}

// Write writes a cache through a temporary file and a rename, so a reader
// never sees half a file and a mapped old version stays intact. Errors are
// ignored: a cache that cannot be written costs a parse on the next start.
func Write(file string, data []byte) {
	if file == "" || os.MkdirAll(filepath.Dir(file), 0o755) != nil {
		return
	}
	tmp := file + ".tmp"
	if os.WriteFile(tmp, data, 0o644) == nil {
		_ = os.Rename(tmp, file)
	}
}

// Path returns the cache file of kind named after the hash of what key
// writes, or "" when there is no cache directory.
func Path(kind string, key func(w io.Writer)) string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	h := sha256.New()
	key(h)
	return filepath.Join(dir, "egresswatch", kind+"-"+hex.EncodeToString(h.Sum(nil)[:12])+".bin")
}

// PathFor returns the cache file of kind for the data file at path, keyed
// by FileKey and then by what extra (if not nil) writes; "" when there is
// no cache directory.
func PathFor(kind, path string, st os.FileInfo, extra func(w io.Writer)) string {
	key, err := FileKey(path, st)
	if err != nil {
		return ""
	}
	return Path(kind, func(w io.Writer) {
		io.WriteString(w, key)
		if extra != nil {
			extra(w)
		}
	})
}

// FileKey names the version of the data file at path (st is its
// FileInfo): its absolute path, size and modification time.
func FileKey(path string, st os.FileInfo) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s\x00%d\x00%d", abs, st.Size(), st.ModTime().UnixNano()), nil
}
