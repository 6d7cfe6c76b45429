package provider

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"strings"

	"github.com/egresswatch/egresswatch/geo/internal/cachefile"
)

// A parsed provider file is cached beside geo's parse caches, keyed by the
// file and the region tables (its ranges hold countries taken from them):
// the Azure service tags alone are 90 000 ranges of JSON.

const cloudCacheMagic = "egresswatch-cloud-v1\n"

// ParseFileCached is ParseFile with the cache in front.
func ParseFileCached(path string) (File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return ParseFile(path)
	}
	cache := cachePath(path, st)
	if cache != "" {
		if cf, ok := loadCloudCache(cache); ok {
			return cf, nil
		}
	}
	cf, err := ParseFile(path)
	if err == nil && cache != "" {
		writeCloudCache(cache, cf)
	}
	return cf, err
}

// cachePath returns the cache file of the provider file at path, or "".
func cachePath(path string, st os.FileInfo) string {
	return cachefile.PathFor("cloud", path, st, WriteRegionTables)
}

func writeCloudCache(file string, cf File) {
	strs := map[string]uint32{}
	var table []string
	id := func(s string) uint32 {
		i, ok := strs[s]
		if !ok {
			i = uint32(len(table))
			strs[s] = i
			table = append(table, s)
		}
		return i
	}
	var body bytes.Buffer
	for _, r := range cf.Ranges {
		a := r.Prefix.Addr().As16()
		body.Write(a[:])
		var flags byte
		if r.Prefix.Addr().Is4() {
			flags |= 1
		}
		if r.Umbrella {
			flags |= 2
		}
		if r.Global {
			flags |= 4
		}
		body.WriteByte(byte(r.Prefix.Bits()))
		body.WriteByte(flags)
		e := r.Cloud
		for _, s := range []string{e.Provider, e.Region, e.Service, e.Country, e.Source, e.Zone} {
			body.Write(binary.AppendUvarint(nil, uint64(id(s))))
		}
	}
	var b bytes.Buffer
	b.WriteString(cloudCacheMagic)
	for _, s := range []string{cf.Provider, cf.Source} {
		b.Write(binary.AppendUvarint(nil, uint64(len(s))))
		b.WriteString(s)
	}
	b.Write(binary.AppendUvarint(nil, uint64(len(table))))
	for _, s := range table {
		b.Write(binary.AppendUvarint(nil, uint64(len(s))))
		b.WriteString(s)
	}
	b.Write(binary.AppendUvarint(nil, uint64(len(cf.Ranges))))
	b.Write(body.Bytes())
	cachefile.Write(file, b.Bytes())
}

func loadCloudCache(file string) (File, bool) {
	f, err := os.Open(file)
	if err != nil {
		return File{}, false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return File{}, false
	}
	cf, err := decodeCloudCache(bufio.NewReaderSize(f, 1<<20), st.Size())
	return cf, err == nil
}

// decodeCloudCache reads a cache of size bytes; the counts it holds are
// believed only as far as size could hold them.
func decodeCloudCache(r *bufio.Reader, size int64) (File, error) {
	var cf File
	magic := make([]byte, len(cloudCacheMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != cloudCacheMagic {
		return cf, errors.New("not a cloud cache")
	}
	str := func() (string, error) {
		n, err := binary.ReadUvarint(r)
		if err != nil || n > 1<<16 {
			return "", errors.New("cloud cache: bad string")
		}
		var sb strings.Builder
		_, err = io.CopyN(&sb, r, int64(n))
		return sb.String(), err
	}
	var err error
	if cf.Provider, err = str(); err != nil {
		return cf, err
	}
	if cf.Source, err = str(); err != nil {
		return cf, err
	}
	nt, err := binary.ReadUvarint(r)
	if err != nil || nt > 1<<20 {
		return cf, errors.New("cloud cache: bad table")
	}
	table := make([]string, 0, min(int64(nt), size)) // a string takes at least a byte
	for i := uint64(0); i < nt; i++ {
		v, err := str()
		if err != nil {
			return cf, err
		}
		table = append(table, v)
	}
	nr, err := binary.ReadUvarint(r)
	if err != nil || nr > 1<<24 {
		return cf, errors.New("cloud cache: bad count")
	}
	cf.Ranges = make([]Range, 0, min(int64(nr), size/24)) // 18 bytes + 6 indexes
	var a [18]byte
	for i := uint64(0); i < nr; i++ {
		if _, err := io.ReadFull(r, a[:]); err != nil {
			return cf, err
		}
		addr := netip.AddrFrom16([16]byte(a[:16]))
		flags := a[17]
		if flags&1 != 0 {
			addr = addr.Unmap()
		}
		p, err := addr.Prefix(int(a[16]))
		if err != nil {
			return cf, err
		}
		var ids [6]string
		for k := range ids {
			n, err := binary.ReadUvarint(r)
			if err != nil || n >= nt {
				return cf, errors.New("cloud cache: bad string index")
			}
			ids[k] = table[n]
		}
		cf.Ranges = append(cf.Ranges, Range{Prefix: p, Umbrella: flags&2 != 0, Global: flags&4 != 0,
			Cloud: Cloud{Provider: ids[0], Region: ids[1], Service: ids[2], Country: ids[3], Source: ids[4], Zone: ids[5]}})
	}
	return cf, nil
}
