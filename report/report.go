package report

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FlowSummary is one finished (or still open) flow.
type FlowSummary struct {
	Groups        []string
	Service       string
	Country       string
	Indeterminate bool
	Reason        string
	Dst           netip.Addr
	Name          string
	Device        netip.Addr
	Bytes         uint64
	Packets       uint64
	First, Last   time.Time

	// Evidence for the HTML report's drill-down tables; zero = unknown.
	// The pipeline copies them from geo.Placement and track.FlowMeta.
	ASN         uint32     // destination.as.number
	Org         string     // destination.as.organization.name
	Cloud       string     // cloud.provider ("aws"); "" outside known cloud ranges
	Region      string     // cloud.region
	PlaceSource string     // egresswatch.placement.source
	NameSource  string     // egresswatch.name_source: sni, quic, http, dns
	DeviceInfo  DeviceInfo // the device's name, MAC, owner (devices.go)
}

// Alert is one emitted alert (Count > 1 when it stands for suppressed
// repeats too).
type Alert struct {
	Rule    string
	Groups  []string
	Service string
	Country string
	Device  netip.Addr
	Time    time.Time
	Count   uint64

	// Evidence, as in the alert's egresswatch.evidence; zero = unknown.
	// Alerts with the same Rule, Device, Service and Country (the
	// suppression key) are listed as one entry in the JSON report.
	RuleName    string     // rule.name
	Severity    string     // log.level: low, medium, high, critical
	Dst         netip.Addr // destination.ip
	Name        string     // destination.domain
	NameSource  string     // evidence.name_source
	PlaceSource string     // evidence.placement_source
	CommunityID string     // network.community_id of the flow
	First       time.Time  // evidence.first_seen (the flow's start); zero: Time
	Suppressed  uint64     // on a suppressed-summary alert: the repeats it stands for (= Count)
	Pcap        string     // evidence.pcap: the flow's evidence capture, in Builder.EvidenceDir
	DNSOnly     bool       // the device resolved the name; no connection was seen
	Repeats     bool       // a suppression summary: Count repeats of an alert added before
}

// Builder accumulates flows and alerts.
type Builder struct {
	Files []string   // the inputs, for the scope line
	mu    sync.Mutex // AddFlow and AddAlert against Save and Snapshot (state.go)
	// OnFlow, when set, is given every flow AddFlow counts (a sensor that
	// publishes them for a fleet report).
	OnFlow func(FlowSummary)
	// ForwardOnly keeps nothing: flows go to OnFlow only, alerts nowhere
	// (a sensor that publishes them and writes no report of its own).
	ForwardOnly bool

	// Approved maps a device group to the ISO 3166-1 alpha-2 codes its
	// traffic may go to (the countries of its rules' allow sets). A group
	// without an entry has no jurisdiction rule. Set before the first
	// AddFlow; the HTML and JSON reports use it to tell approved from not.
	Approved map[string][]string
	// Sensitive lists the services that rules name (to: [...]): the
	// headline counts the devices that reached them. Set before AddFlow.
	Sensitive []string
	// EvidenceDir is where alerts' evidence captures are (--evidence),
	// relative to the report's own folder; the HTML report links them.
	EvidenceDir string

	rows    map[rowKey]*Row
	indet   map[indetKey]*Indeterminate
	first   time.Time
	last    time.Time
	flows   uint64
	devs    map[netip.Addr]struct{}
	nAlerts uint64
	detail  detail

	devices      map[string]*DeviceRow // devices.go
	namedDevices int

	// Placement lists the placement data used, one source each;
	// PlacementWarning, when set, says what was missing and how to fix
	// it, at the top of the report.
	Placement        []string
	PlacementWarning string
	// For the Markdown header, all optional: the paths given (Files are
	// what they expanded to), files skipped as not captures and files
	// with errors, the policy used and its approved jurisdictions, one
	// line per rule.
	Inputs            []string
	Skipped, FileErrs int
	Policy            string
	ApprovedRules     []string
	alertList         map[lineKey]*alertLine
	lastLine          map[repeatKey]*alertLine // where a suppression summary's repeats go
}

// New returns an empty Builder.
func New() *Builder {
	return &Builder{rows: map[rowKey]*Row{}, indet: map[indetKey]*Indeterminate{}, devs: map[netip.Addr]struct{}{},
		detail: newDetail(), alertList: map[lineKey]*alertLine{}}
}

