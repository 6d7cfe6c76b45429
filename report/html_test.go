package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ (*.golden.json, *.md)")

// residencySample is a government group restricted to GB and the EU
// countries it uses here, with a sensitive service, traffic to an outside
// cloud region, a small country drawn as a dot (SG), an anycast
// destination, and alerts with their evidence.
func residencySample() *Builder {
	t0 := time.Date(2025, 12, 1, 9, 0, 0, 0, time.UTC)
	gov1, gov2, gov3 := netip.MustParseAddr("10.20.1.5"), netip.MustParseAddr("10.20.1.6"), netip.MustParseAddr("10.20.1.7")
	guest := netip.MustParseAddr("192.168.7.9")
	b := New()
	b.Files = []string{"ministry.pcapng"}
	b.Approved = map[string][]string{"government": {"DE", "FR", "GB", "IE"}}
	b.Sensitive = []string{"bytedance", "tiktok"}
	gov := []string{"government"}
	add := func(dev netip.Addr, groups []string, f FlowSummary) {
		f.Device, f.Groups = dev, groups
		if f.First.IsZero() {
			f.First, f.Last = t0, t0.Add(time.Second)
		}
		b.AddFlow(f)
	}
	add(gov1, gov, FlowSummary{Service: "tiktok", Country: "US", Dst: netip.MustParseAddr("23.52.40.10"), Name: "www.tiktok.com",
		NameSource: "sni", ASN: 20940, Org: "Akamai International B.V.", PlaceSource: "geoip", Bytes: 40000, Packets: 40})
	add(gov1, gov, FlowSummary{Service: "tiktok", Country: "SG", Dst: netip.MustParseAddr("161.117.70.1"), Name: "api.tiktokv.com",
		NameSource: "quic", ASN: 45102, Org: "Alibaba US Technology Co., Ltd.", PlaceSource: "geoip", Bytes: 10000})
	add(gov2, gov, FlowSummary{Country: "US", Dst: netip.MustParseAddr("52.95.110.1"), Name: "files.example-share.com",
		NameSource: "dns", ASN: 16509, Org: "AMAZON-02", Cloud: "aws", Region: "us-east-1", PlaceSource: "aws", Bytes: 30000})
	add(gov2, gov, FlowSummary{Country: "GB", Dst: netip.MustParseAddr("81.2.69.142"), Name: "portal.example.co.uk",
		NameSource: "sni", PlaceSource: "geoip", Bytes: 15000})
	add(gov3, gov, FlowSummary{Country: "DE", Dst: netip.MustParseAddr("185.41.88.10"), Name: "crm.example-eu.eu",
		NameSource: "sni", Cloud: "azure", Region: "germanywestcentral", PlaceSource: "azure", Bytes: 4000})
	add(gov3, gov, FlowSummary{Indeterminate: true, Reason: "anycast (cloudflare)", Dst: netip.MustParseAddr("1.1.1.1"),
		Name: "one.one.one.one", Cloud: "cloudflare", PlaceSource: "cloudflare", Bytes: 1000})
	add(guest, nil, FlowSummary{Country: "NL", Dst: netip.MustParseAddr("93.184.216.34"), Name: "news.example.com", Bytes: 7000})
	b.AddAlert(Alert{Rule: "gov-sensitive-app", RuleName: "Government device contacted a sensitive service", Severity: "high",
		Groups: gov, Service: "tiktok", Country: "US", Device: gov1, Dst: netip.MustParseAddr("23.52.40.10"), Name: "www.tiktok.com",
		NameSource: "sni", PlaceSource: "geoip", CommunityID: "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", First: t0, Time: t0.Add(time.Second), Count: 1,
		Pcap: "20251201T090000Z-10.20.1.5-23.52.40.10-7.pcapng"})
	b.EvidenceDir = "evidence"
	b.AddAlert(Alert{Rule: "gov-sensitive-app", Groups: gov, Service: "tiktok", Country: "US", Device: gov1,
		Time: t0.Add(9 * time.Minute), Count: 4, Suppressed: 4})
	b.AddAlert(Alert{Rule: "gov-outside-approved", Severity: "medium", Groups: gov, Country: "US", Device: gov2,
		Dst: netip.MustParseAddr("52.95.110.1"), Name: "files.example-share.com", NameSource: "dns", PlaceSource: "aws",
		CommunityID: "1:9j2Dzwrw7T9E+IZi4b4IVT66HBI=", Time: t0.Add(3 * time.Minute), Count: 1})
	return b
}

