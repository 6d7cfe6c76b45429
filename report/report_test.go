package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func sample() *Builder {
	t0 := time.Date(2025, 12, 1, 9, 0, 0, 0, time.UTC)
	d1, d2 := netip.MustParseAddr("10.20.1.5"), netip.MustParseAddr("10.20.1.6")
	b := New()
	b.Files = []string{"sites.pcapng"}
	b.AddFlow(FlowSummary{Groups: []string{"government"}, Service: "tiktok", Country: "US", Device: d1,
		Dst: netip.MustParseAddr("92.122.95.99"), Name: "vcs-va.tiktokv.com", Bytes: 3000, Packets: 10, First: t0, Last: t0.Add(time.Minute)})
	b.AddFlow(FlowSummary{Groups: []string{"government"}, Service: "tiktok", Country: "US", Device: d2,
		Bytes: 1000, First: t0.Add(time.Hour), Last: t0.Add(2 * time.Hour)})
	b.AddFlow(FlowSummary{Groups: []string{"government"}, Country: "GB", Device: d1, Bytes: 500, First: t0, Last: t0})
	b.AddFlow(FlowSummary{Groups: []string{"government"}, Indeterminate: true, Reason: "anycast", Device: d1,
		Dst: netip.MustParseAddr("1.1.1.1"), Name: "one.one.one.one", Bytes: 500, First: t0, Last: t0})
	b.AddFlow(FlowSummary{Device: netip.MustParseAddr("192.168.1.1"), Country: "DE", Bytes: 1, First: t0, Last: t0})
	b.AddAlert(Alert{Rule: "gov-sensitive-app", Groups: []string{"government"}, Service: "tiktok", Country: "US", Device: d1, Time: t0, Count: 3})
	return b
}

func TestRows(t *testing.T) {
	rows := sample().Rows()
	if len(rows) != 4 {
		t.Fatalf("got %d rows: %+v", len(rows), rows)
	}
	r := rows[0]
	if r.Group != "government" || r.Service != "tiktok" || r.Country != "US" || r.Flows != 2 || r.Bytes != 4000 ||
		r.Devices != 2 || r.Alerts != 3 || r.Last != time.Date(2025, 12, 1, 11, 0, 0, 0, time.UTC) {
		t.Errorf("row 0 = %+v", r)
	}
	last := rows[3]
	if last.Group != noGroup || last.Service != noService || last.Country != "DE" {
		t.Errorf("row 3 = %+v", last)
	}
	ind := sample().TopIndeterminate(5)
	if len(ind) != 1 || ind[0].Name != "one.one.one.one" || ind[0].Reason != "anycast" || ind[0].Bytes != 500 {
		t.Errorf("indeterminate = %+v", ind)
	}
}

func TestWrite(t *testing.T) {
	b := sample()
	var md bytes.Buffer
	if err := b.Write(&md, "md"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# Data residency report",
		"**Scope:** `sites.pcapng`, from 2025-12-01T09:00:00Z to 2025-12-01T11:00:00Z: 5 egress flows from 3 devices.",
		"traffic went to 3 countries, mostly US (80%), GB (10%), DE (0%); 10% of the bytes went to destinations that could not be placed in one country. 3 alerts were raised, involving tiktok.",
		"| government | tiktok | US | 2 | 3.9 KiB | 2 | 2025-12-01T09:00:00Z | 2025-12-01T11:00:00Z | 3 |",
		"| 1.1.1.1 | one.one.one.one | anycast | 1 | 500 B | 1 |",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q\n%s", want, md.String())
		}
	}
	var c bytes.Buffer
	if err := b.Write(&c, "csv"); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&c).ReadAll()
	if err != nil || len(recs) != 5 || recs[1][0] != "government" || recs[1][4] != "4000" {
		t.Errorf("csv = %v, %v", recs, err)
	}
	var j bytes.Buffer
	if err := b.Write(&j, "json"); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Flows  uint64
		Alerts uint64
		Rows   []Row
	}
	if err := json.Unmarshal(j.Bytes(), &doc); err != nil || doc.Flows != 5 || doc.Alerts != 3 || len(doc.Rows) != 4 {
		t.Errorf("json = %+v, %v", doc, err)
	}
	if err := b.Write(&j, "pdf"); err == nil {
		t.Errorf("Write(pdf) succeeded")
	}
	for path, want := range map[string]string{"r.md": "md", "R.CSV": "csv", "x.json": "json"} {
		if got, err := FormatFor(path); got != want || err != nil {
			t.Errorf("FormatFor(%s) = %q, %v", path, got, err)
		}
	}
	if _, err := FormatFor("r.txt"); err == nil {
		t.Errorf("FormatFor(r.txt) succeeded")
	}
}

