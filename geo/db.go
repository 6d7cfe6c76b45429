package geo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
)

// Options says which data to load.
type Options struct {
	// GeoIP lists database files: MaxMind DB files (GeoIP2/GeoLite2
	// Country, City, ASN, ISP; DB-IP Lite; ip-location-db country and ASN
	// MMDBs) and ip-location-db range CSVs. The kind of each file is read
	// from its metadata (or, for CSV, its columns), never its name. Earlier
	// files win when two answer the same question.
	GeoIP []string
	// CloudDir holds provider range files (AWS ip-ranges.json, Azure
	// Service Tags, Google cloud.json, Oracle public_ip_ranges.json,
	// Cloudflare lists, RFC 8805 geofeeds). "" loads none.
	CloudDir string
}

// DB places addresses. It is safe for concurrent use; Reload swaps all
// data at once, so a lookup sees either the old or the new data, never a
// mix.
type DB struct {
	opts Options
	cur  atomic.Pointer[state]
}

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

// state is one immutable generation of loaded data.
type state struct {
	cloud   *cloudTable
	country []answerer
	asn     []answerer
	sources []string
}

// Open loads the databases and range files named in opts. Any file that
// cannot be read or parsed is an error that names it.
func Open(opts Options) (*DB, error) {
	db := &DB{opts: opts}
	if err := db.Reload(); err != nil {
		return nil, err
	}
	return db, nil
}

// Reload reads all files again and swaps them in atomically. On error the
// old data stays in use.
func (db *DB) Reload() error {
	s, err := load(db.opts)
	if err != nil {
		return err
	}
	db.cur.Store(s)
	return nil
}

// Sources lists what was loaded, one "name (path)" per file, for the run
// summary. The names are the ones placements carry.
func (db *DB) Sources() []string {
	return append([]string(nil), db.cur.Load().sources...)
}

func load(opts Options) (*state, error) {
	s := &state{}
	// The cloud table is opened while the GeoIP files load: on a cache
	// miss it merges some 100 000 prefixes, and on two cores that halves
	// the start-up.
	type cloudResult struct {
		table *cloudTable
		err   error
	}
	cloudc := make(chan cloudResult, 1)
	if opts.CloudDir != "" {
		go func() {
			t, err := openCloudTable(opts.CloudDir)
			cloudc <- cloudResult{table: t, err: err}
		}()
	} else {
		cloudc <- cloudResult{}
	}
	// The GeoIP files open side by side too: from the caches each is a few
	// milliseconds of reading and checking, the MMDBs a read.
	srcs := make([]answerer, len(opts.GeoIP))
	errs := make([]error, len(opts.GeoIP))
	var wg sync.WaitGroup
	for i, path := range opts.GeoIP {
		wg.Go(func() { srcs[i], errs[i] = openGeoFile(path) })
	}
	wg.Wait()
	var geoErr error
	for i, path := range opts.GeoIP {
		if errs[i] != nil {
			geoErr = errs[i]
			break
		}
		src := srcs[i]
		added := false
		switch d := src.(type) {
		case *mmdb:
			if d.hasCountry() {
				s.country, added = append(s.country, d), true
			}
			if d.hasASN() {
				s.asn, added = append(s.asn, d), true
			}
		case *rangeDB:
			if d.country {
				s.country = append(s.country, d)
			} else {
				s.asn = append(s.asn, d)
			}
			added = true
		}
		if added {
			s.sources = append(s.sources, src.name()+" ("+path+")")
		}
	}
	cr := <-cloudc
	if geoErr != nil {
		return nil, geoErr
	}
	if cr.err != nil {
		return nil, cr.err
	}
	s.cloud = cr.table
	if cr.table != nil {
		for _, f := range cr.table.sources {
			s.sources = append(s.sources, fmt.Sprintf("%s (%d ranges)", f.source, f.ranges))
		}
	}
	return s, nil
}

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

// Lookup places a. It allocates; put a Cache in front of it on hot paths.
func (db *DB) Lookup(a netip.Addr) Placement {
	return db.cur.Load().lookup(a)
}

