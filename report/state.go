package report

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"slices"
	"time"
)

// stateVersion is the version of the saved state's format.
const stateVersion = 1

// state is everything a Builder holds, as saved: a checkpoint of a long
// run that a restarted run continues (Load), or the copy a periodic
// report is written from (Snapshot). Every Builder field has its place
// here; TestStateHasEveryField keeps it so.
type state struct {
	Version int          `json:"version"`
	Files   []string     `json:"files"`
	First   time.Time    `json:"first"`
	Last    time.Time    `json:"last"`
	Flows   uint64       `json:"flows"`
	Devices []netip.Addr `json:"devices"`
	Alerts  uint64       `json:"alerts"`
	Rows    []rowState   `json:"rows"`
	Indet   []indetState `json:"indeterminate"`
}

type rowState struct {
	Group, Service, Country string
	Flows, Bytes, Alerts    uint64
	First, Last             time.Time
	Devices                 []netip.Addr
}

type indetState struct {
	Dst          netip.Addr
	Name, Reason string
	Flows, Bytes uint64
	Devices      []netip.Addr
}

func addrs(m map[netip.Addr]struct{}) []netip.Addr {
	return slices.SortedFunc(maps.Keys(m), netip.Addr.Compare)
}

func addrSet(a []netip.Addr) map[netip.Addr]struct{} {
	m := make(map[netip.Addr]struct{}, len(a))
	for _, x := range a {
		m[x] = struct{}{}
	}
	return m
}

// save copies b into a state; the caller holds b.mu.
func (b *Builder) save() *state {
	s := &state{Version: stateVersion, Files: slices.Clone(b.Files), First: b.first, Last: b.last,
		Flows: b.flows, Devices: addrs(b.devs), Alerts: b.nAlerts}
	for _, k := range slices.SortedFunc(maps.Keys(b.rows), func(x, y rowKey) int {
		return cmpStrings(x.group, y.group, x.service, y.service, x.country, y.country)
	}) {
		r := b.rows[k]
		s.Rows = append(s.Rows, rowState{r.Group, r.Service, r.Country, r.Flows, r.Bytes, r.Alerts, r.First, r.Last, addrs(r.devices)})
	}
	for _, k := range slices.SortedFunc(maps.Keys(b.indet), func(x, y indetKey) int {
		if c := x.dst.Compare(y.dst); c != 0 {
			return c
		}
		return cmpStrings(x.name, y.name)
	}) {
		d := b.indet[k]
		s.Indet = append(s.Indet, indetState{d.Dst, d.Name, d.Reason, d.Flows, d.Bytes, addrs(d.devices)})
	}
	return s
}

func cmpStrings(pairs ...string) int {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i] != pairs[i+1] {
			if pairs[i] < pairs[i+1] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// restore builds a Builder from s.
func (s *state) restore() *Builder {
	b := New()
	b.Files, b.first, b.last, b.flows, b.nAlerts = s.Files, s.First, s.Last, s.Flows, s.Alerts
	b.devs = addrSet(s.Devices)
	for _, r := range s.Rows {
		b.rows[rowKey{r.Group, r.Service, r.Country}] = &Row{Group: r.Group, Service: r.Service, Country: r.Country,
			Flows: r.Flows, Bytes: r.Bytes, Alerts: r.Alerts, First: r.First, Last: r.Last, devices: addrSet(r.Devices)}
	}
	for _, d := range s.Indet {
		b.indet[indetKey{d.Dst, d.Name}] = &Indeterminate{Dst: d.Dst, Name: d.Name, Reason: d.Reason,
			Flows: d.Flows, Bytes: d.Bytes, devices: addrSet(d.Devices)}
	}
	return b
}

// Save writes b's state as JSON: what Load needs to continue it. It is
// safe to call while AddFlow and AddAlert are called.
func (b *Builder) Save(w io.Writer) error {
	b.mu.Lock()
	s := b.save()
	b.mu.Unlock()
	if err := json.NewEncoder(w).Encode(s); err != nil {
		return fmt.Errorf("report state: %w", err)
	}
	return nil
}

// Load reads a state written by Save into a new Builder, which goes on
// counting from there.
func Load(r io.Reader) (*Builder, error) {
	var s state
	d := json.NewDecoder(r)
	d.DisallowUnknownFields()
	if err := d.Decode(&s); err != nil {
		return nil, fmt.Errorf("report state: %w", err)
	}
	if s.Version != stateVersion {
		return nil, fmt.Errorf("report state: version %d, want %d", s.Version, stateVersion)
	}
	return s.restore(), nil
}

// Snapshot returns a copy of b to write a report from while b goes on
// counting. It is safe to call while AddFlow and AddAlert are called.
func (b *Builder) Snapshot() *Builder {
	b.mu.Lock()
	s := b.save()
	b.mu.Unlock()
	return s.restore()
}
