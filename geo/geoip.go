package geo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
)

// answerer is one GeoIP source: an MMDB or a range CSV.
type answerer interface {
	answer(a netip.Addr, r *geoAnswer) error
	name() string
}

func (d *mmdb) answer(a netip.Addr, r *geoAnswer) error { return d.lookup(a, r) }
func (d *mmdb) name() string                            { return d.source }
func (d *rangeDB) answer(a netip.Addr, r *geoAnswer) error {
	d.lookup(a, r)
	return nil
}
func (d *rangeDB) name() string { return d.source }

// openGeoFile opens a MaxMind DB file or an ip-location-db range CSV,
// telling them apart by content: a CSV starts with an address and a comma.
func openGeoFile(path string) (answerer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("geoip database: %w", err)
	}
	head := make([]byte, 64)
	n, err := io.ReadFull(f, head)
	f.Close()
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("geoip database: %w", err)
	}
	head = head[:n]
	if i := bytes.IndexByte(head, ','); i > 0 {
		if _, err := netip.ParseAddr(string(head[:i])); err == nil {
			return openRangeCSV(path)
		}
	}
	return openMMDB(path)
}