// TestSummaryGolden checks the headline figures, and keeps the whole
// JSON document as a golden file.
func TestSummaryGolden(t *testing.T) {
	b := residencySample()
	s := b.Summary()
	if len(s) != 2 {
		t.Fatalf("Summary() = %d groups, want 2: %+v", len(s), s)
	}
	g := s[0]
	if g.Group != "government" || g.Devices != 3 || g.Flows != 6 || g.Bytes != 100000 ||
		g.SensitiveDevices != 1 || !slicesEqual(g.SensitiveServices, []string{"tiktok"}) || !g.Restricted ||
		g.OutsideBytes != 80000 || g.IndeterminateBytes != 1000 {
		t.Errorf("government = %+v", g)
	}
	if got := fmt.Sprint(g.OutsideCountries); got != "[{US 70000} {SG 10000}]" {
		t.Errorf("outside countries = %s", got)
	}
	if got := fmt.Sprint(g.OutsideOperators); got != "[{Akamai International B.V. 40000} {aws 30000} {Alibaba US Technology Co., Ltd. 10000}]" {
		t.Errorf("outside operators = %s", got)
	}
	if o := s[1]; o.Group != noGroup || o.Restricted || o.OutsideBytes != 0 || o.Bytes != 7000 {
		t.Errorf("no group = %+v", o)
	}

	var j bytes.Buffer
	if err := b.Write(&j, "json"); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "residency.golden.json")
	if *update {
		if err := os.WriteFile(golden, j.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(j.Bytes(), want) {
		t.Errorf("JSON report differs from %s (go test -update to accept):\n%s", golden, j.String())
	}
	var doc struct {
		AlertList TopList[AlertEntry] `json:"alert_list"`
		Times     AlertTimes          `json:"alert_times"`
	}
	if err := json.Unmarshal(j.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if a := doc.AlertList.Items[0]; a.Rule != "gov-sensitive-app" || a.Alerts != 1 || a.Suppressed != 4 ||
		a.CommunityID == "" || !a.Last.Equal(time.Date(2025, 12, 1, 9, 9, 0, 0, time.UTC)) {
		t.Errorf("first alert entry = %+v", a)
	}
	if doc.Times.Step != 10 || len(doc.Times.Rules) != 2 {
		t.Errorf("alert times = %+v", doc.Times)
	}
}

func slicesEqual(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") }

// TestHTMLSelfContained checks the page without a browser: the JSON
// document is embedded byte for byte and nothing refers outside the file.
func TestHTMLSelfContained(t *testing.T) {
	b := residencySample()
	var page, doc bytes.Buffer
	if err := b.Write(&page, "html"); err != nil {
		t.Fatal(err)
	}
	if err := b.Write(&doc, "json"); err != nil {
		t.Fatal(err)
	}
	if got := embeddedJSON(t, page.String()); got != doc.String() {
		t.Errorf("embedded JSON differs from the .json report")
	}
	// No URL of any scheme but the SVG namespace, no src= or href=, no @import or url().
	urls := regexp.MustCompile(`(?i)\b(?:https?|ftp|wss?)://[^\s"'<>)]+|\b(?:src|href)\s*=|@import|url\(`)
	for _, m := range urls.FindAllString(page.String(), -1) {
		if m != "http://www.w3.org/2000/svg" {
			t.Errorf("page refers outside itself: %q", m)
		}
	}
	if got, err := FormatFor("Report.HTML"); got != "html" || err != nil {
		t.Errorf("FormatFor(Report.HTML) = %q, %v", got, err)
	}
}

func embeddedJSON(t *testing.T, page string) string {
	t.Helper()
	const open = `<script type="application/json" id="egresswatch-report">`
	i := strings.Index(page, open)
	j := strings.Index(page[i+len(open):], "</script>")
	if i < 0 || j < 0 {
		t.Fatalf("no embedded report in the page")
	}
	return page[i+len(open) : i+len(open)+j]
}
