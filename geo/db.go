package geo

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/egresswatch/egresswatch/geo/provider"
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

// Loaded says what placement data is in use: a database that answers
// countries, and cloud provider ranges. Without a country database every
// address outside the cloud ranges is indeterminate.
func (db *DB) Loaded() (country, cloud bool) {
	s := db.cur.Load()
	return len(s.country) > 0, s.cloud != nil && len(s.cloud.sources) > 0
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
		p.Cloud = cr.Cloud
		switch {
		case cr.Global && cr.Cloud.Provider == provider.Cloudflare:
			p.Indeterminate, p.Reason = true, "cloudflare anycast range: serving location not in the address"
		case cr.Global:
			p.Indeterminate, p.Reason = true, cr.Cloud.Provider+" range without region ("+cr.Cloud.Service+"): global or anycast"
		case cr.Cloud.Country == "":
			where := cr.Cloud.Region
			if cr.Cloud.Zone != "" {
				where = cr.Cloud.Zone
			}
			p.Indeterminate, p.Reason = true, cr.Cloud.Provider+" region "+where+": location not in the region table"
		default:
			p.Country, p.CountrySource = cr.Cloud.Country, cr.Cloud.Source
		}
		return p
	}
	switch name := anycastName(a); {
	case anycast:
		p.Indeterminate, p.Reason = true, "anycast network ("+p.GeoIPSource+" is_anycast)"
	case name != "":
		p.Indeterminate, p.Reason = true, "anycast: "+name+" is served from many countries (built-in list)"
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
