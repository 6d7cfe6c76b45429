package geo

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
)

// A parsed provider file is cached beside the parsed range CSVs (see
// csvcache.go): the Azure service tags alone are 90 000 ranges of JSON.

const cloudCacheMagic = "egresswatch-cloud-v1\n"

// parseCloudFileCached is parseCloudFile with the cache in front.
func parseCloudFileCached(path string) (cloudFile, error) {
	st, err := os.Stat(path)
	if err != nil {
		return parseCloudFile(path)
	}
	cache := cachePath("cloud", path, st)
	if cache != "" {
		if cf, ok := loadCloudCache(cache); ok {
			return cf, nil
		}
	}
	cf, err := parseCloudFile(path)
	if err == nil && cache != "" {
		writeCloudCache(cache, cf)
	}
	return cf, err
}

func writeCloudCache(file string, cf cloudFile) {
	if os.MkdirAll(filepath.Dir(file), 0o755) != nil {
		return
	}
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
	for _, r := range cf.ranges {
		a := r.prefix.Addr().As16()
		body.Write(a[:])
		var flags byte
		if r.prefix.Addr().Is4() {
			flags |= 1
		}
		if r.umbrella {
			flags |= 2
		}
		if r.global {
			flags |= 4
		}
		body.WriteByte(byte(r.prefix.Bits()))
		body.WriteByte(flags)
		e := r.entry
		for _, s := range []string{e.Provider, e.Region, e.Service, e.Country, e.Source, e.Zone} {
			body.Write(binary.AppendUvarint(nil, uint64(id(s))))
		}
	}
	var b bytes.Buffer
	b.WriteString(cloudCacheMagic)
	for _, s := range []string{cf.provider, cf.source} {
		b.Write(binary.AppendUvarint(nil, uint64(len(s))))
		b.WriteString(s)
	}
	b.Write(binary.AppendUvarint(nil, uint64(len(table))))
	for _, s := range table {
		b.Write(binary.AppendUvarint(nil, uint64(len(s))))
		b.WriteString(s)
	}
	b.Write(binary.AppendUvarint(nil, uint64(len(cf.ranges))))
	b.Write(body.Bytes())
	tmp := file + ".tmp"
	if os.WriteFile(tmp, b.Bytes(), 0o644) == nil {
		_ = os.Rename(tmp, file)
	}
}

func loadCloudCache(file string) (cloudFile, bool) {
	f, err := os.Open(file)
	if err != nil {
		return cloudFile{}, false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return cloudFile{}, false
	}
	cf, err := decodeCloudCache(bufio.NewReaderSize(f, 1<<20), st.Size())
	return cf, err == nil
}

// decodeCloudCache reads a cache of size bytes; the counts it holds are
// believed only as far as size could hold them.
func decodeCloudCache(r *bufio.Reader, size int64) (cloudFile, error) {
	var cf cloudFile
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
	if cf.provider, err = str(); err != nil {
		return cf, err
	}
	if cf.source, err = str(); err != nil {
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
	cf.ranges = make([]cloudRange, 0, min(int64(nr), size/24)) // 18 bytes + 6 indexes
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
		cf.ranges = append(cf.ranges, cloudRange{prefix: p, umbrella: flags&2 != 0, global: flags&4 != 0,
			entry: Cloud{Provider: ids[0], Region: ids[1], Service: ids[2], Country: ids[3], Source: ids[4], Zone: ids[5]}})
	}
	return cf, nil
}