func (s *state) lookup(a netip.Addr) Placement {
	var p Placement
	if !a.IsValid() {
		p.Indeterminate, p.Reason = true, "invalid address"
		return p
	}
	a = a.Unmap().WithZone("")
	if p, ok := s.throughNAT64(a); ok {
		return p
	}
	if why := internalReason(a); why != "" {
		p.Internal, p.Indeterminate, p.Reason = true, true, why
		return p
	}

	var geoErr error
	var anycast bool
	for _, d := range s.country {
		var r geoAnswer
		if err := d.answer(a, &r); err != nil {
			if !errors.Is(err, errIPv6InIPv4DB) && geoErr == nil {
				geoErr = fmt.Errorf("%s: %w", d.name(), err)
			}
			continue
		}
		if r.country != "" || r.registered != "" || r.anycast {
			p.GeoIPCountry, p.RegisteredCountry, p.GeoIPSource = r.country, r.registered, d.name()
			anycast = r.anycast
			break
		}
	}
	for _, d := range s.asn {
		var r geoAnswer
		if err := d.answer(a, &r); err != nil {
			continue
		}
		if r.asn != 0 || r.org != "" {
			p.ASN, p.ASOrg, p.ASSource = r.asn, r.org, d.name()
			break
		}
	}

	if cr, ok := s.cloud.lookup(a); ok {
		p.Cloud = cr.entry
		switch {
		case cr.global && cr.entry.Provider == ProviderCloudflare:
			p.Indeterminate, p.Reason = true, "cloudflare anycast range: serving location not in the address"
		case cr.global:
			p.Indeterminate, p.Reason = true, cr.entry.Provider+" range without region ("+cr.entry.Service+"): global or anycast"
		case cr.entry.Country == "":
			where := cr.entry.Region
			if cr.entry.Zone != "" {
				where = cr.entry.Zone
			}
			p.Indeterminate, p.Reason = true, cr.entry.Provider+" region "+where+": location not in the region table"
		default:
			p.Country, p.CountrySource = cr.entry.Country, cr.entry.Source
		}
		return p
	}
	switch {
	case anycast:
		p.Indeterminate, p.Reason = true, "anycast network ("+p.GeoIPSource+" is_anycast)"
	case p.GeoIPCountry != "":
		p.Country, p.CountrySource = p.GeoIPCountry, p.GeoIPSource
	case geoErr != nil:
		p.Indeterminate, p.Reason = true, "geoip lookup failed: "+geoErr.Error()
	case len(s.country) == 0:
		p.Indeterminate, p.Reason = true, "no country database loaded"
	default:
		p.Indeterminate, p.Reason = true, "address not in any country database"
	}
	return p
}

// DefaultDirs is the data directory search order when no flags are given:
// envDir (the value of $EGRESSWATCH_GEO_DIR, may be ""), ./data/geo, then
// where geoipupdate and distributions put GeoLite2 files.
func DefaultDirs(envDir string) []string {
	var dirs []string
	if envDir != "" {
		dirs = append(dirs, envDir)
	}
	return append(dirs, filepath.Join("data", "geo"), "/usr/share/GeoIP", "/var/lib/GeoIP")
}

// Discover builds Options from the first directory in dirs that holds any
// database (*.mmdb, or an ip-location-db *.csv), and the first that has a
// "cloud" subdirectory. Missing directories are skipped. Files are taken in
// name order.
func Discover(dirs []string) Options {
	var o Options
	for _, d := range dirs {
		if len(o.GeoIP) == 0 {
			var files []string
			for _, pat := range []string{"*.mmdb", "*.csv"} {
				m, _ := filepath.Glob(filepath.Join(d, pat))
				files = append(files, m...)
			}
			sort.Strings(files)
			o.GeoIP = files
		}
		if o.CloudDir == "" {
			if st, err := os.Stat(filepath.Join(d, "cloud")); err == nil && st.IsDir() {
				o.CloudDir = filepath.Join(d, "cloud")
			}
		}
	}
	return o
}