// lineKey and alertLine are the Markdown report's list of alerts: one
// line per rule, device and destination.
type lineKey struct {
	rule   string
	device netip.Addr
	dst    netip.Addr
	name   string
}

type repeatKey struct {
	rule             string
	device           netip.Addr
	service, country string
}

type alertLine struct {
	lineKey
	service, country string
	dnsOnly          bool
	count            uint64
	first, last      time.Time
}

type rowKey struct{ group, service, country string }

// Row is one group × service × country line.
type Row struct {
	Group   string    `json:"group"`
	Service string    `json:"service"`
	Country string    `json:"country"`
	Flows   uint64    `json:"flows"`
	Bytes   uint64    `json:"bytes"`
	Devices int       `json:"devices"`
	First   time.Time `json:"first_seen"`
	Last    time.Time `json:"last_seen"`
	Alerts  uint64    `json:"alerts"`
	// Residency is "approved" or "outside" (the group's approved
	// jurisdictions), "indeterminate", or "" when the group has none.
	Residency string `json:"residency,omitempty"`
	devices   map[netip.Addr]struct{}
}

type indetKey struct {
	dst  netip.Addr
	name string
}

// Indeterminate is a destination that could not be placed.
type Indeterminate struct {
	Dst     netip.Addr `json:"destination.ip"`
	Name    string     `json:"destination.domain,omitempty"`
	Reason  string     `json:"reason"`
	Flows   uint64     `json:"flows"`
	Bytes   uint64     `json:"bytes"`
	Devices int        `json:"devices"`
	devices map[netip.Addr]struct{}
}

const (
	noGroup      = "(no group)"
	noService    = "(other)"
	indetCountry = "indeterminate"
	unknown      = "unknown"
)

func country(c string, indeterminate bool) string {
	switch {
	case indeterminate:
		return indetCountry
	case c == "":
		return unknown
	}
	return c
}

func (b *Builder) row(group, service, ctry string) *Row {
	if group == "" {
		group = noGroup
	}
	if service == "" {
		service = noService
	}
	k := rowKey{group, service, ctry}
	r := b.rows[k]
	if r == nil {
		r = &Row{Group: group, Service: service, Country: ctry, Residency: b.residency(group, ctry), devices: map[netip.Addr]struct{}{}}
		b.rows[k] = r
	}
	return r
}

func span(first, last *time.Time, f, l time.Time) {
	if !f.IsZero() && (first.IsZero() || f.Before(*first)) {
		*first = f
	}
	if l.After(*last) {
		*last = l
	}
}