func TestEmpty(t *testing.T) {
	var md bytes.Buffer
	if err := New().Write(&md, "md"); err != nil || !strings.Contains(md.String(), "no traffic was seen") {
		t.Errorf("empty report: %v\n%s", err, md.String())
	}
}

// TestMarkdownGolden compares whole Markdown reports with
// testdata/NAME.md (go test -update rewrites them): plurals of one, the
// scope of a directory, the header of policy and placement data, the
// note on DNS-only rows and the list of alerts.
func TestMarkdownGolden(t *testing.T) {
	t0 := time.Date(2025, 12, 1, 9, 0, 0, 0, time.UTC)
	dev := netip.MustParseAddr("10.20.1.15")
	one := func() *Builder {
		b := New()
		b.Files = []string{"one.pcap"}
		b.Policy = "the built-in UK-government example (`egresswatch policy default`)"
		b.ApprovedRules = []string{"rule `gov-outside-approved` (from government): approved = UK, EEA, CH (32 countries)"}
		b.Placement = []string{"ip-location-db:geo-whois-asn-country (data/geo/geo-whois-asn-country.mmdb)"}
		b.AddFlow(FlowSummary{Groups: []string{"government"}, Country: "GB", Device: dev, Dst: netip.MustParseAddr("81.2.69.142"),
			Name: "www.gov.uk", Bytes: 2048, Packets: 4, First: t0, Last: t0.Add(time.Second)})
		b.AddAlert(Alert{Rule: "gov-sensitive-app", Groups: []string{"government"}, Service: "tiktok", Device: dev,
			Name: "www.tiktok.com", DNSOnly: true, Time: t0, Count: 1})
		return b
	}
	for _, tt := range []struct {
		name string
		b    func() *Builder
	}{
		{"sample", sample},
		{"one", one},
		{"directory", func() *Builder {
			b := one()
			b.Inputs = []string{"captures/"}
			b.Files = nil
			for i := range 478 {
				b.Files = append(b.Files, fmt.Sprintf("captures/%03d.pcap", i))
			}
			b.Skipped, b.FileErrs = 3, 1
			return b
		}},
		{"no-placement", func() *Builder {
			b := one()
			b.Placement = []string{}
			b.PlacementWarning = "no placement data was found (no GeoIP country database, no cloud ranges): fix it."
			// Repeats of the alert, closed by a suppression window.
			b.AddAlert(Alert{Rule: "gov-sensitive-app", Groups: []string{"government"}, Service: "tiktok", Device: dev,
				Time: t0.Add(time.Minute), Count: 4, Repeats: true})
			return b
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got bytes.Buffer
			if err := tt.b().Write(&got, "md"); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tt.name+".md")
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != string(want) {
				t.Errorf("%s differs (go test -update to accept):\n%s", golden, got.String())
			}
		})
	}
}

func TestPlural(t *testing.T) {
	for _, tt := range []struct {
		n    uint64
		noun string
		want string
	}{
		{0, "flow", "0 flows"}, {1, "flow", "1 flow"}, {1, "country", "1 country"},
		{2, "country", "2 countries"}, {1, "device", "1 device"}, {3, "egress flow", "3 egress flows"},
	} {
		if got := plural(tt.n, tt.noun); got != tt.want {
			t.Errorf("plural(%d, %q) = %q; want %q", tt.n, tt.noun, got, tt.want)
		}
	}
}
