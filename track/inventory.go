package track

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/egresswatch/egresswatch/flow"
)

// Inventory is an asset inventory: a CSV file whose header names its
// columns. Key columns say which device a row is about (any of mac, ip,
// cidr, hostname; a row needs at least one); value columns say what it is
// (name, owner, department, group). A device is matched by MAC first,
// then by its learned host name (case-insensitive), then by address, then
// by the first CIDR that holds it. Immutable once loaded.
type Inventory struct {
	rows   []*invRow
	byMAC  map[[6]byte]*invRow
	byName map[string]*invRow // lower case
	byIP   map[netip.Addr]*invRow
	cidrs  []*invRow
}

type invRow struct {
	cidr netip.Prefix
	id   *flow.Identity // the row as an identity (Source inventory when it has a name)
}

// Len returns the number of rows.
func (inv *Inventory) Len() int {
	if inv == nil {
		return 0
	}
	return len(inv.rows)
}

// LoadInventory reads an inventory file. Every problem is reported, each
// as file:line: message.
func LoadInventory(path string) (*Inventory, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	defer f.Close()
	return ParseInventory(path, f)
}

var invColumns = map[string]bool{"mac": true, "ip": true, "cidr": true, "hostname": true,
	"name": true, "owner": true, "department": true, "group": true}

// ParseInventory reads an inventory from r; name is the file name errors
// give.
func ParseInventory(name string, r io.Reader) (*Inventory, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.Comment = '#'
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: inventory header: %w", name, err)
	}
	col := map[string]int{}
	var errs []error
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if !invColumns[h] {
			errs = append(errs, fmt.Errorf("%s:1:%d: unknown inventory column %q (want mac, ip, cidr, hostname, name, owner, department, group)", name, i+1, h))
			continue
		}
		col[h] = i
	}
	_, hasMAC := col["mac"]
	_, hasIP := col["ip"]
	_, hasCIDR := col["cidr"]
	_, hasHost := col["hostname"]
	if !hasMAC && !hasIP && !hasCIDR && !hasHost {
		errs = append(errs, fmt.Errorf("%s:1: inventory has no key column (give mac, ip, cidr or hostname)", name))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	inv := &Inventory{byMAC: map[[6]byte]*invRow{}, byName: map[string]*invRow{}, byIP: map[netip.Addr]*invRow{}}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			break
		}
		get := func(k string) string {
			if i, ok := col[k]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		row := &invRow{}
		id := &flow.Identity{Name: get("name"), Owner: get("owner"), Department: get("department"), Group: get("group")}
		id.NameFold = strings.ToLower(id.Name)
		if id.Name != "" {
			id.Source = flow.DeviceInventory
		}
		row.id = id
		keys := 0
		if v := get("mac"); v != "" {
			hw, err := net.ParseMAC(v)
			if err != nil || len(hw) != 6 {
				errs = append(errs, fmt.Errorf("%s:%d: invalid mac %q", name, line, v))
			} else {
				id.MAC, id.HasMAC = [6]byte(hw), true
				if _, dup := inv.byMAC[id.MAC]; !dup {
					inv.byMAC[id.MAC] = row
				}
				keys++
			}
		}
		if v := get("hostname"); v != "" {
			if k := strings.ToLower(v); inv.byName[k] == nil {
				inv.byName[k] = row
			}
			keys++
		}
		if v := get("ip"); v != "" {
			a, err := netip.ParseAddr(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s:%d: invalid ip %q", name, line, v))
			} else {
				if a = a.Unmap(); inv.byIP[a] == nil {
					inv.byIP[a] = row
				}
				keys++
			}
		}
		if v := get("cidr"); v != "" {
			p, err := netip.ParsePrefix(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s:%d: invalid cidr %q", name, line, v))
			} else {
				row.cidr = p.Masked()
				inv.cidrs = append(inv.cidrs, row)
				keys++
			}
		}
		if keys == 0 && len(errs) == 0 {
			errs = append(errs, fmt.Errorf("%s:%d: row has no key (mac, ip, cidr or hostname)", name, line))
		}
		inv.rows = append(inv.rows, row)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return inv, nil
}

// lookup returns the row of the device, or nil.
func (inv *Inventory) lookup(learned *flow.Identity, src netip.Addr, dev *flow.Device) *invRow {
	if learned != nil && learned.HasMAC {
		if r := inv.byMAC[learned.MAC]; r != nil {
			return r
		}
	}
	if dev != nil && dev.HasMAC {
		if r := inv.byMAC[dev.MAC]; r != nil {
			return r
		}
	}
	if learned != nil && learned.NameFold != "" {
		if r := inv.byName[learned.NameFold]; r != nil {
			return r
		}
	}
	if r := inv.byIP[src]; r != nil {
		return r
	}
	for _, r := range inv.cidrs {
		if r.cidr.Contains(src) {
			return r
		}
	}
	return nil
}

// apply returns the identity of a device the table knows as learned (nil:
// not at all) with its inventory row applied: the row's name wins, the
// learned MAC stays.
func (inv *Inventory) apply(learned *flow.Identity, src netip.Addr, dev *flow.Device) *flow.Identity {
	r := inv.lookup(learned, src, dev)
	switch {
	case r == nil:
		return learned
	case learned == nil:
		return r.id
	}
	id := *learned
	if r.id.Name != "" {
		id.Name, id.NameFold, id.Source = r.id.Name, r.id.NameFold, flow.DeviceInventory
	}
	id.Owner, id.Department, id.Group = r.id.Owner, r.id.Department, r.id.Group
	return &id
}
