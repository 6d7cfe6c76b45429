package report

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
)

// DeviceRow is one device of the report's devices section: known by its
// name where DHCP, NBNS, LLMNR, mDNS or the inventory gave one, else by
// its address.
type DeviceRow struct {
	Name       string   `json:"name,omitempty"`
	NameSource string   `json:"name_source,omitempty"`
	MAC        string   `json:"mac,omitempty"`
	Owner      string   `json:"owner,omitempty"`
	Department string   `json:"department,omitempty"`
	Addresses  []string `json:"addresses"`
	Groups     []string `json:"groups,omitempty"`
	Services   []string `json:"services,omitempty"`
	Countries  []string `json:"countries,omitempty"`
	Flows      uint64   `json:"flows"`
	Bytes      uint64   `json:"bytes"`

	addrs, groups, services, countries map[string]struct{}
}

// DeviceInfo is what the pipeline knows of a flow's device beyond its
// address; the zero value is nothing.
type DeviceInfo struct {
	Name, NameSource, MAC, Owner, Department string
}

// deviceKey names a device: its name, else its MAC, else its address.
func deviceKey(f *FlowSummary) string {
	switch {
	case f.DeviceInfo.Name != "":
		return "n:" + strings.ToLower(f.DeviceInfo.Name)
	case f.DeviceInfo.MAC != "":
		return "m:" + f.DeviceInfo.MAC
	}
	return "a:" + f.Device.String()
}

// addDevice counts a flow against its device.
func (b *Builder) addDevice(f *FlowSummary, country string) {
	if b.devices == nil {
		b.devices = map[string]*DeviceRow{}
	}
	k := deviceKey(f)
	d := b.devices[k]
	if d == nil {
		i := &f.DeviceInfo
		d = &DeviceRow{Name: i.Name, NameSource: i.NameSource, MAC: i.MAC, Owner: i.Owner, Department: i.Department,
			addrs: map[string]struct{}{}, groups: map[string]struct{}{}, services: map[string]struct{}{}, countries: map[string]struct{}{}}
		b.devices[k] = d
		if i.Name != "" {
			b.namedDevices++
		}
	}
	d.Flows++
	d.Bytes += f.Bytes
	if f.Device.IsValid() {
		d.addrs[f.Device.String()] = struct{}{}
	}
	for _, g := range f.Groups {
		d.groups[g] = struct{}{}
	}
	if f.Service != "" {
		d.services[f.Service] = struct{}{}
	}
	if country != "" {
		d.countries[country] = struct{}{}
	}
}

func keys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Devices returns the devices section: named devices first (by name),
// then the others by address.
func (b *Builder) Devices() []DeviceRow {
	out := make([]DeviceRow, 0, len(b.devices))
	for _, d := range b.devices {
		r := *d
		r.Addresses, r.Groups, r.Services, r.Countries = keys(d.addrs), keys(d.groups), keys(d.services), keys(d.countries)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, c DeviceRow) int {
		if (a.Name == "") != (c.Name == "") {
			if a.Name != "" {
				return -1
			}
			return 1
		}
		if a.Name != c.Name {
			return strings.Compare(strings.ToLower(a.Name), strings.ToLower(c.Name))
		}
		return compareAddrs(a.Addresses, c.Addresses)
	})
	return out
}

func compareAddrs(a, b []string) int {
	if len(a) == 0 || len(b) == 0 {
		return len(a) - len(b)
	}
	x, _ := netip.ParseAddr(a[0])
	y, _ := netip.ParseAddr(b[0])
	return x.Compare(y)
}

// devicesMarkdown writes the devices section; nothing when no device is
// known by name (the report then reads as before).
func (b *Builder) devicesMarkdown(s *strings.Builder) {
	if b.namedDevices == 0 {
		return
	}
	devs := b.Devices()
	fmt.Fprintf(s, "\n## Devices\n\n%d devices, %d known by name.\n\n", len(devs), b.namedDevices)
	s.WriteString("| Device | MAC | Addresses | Group | Services | Countries | Flows | Bytes |\n")
	s.WriteString("|---|---|---|---|---|---|---:|---:|\n")
	for i, d := range devs {
		if i == maxDeviceRows {
			fmt.Fprintf(s, "\n%d more devices are in the JSON report.\n", len(devs)-i)
			break
		}
		name := d.Name
		if name != "" && d.NameSource != "" {
			name += " (" + d.NameSource + ")"
		}
		if d.Department != "" {
			name += ", " + d.Department
		}
		fmt.Fprintf(s, "| %s | %s | %s | %s | %s | %s | %d | %s |\n", orDash(md(name)), orDash(d.MAC),
			orDash(strings.Join(d.Addresses, ", ")), orDash(md(strings.Join(d.Groups, ", "))),
			orDash(md(strings.Join(d.Services, ", "))), orDash(strings.Join(d.Countries, ", ")), d.Flows, bytesHuman(d.Bytes))
	}
}

// maxDeviceRows caps the Markdown devices table.
const maxDeviceRows = 200

// namedDeviceList is the JSON devices section: every device when any is
// known by name, else none (the report then reads as before).
func (b *Builder) namedDeviceList() []DeviceRow {
	if b.namedDevices == 0 {
		return nil
	}
	return b.Devices()
}
