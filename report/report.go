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
}

// Builder accumulates flows and alerts.
type Builder struct {
	Files []string // the inputs, for the scope line
	// OnFlow, when set, is given every flow AddFlow counts (a sensor that
	// publishes them for a fleet report).
	OnFlow func(FlowSummary)
	// ForwardOnly keeps nothing: flows go to OnFlow only (a sensor that
	// publishes them and writes no report of its own).
	ForwardOnly bool
	rows        map[rowKey]*Row
	indet       map[indetKey]*Indeterminate
	first       time.Time
	last        time.Time
	flows       uint64
	devs        map[netip.Addr]struct{}
	nAlerts     uint64
}

// New returns an empty Builder.
func New() *Builder {
	return &Builder{rows: map[rowKey]*Row{}, indet: map[indetKey]*Indeterminate{}, devs: map[netip.Addr]struct{}{}}
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
	devices map[netip.Addr]struct{}
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
		r = &Row{Group: group, Service: service, Country: ctry, devices: map[netip.Addr]struct{}{}}
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
	b.flows++
	b.devs[f.Device] = struct{}{}
	span(&b.first, &b.last, f.First, f.Last)
	groups := f.Groups
	if len(groups) == 0 {
		groups = []string{""}
	}
	c := country(f.Country, f.Indeterminate)
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
}

// AddAlert counts an alert against its group × service × country rows.
func (b *Builder) AddAlert(a Alert) {
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
	out := make([]Indeterminate, 0, len(b.indet))
	for _, d := range b.indet {
		c := *d
		c.Devices = len(d.devices)
		out = append(out, c)
	}
	slices.SortFunc(out, func(x, y Indeterminate) int {
		return cmp.Or(cmp.Compare(y.Bytes, x.Bytes), cmp.Compare(y.Flows, x.Flows), x.Dst.Compare(y.Dst), cmp.Compare(x.Name, y.Name))
	})
	return out[:min(n, len(out))]
}

// FormatFor returns the format for a report file name: md, csv or json.
func FormatFor(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".md", ".markdown":
		return "md", nil
	case ".csv":
		return "csv", nil
	case ".json":
		return "json", nil
	}
	return "", fmt.Errorf("report %s: unknown format (use .md, .csv or .json)", path)
}

// Write writes the report in format md, csv or json.
func (b *Builder) Write(w io.Writer, format string) error {
	switch format {
	case "md", "markdown":
		return b.writeMarkdown(w)
	case "csv":
		return b.writeCSV(w)
	case "json":
		return b.writeJSON(w)
	}
	return fmt.Errorf("report: unknown format %q (want md, csv or json)", format)
}

const topN = 20

func (b *Builder) writeJSON(w io.Writer) error {
	e := json.NewEncoder(w)
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
	}{b.Files, b.first, b.last, b.flows, len(b.devs), b.nAlerts, b.Rows(), b.TopIndeterminate(topN)})
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
	files := "the traffic given"
	if len(b.Files) > 0 {
		files = "`" + strings.Join(b.Files, "`, `") + "`"
	}
	fmt.Fprintf(&s, "**Scope:** %s, from %s to %s: %d flows from %d devices.\n\n",
		files, orDash(ts(b.first)), orDash(ts(b.last)), b.flows, len(b.devs))

	// Finding: what left, where, and what was flagged.
	countries := map[string]uint64{}
	var sensitive []string
	var placedBytes, indetBytes uint64
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
	}
	top := make([]string, 0, len(countries))
	for c := range countries {
		top = append(top, c)
	}
	slices.SortFunc(top, func(x, y string) int { return cmp.Or(cmp.Compare(countries[y], countries[x]), cmp.Compare(x, y)) })
	s.WriteString("**Finding:** ")
	if b.flows == 0 {
		s.WriteString("no traffic was seen.")
	} else {
		fmt.Fprintf(&s, "traffic went to %d countries", len(countries))
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
			fmt.Fprintf(&s, "%d alerts were raised", b.nAlerts)
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
	if ind := b.TopIndeterminate(topN); len(ind) > 0 {
		s.WriteString("\n## Destinations that could not be placed\n\n")
		s.WriteString("| Destination | Name | Why | Flows | Bytes | Devices |\n|---|---|---|---:|---:|---:|\n")
		for _, d := range ind {
			fmt.Fprintf(&s, "| %s | %s | %s | %d | %s | %d |\n", d.Dst, orDash(md(d.Name)), orDash(md(d.Reason)), d.Flows, bytesHuman(d.Bytes), d.Devices)
		}
	}
	if _, err := io.WriteString(w, s.String()); err != nil {
		return fmt.Errorf("report markdown: %w", err)
	}
	return nil
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