// AddFlow counts a flow in every group it belongs to.
func (b *Builder) AddFlow(f FlowSummary) {
	if b.OnFlow != nil {
		b.OnFlow(f)
		if b.ForwardOnly {
			return
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flows++
	b.devs[f.Device] = struct{}{}
	span(&b.first, &b.last, f.First, f.Last)
	groups := f.Groups
	if len(groups) == 0 {
		groups = []string{""}
	}
	c := country(f.Country, f.Indeterminate)
	b.addDevice(&f, c)
	for _, g := range groups {
		r := b.row(g, f.Service, c)
		r.Flows++
		r.Bytes += f.Bytes
		r.devices[f.Device] = struct{}{}
		span(&r.First, &r.Last, f.First, f.Last)
	}
	if f.Indeterminate || f.Country == "" {
		k := indetKey{f.Dst, f.Name}
		d := b.indet[k]
		if d == nil {
			d = &Indeterminate{Dst: f.Dst, Name: f.Name, Reason: f.Reason, devices: map[netip.Addr]struct{}{}}
			b.indet[k] = d
		}
		d.Flows++
		d.Bytes += f.Bytes
		d.devices[f.Device] = struct{}{}
	}
	b.addFlowDetail(&f, groups, c)
}

// AddAlert counts an alert against its group × service × country rows.
func (b *Builder) AddAlert(a Alert) {
	if b.ForwardOnly {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	n := max(a.Count, 1)
	b.nAlerts += n
	groups := a.Groups
	if len(groups) == 0 {
		groups = []string{""}
	}
	for _, g := range groups {
		r := b.row(g, a.Service, country(a.Country, a.Country == ""))
		r.Alerts += n
		span(&r.First, &r.Last, a.Time, a.Time)
	}
	b.addAlertDetail(&a, n)

	if b.alertList == nil {
		b.alertList = map[lineKey]*alertLine{}
	}
	if b.lastLine == nil {
		b.lastLine = map[repeatKey]*alertLine{}
	}
	rk := repeatKey{a.Rule, a.Device, a.Service, a.Country}
	l := b.lastLine[rk]
	if !a.Repeats || l == nil {
		k := lineKey{a.Rule, a.Device, a.Dst, a.Name}
		if l = b.alertList[k]; l == nil {
			l = &alertLine{lineKey: k, service: a.Service, country: a.Country, dnsOnly: a.DNSOnly}
			b.alertList[k] = l
		}
		l.dnsOnly = l.dnsOnly && a.DNSOnly
		b.lastLine[rk] = l
	}
	l.count += n
	span(&l.first, &l.last, a.Time, a.Time)
}

// alerts returns the alert lines in the order they were first raised.
func (b *Builder) alerts() []alertLine {
	out := make([]alertLine, 0, len(b.alertList))
	for _, l := range b.alertList {
		out = append(out, *l)
	}
	slices.SortFunc(out, func(x, y alertLine) int {
		return cmp.Or(x.first.Compare(y.first), cmp.Compare(x.rule, y.rule), x.device.Compare(y.device),
			x.dst.Compare(y.dst), cmp.Compare(x.name, y.name))
	})
	return out
}

// Rows returns the table, most bytes first.
func (b *Builder) Rows() []Row {
	out := make([]Row, 0, len(b.rows))
	for _, r := range b.rows {
		c := *r
		c.Devices = len(r.devices)
		out = append(out, c)
	}
	slices.SortFunc(out, func(x, y Row) int {
		return cmp.Or(cmp.Compare(y.Bytes, x.Bytes), cmp.Compare(x.Group, y.Group),
			cmp.Compare(x.Service, y.Service), cmp.Compare(x.Country, y.Country))
	})
	return out
}

// TopIndeterminate returns up to n unplaced destinations, most bytes first.
func (b *Builder) TopIndeterminate(n int) []Indeterminate {
	out := values(b.indet, func(c, d *Indeterminate) { c.Devices = len(d.devices) }, func(x, y Indeterminate) int {
		return destRank{x.Bytes, x.Flows, x.Dst, x.Name}.compare(destRank{y.Bytes, y.Flows, y.Dst, y.Name})
	})
	return out[:min(n, len(out))]
}

// FormatFor returns the format for a report file name: md, csv, json or html.
func FormatFor(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".html", ".htm":
		return "html", nil
	case ".md", ".markdown":
		return "md", nil
	case ".csv":
		return "csv", nil
	case ".json":
		return "json", nil
	}
	return "", fmt.Errorf("report %s: unknown format (use .md, .csv, .json or .html)", path)
}

// Write writes the report in format md, csv, json or html.
func (b *Builder) Write(w io.Writer, format string) error {
	switch format {
	case "md", "markdown":
		return b.writeMarkdown(w)
	case "csv":
		return b.writeCSV(w)
	case "json":
		return b.writeJSON(w)
	case "html":
		return b.writeHTML(w)
	}
	return fmt.Errorf("report: unknown format %q (want md, csv, json or html)", format)
}

const topN = 20

func (b *Builder) writeJSON(w io.Writer) error {
	e := json.NewEncoder(w) // escapes <, > and &: the HTML report embeds these bytes as they are
	e.SetIndent("", "  ")
	err := e.Encode(struct {
		Files         []string        `json:"files"`
		First         time.Time       `json:"first_seen"`
		Last          time.Time       `json:"last_seen"`
		Flows         uint64          `json:"flows"`
		Devices       int             `json:"devices"`
		Alerts        uint64          `json:"alerts"`
		Rows          []Row           `json:"rows"`
		Indeterminate []Indeterminate `json:"top_indeterminate"`
		NamedDevices  int             `json:"named_devices,omitempty"`
		DevicesByName []DeviceRow     `json:"devices_by_name,omitempty"` // devices known by name (DHCP, NBNS, the inventory)
		documentDetail
	}{b.Files, b.first, b.last, b.flows, len(b.devs), b.nAlerts, b.Rows(), b.TopIndeterminate(topN), b.namedDevices, b.namedDeviceList(), b.documentDetail()})
	if err != nil {
		return fmt.Errorf("report json: %w", err)
	}
	return nil
}

func (b *Builder) writeCSV(w io.Writer) error {
	c := csv.NewWriter(w)
	_ = c.Write([]string{"group", "service", "country", "flows", "bytes", "devices", "first_seen", "last_seen", "alerts"})
	for _, r := range b.Rows() {
		_ = c.Write([]string{r.Group, r.Service, r.Country, u(r.Flows), u(r.Bytes), strconv.Itoa(r.Devices),
			ts(r.First), ts(r.Last), u(r.Alerts)})
	}
	c.Flush()
	if err := c.Error(); err != nil {
		return fmt.Errorf("report csv: %w", err)
	}
	return nil
}

func u(v uint64) string { return strconv.FormatUint(v, 10) }

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (b *Builder) writeMarkdown(w io.Writer) error {
	var s strings.Builder
	rows := b.Rows()
	s.WriteString("# Data residency report\n\n")
	if b.PlacementWarning != "" {
		fmt.Fprintf(&s, "> **Warning: placement data is missing or incomplete.** %s\n\n", b.PlacementWarning)
	}
	fmt.Fprintf(&s, "**Scope:** %s, from %s to %s: %s from %s. ", b.scope(),
		orDash(ts(b.first)), orDash(ts(b.last)), plural(b.flows, "egress flow"), plural(uint64(len(b.devs)), "device"))
	s.WriteString("Only egress is counted: flows between internal addresses are left out " +
		"(the run summary on stderr counts every flow).\n\n")
	if b.Policy != "" {
		fmt.Fprintf(&s, "**Policy:** %s.", b.Policy)
		if len(b.ApprovedRules) > 0 {
			fmt.Fprintf(&s, " Approved jurisdictions: %s.", strings.Join(b.ApprovedRules, "; "))
		}
		s.WriteString("\n\n")
	}
	if b.Placement != nil || b.PlacementWarning != "" {
		src := "none"
		if len(b.Placement) > 0 {
			src = "`" + strings.Join(b.Placement, "`, `") + "`"
		}
		fmt.Fprintf(&s, "**Placement data:** %s.\n\n", src)
	}

	// Finding: what left, where, and what was flagged.
	countries := map[string]uint64{}
	var sensitive []string
	var placedBytes, indetBytes uint64
	dnsOnlyRows := false
	for _, r := range rows {
		switch r.Country {
		case indetCountry, unknown:
			indetBytes += r.Bytes
		default:
			countries[r.Country] += r.Bytes
			placedBytes += r.Bytes
		}
		if r.Service != noService && r.Alerts > 0 && !slices.Contains(sensitive, r.Service) {
			sensitive = append(sensitive, r.Service)
		}
		dnsOnlyRows = dnsOnlyRows || (r.Flows == 0 && r.Alerts > 0)
	}
	top := make([]string, 0, len(countries))
	for c := range countries {
		top = append(top, c)
	}
	slices.SortFunc(top, func(x, y string) int { return cmp.Or(cmp.Compare(countries[y], countries[x]), cmp.Compare(x, y)) })
	s.WriteString("**Finding:** ")
	if b.flows == 0 {
		s.WriteString("no traffic was seen.")
		if b.nAlerts > 0 {
			fmt.Fprintf(&s, " %s raised on DNS lookups alone.", wasWere(b.nAlerts, "alert"))
		}
	} else {
		fmt.Fprintf(&s, "traffic went to %s", plural(uint64(len(countries)), "country"))
		if len(top) > 0 {
			parts := make([]string, 0, 3)
			for _, c := range top[:min(3, len(top))] {
				parts = append(parts, fmt.Sprintf("%s (%s)", c, pct(countries[c], placedBytes+indetBytes)))
			}
			fmt.Fprintf(&s, ", mostly %s", strings.Join(parts, ", "))
		}
		fmt.Fprintf(&s, "; %s of the bytes went to destinations that could not be placed in one country. ", pct(indetBytes, placedBytes+indetBytes))
		if b.nAlerts == 0 {
			s.WriteString("No policy rule was broken.")
		} else {
			fmt.Fprintf(&s, "%s raised", wasWere(b.nAlerts, "alert"))
			if len(sensitive) > 0 {
				fmt.Fprintf(&s, ", involving %s", strings.Join(sensitive, ", "))
			}
			s.WriteString(".")
		}
	}
	s.WriteString("\n\n## Traffic by device group, service and country\n\n")
	s.WriteString("| Group | Service | Country | Flows | Bytes | Devices | First seen | Last seen | Alerts |\n")
	s.WriteString("|---|---|---|---:|---:|---:|---|---|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(&s, "| %s | %s | %s | %d | %s | %d | %s | %s | %d |\n", md(r.Group), md(r.Service), r.Country,
			r.Flows, bytesHuman(r.Bytes), r.Devices, orDash(ts(r.First)), orDash(ts(r.Last)), r.Alerts)
	}
	if dnsOnlyRows {
		s.WriteString("\nA row with alerts but no flows is a DNS lookup alone: a device resolved the name, " +
			"and no connection to it was seen.\n")
	}
	if ind := b.TopIndeterminate(topN); len(ind) > 0 {
		s.WriteString("\n## Destinations that could not be placed\n\n")
		s.WriteString("| Destination | Name | Why | Flows | Bytes | Devices |\n|---|---|---|---:|---:|---:|\n")
		for _, d := range ind {
			fmt.Fprintf(&s, "| %s | %s | %s | %d | %s | %d |\n", d.Dst, orDash(md(d.Name)), orDash(md(d.Reason)), d.Flows, bytesHuman(d.Bytes), d.Devices)
		}
	}
	if al := b.alerts(); len(al) > 0 {
		s.WriteString("\n## Alerts\n\n")
		s.WriteString("| Rule | Device | Destination | Service | Country | Alerts | First | Last |\n")
		s.WriteString("|---|---|---|---|---|---:|---|---|\n")
		for _, l := range al[:min(alertsN, len(al))] {
			dst := l.name
			if l.dst.IsValid() {
				dst = strings.TrimSpace(l.name + " " + l.dst.String())
			}
			if l.dnsOnly {
				dst += " (DNS lookup only)"
			}
			fmt.Fprintf(&s, "| %s | %s | %s | %s | %s | %d | %s | %s |\n", md(l.rule), l.device, orDash(md(dst)),
				orDash(md(l.service)), orDash(l.country), l.count, orDash(ts(l.first)), orDash(ts(l.last)))
		}
		if len(al) > alertsN {
			fmt.Fprintf(&s, "\n%d more lines of alerts are in the alerts output.\n", len(al)-alertsN)
		}
	}
	b.devicesMarkdown(&s)
	if _, err := io.WriteString(w, s.String()); err != nil {
		return fmt.Errorf("report markdown: %w", err)
	}
	return nil
}

// alertsN caps the Markdown report's list of alerts.
const alertsN = 100

// scope names what was read: the paths given, or the files, with counts
// of files read, skipped and with errors when they differ from the
// paths.
func (b *Builder) scope() string {
	inputs := b.Inputs
	if len(inputs) == 0 {
		inputs = b.Files
	}
	if len(inputs) == 0 {
		return "the traffic given"
	}
	var out string
	if len(inputs) <= 5 {
		out = "`" + strings.Join(inputs, "`, `") + "`"
	} else {
		out = fmt.Sprintf("%d paths (`%s` … `%s`)", len(inputs), inputs[0], inputs[len(inputs)-1])
	}
	read := max(0, len(b.Files)-b.Skipped)
	if len(b.Files) == len(inputs) && b.Skipped == 0 && b.FileErrs == 0 {
		return out
	}
	parts := []string{plural(uint64(read), "file") + " read"}
	if b.Skipped > 0 {
		parts = append(parts, fmt.Sprintf("%d skipped as not captures", b.Skipped))
	}
	if b.FileErrs > 0 {
		parts = append(parts, fmt.Sprintf("%d with errors", b.FileErrs))
	}
	return out + " (" + strings.Join(parts, ", ") + ")"
}

// plural returns "1 flow", "2 flows", "1 country", "3 countries".
func plural(n uint64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") && !strings.HasSuffix(noun, "ey") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// wasWere returns "1 alert was" or "3 alerts were".
func wasWere(n uint64, noun string) string {
	if n == 1 {
		return plural(n, noun) + " was"
	}
	return plural(n, noun) + " were"
}

func md(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func pct(a, total uint64) string {
	if total == 0 {
		return "0%"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(a)/float64(total))
}

// Bytes writes n as the report does: 500 B, 3.9 KiB, 1.2 GiB.
func Bytes(n uint64) string { return bytesHuman(n) }

func bytesHuman(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
