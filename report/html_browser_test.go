package report

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The browser tests open the HTML report in headless Chromium (Debian's
// chromium package; `make deps` installs it as root) and skip without it.
// Screenshots at 1280×800 go to $EGRESSWATCH_SCREENSHOTS when set (kept),
// else to the test's temporary directory.

// page is a report opened in a browser, with what the browser reported.
type page struct {
	ctx      context.Context
	url      string
	mu       sync.Mutex
	problems []string // console errors, exceptions, error log entries
	requests []string // every URL requested other than the page itself
}

func chromium(t *testing.T) string {
	t.Helper()
	// Debian's /usr/bin/chromium is a shell wrapper; the binary behind it
	// takes the DevTools pipe directly.
	if _, err := os.Stat("/usr/lib/chromium/chromium"); err == nil {
		return "/usr/lib/chromium/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH: install Debian's chromium (make deps as root) to run the browser tests")
	return ""
}

// open writes the report of b to an HTML file and loads it in a 1280×800 window.
func open(t *testing.T, b *Builder) *page {
	t.Helper()
	exe := chromium(t)
	file := filepath.Join(t.TempDir(), "report.html")
	var buf bytes.Buffer
	if err := b.Write(&buf, "html"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return openFile(t, exe, file)
}

func openFile(t *testing.T, exe, file string) *page {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 800), chromedp.Flag("disable-gpu", true), chromedp.Flag("hide-scrollbars", true))
	p := &page{url: "file://" + file}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	p.ctx = ctx

	// Subscribe before loading (this starts the browser), collect as events come.
	console := chromedp.Console(ctx)
	requests := chromedp.Events(ctx, network.RequestWillBeSent)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning || m.Type == chromedp.ConsoleException {
				p.add(&p.problems, fmt.Sprintf("console %s: %s", m.Type, m.Text))
			}
		}
	}()
	go func() {
		for e, err := range requests {
			if err != nil {
				return
			}
			if u := e.Request.URL; u != p.url {
				p.add(&p.requests, u)
			}
		}
	}()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate(p.url), chromedp.WaitReady(chromedp.CSS(`body[data-ready="1"]`))); err != nil {
		t.Fatalf("load %s: %v", file, err)
	}
	t.Logf("%s: loaded and drawn in %v", filepath.Base(file), time.Since(start).Round(time.Millisecond))
	return p
}

func (p *page) add(list *[]string, s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	*list = append(*list, s)
}

// clean fails the test on console errors or on any request the page made.
func (p *page) clean(t *testing.T) {
	t.Helper()
	// Resources the page loaded, as the page itself counts them.
	if n := eval[int](t, p, `performance.getEntriesByType("resource").length`); n != 0 {
		t.Errorf("page loaded %d resources; it must need nothing outside itself", n)
	}
	time.Sleep(100 * time.Millisecond) // let the last events arrive
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.problems {
		t.Errorf("browser: %s", s)
	}
	for _, u := range p.requests {
		t.Errorf("page requested %s; it must need nothing outside itself", u)
	}
}

func eval[T any](t *testing.T, p *page, js string) T {
	t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

func (p *page) screenshot(t *testing.T, name string, full bool) {
	t.Helper()
	dir := os.Getenv("EGRESSWATCH_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	act := chromedp.CaptureScreenshot()
	if full {
		act = chromedp.FullScreenshot(100) // 100: PNG
	}
	png, err := chromedp.Run(p.ctx, act)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", path)
}

func TestHTMLInBrowser(t *testing.T) {
	b := residencySample()
	p := open(t, b)
	p.screenshot(t, "report-1280x800.png", false)

	t.Run("embedded JSON is the .json report", func(t *testing.T) {
		var want bytes.Buffer
		if err := b.Write(&want, "json"); err != nil {
			t.Fatal(err)
		}
		got := eval[string](t, p, `document.getElementById("egresswatch-report").textContent`)
		if got != want.String() {
			t.Errorf("embedded document differs from the .json report")
		}
	})

	t.Run("headline", func(t *testing.T) {
		text := eval[string](t, p, `document.getElementById("sentences").innerText`)
		for _, want := range []string{
			"1 of 3 government devices reached sensitive services: tiktok.",
			"80% of their bytes (78 KiB of 98 KiB) left the approved jurisdictions (4 countries): to United States of America 70% and Singapore 10%, run by Akamai International B.V. (40%), aws (30%) and Alibaba US Technology Co., Ltd. (10%).",
			"1% (1000 B) went to destinations that could not be placed in one country",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("headline lacks %q:\n%s", want, text)
			}
		}
	})

	t.Run("map colours", func(t *testing.T) {
		// country -> residency, fill, element
		got := eval[map[string][]string](t, p, `Object.fromEntries([...document.querySelectorAll("#map [data-cc]")]
			.filter(e => ["US","SG","GB","DE","FR","NL","CN"].includes(e.dataset.cc))
			.map(e => [e.dataset.cc, [e.dataset.residency || "", e.getAttribute("fill"), e.tagName]]))`)
		for cc, want := range map[string]string{"US": "outside", "SG": "outside", "GB": "approved", "DE": "approved", "FR": "", "NL": "", "CN": ""} {
			g := got[cc]
			if len(g) != 3 || g[0] != want {
				t.Errorf("%s = %v, want residency %q", cc, g, want)
				continue
			}
			r, gr, bl := hexRGB(t, g[1])
			switch want {
			case "outside": // orange: red well above blue
				if r-bl < 60 {
					t.Errorf("%s fill %s is not orange", cc, g[1])
				}
			case "approved": // blue
				if bl-r < 30 {
					t.Errorf("%s fill %s is not blue", cc, g[1])
				}
			default: // no traffic from the group: the neutral land colour
				if g[1] != "#dfe3e0" {
					t.Errorf("%s fill %s, want the no-traffic grey", cc, g[1])
				}
			}
			_ = gr
		}
		if got["SG"][2] != "circle" {
			t.Errorf("Singapore drawn as %s, want a dot", got["SG"][2])
		}
		// US carries more bytes than SG: a darker orange.
		if r1, g1, b1 := hexRGB(t, got["US"][1]); true {
			r2, g2, b2 := hexRGB(t, got["SG"][1])
			if r1+g1+b1 >= r2+g2+b2 {
				t.Errorf("US %s is not darker than SG %s", got["US"][1], got["SG"][1])
			}
		}
	})

	t.Run("sort and filter", func(t *testing.T) {
		col := func() []string {
			return eval[[]string](t, p, `[...document.querySelectorAll("#t-dests tbody tr")].map(r => r.cells[0].textContent)`)
		}
		before := col()
		if len(before) != 7 || before[0] != "www.tiktok.com" {
			t.Fatalf("destinations by bytes = %v", before)
		}
		if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(`#t-dests th:first-child button`))); err != nil {
			t.Fatal(err)
		}
		sorted := col()
		if sorted[0] != "api.tiktokv.com" || sorted[6] != "www.tiktok.com" {
			t.Errorf("destinations by name = %v", sorted)
		}
		if err := chromedp.Do(p.ctx, chromedp.SendKeys(chromedp.CSS(`#t-dests input`), "tiktok")); err != nil {
			t.Fatal(err)
		}
		filtered := col()
		if strings.Join(filtered, " ") != "api.tiktokv.com www.tiktok.com" {
			t.Errorf("filtered on tiktok = %v", filtered)
		}
		count := eval[string](t, p, `document.querySelector("#t-dests .count").textContent`)
		if count != "2 of 7 rows" {
			t.Errorf("count = %q", count)
		}
		if err := chromedp.Do(p.ctx, chromedp.Evaluate[chromedp.Void](`(i => { i.value = ""; i.dispatchEvent(new Event("input")); })(document.querySelector("#t-dests input"))`),
			chromedp.SendKeys(chromedp.CSS(`#t-dests input`), "US aws")); err != nil {
			t.Fatal(err)
		}
		if got := col(); strings.Join(got, " ") != "files.example-share.com" {
			t.Errorf("filtered on 'US aws' = %v", got)
		}
	})

	t.Run("alert evidence", func(t *testing.T) {
		rows := eval[[][]string](t, p, `[...document.querySelectorAll("#t-alerts tbody tr")].map(r => [...r.cells].map(c => c.textContent))`)
		heads := eval[[]string](t, p, `[...document.querySelectorAll("#t-alerts th")].map(c => c.textContent)`)
		line := strings.Join(rows[0], "|")
		for _, want := range []string{"gov-sensitive-app", "10.20.1.5", "2025-12-01 09:00:00", "2025-12-01 09:09:00", "|1|4|", "sni", "geoip", "1:LQU9qZlK+B5F3KDmev6m5PMibrg="} {
			if !strings.Contains(line, want) {
				t.Errorf("first alert row lacks %q: %s (columns %v)", want, line, heads)
			}
		}
	})

	t.Run("evidence link", func(t *testing.T) {
		hrefs := eval[[]string](t, p, `[...document.querySelectorAll("#t-alerts tbody a")].map(a => a.getAttribute("href"))`)
		if want := "evidence/20251201T090000Z-10.20.1.5-23.52.40.10-7.pcapng"; len(hrefs) != 1 || hrefs[0] != want {
			t.Errorf("alert links %q; want the one evidence capture %q", hrefs, want)
		}
	})

	p.screenshot(t, "report-full-after-filter.png", true)
	p.clean(t)
}

func hexRGB(t *testing.T, s string) (r, g, b int) {
	t.Helper()
	if _, err := fmt.Sscanf(s, "#%02x%02x%02x", &r, &g, &b); err != nil {
		t.Fatalf("colour %q: %v", s, err)
	}
	return r, g, b
}

// TestHTMLScale fills a Builder with a large workload's worth of devices,
// destinations and alerts, and checks that the page stays under 5 MiB and
// is drawn in under 2 s. EGRESSWATCH_REPORT_HTML=FILE measures that file
// instead (e.g. the report of a 1 M-packet replay).
func TestHTMLScale(t *testing.T) {
	exe := chromium(t)
	file := os.Getenv("EGRESSWATCH_REPORT_HTML")
	if file == "" {
		file = filepath.Join(t.TempDir(), "large.html")
		var buf bytes.Buffer
		if err := largeSample().Write(&buf, "html"); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d bytes (%.2f MiB)", file, fi.Size(), float64(fi.Size())/(1<<20))
	if fi.Size() > 5<<20 {
		t.Errorf("report is %d bytes, want under 5 MiB", fi.Size())
	}
	p := openFile(t, exe, file)
	// The page's own clock: from navigation start to the end of drawing.
	ms := eval[float64](t, p, `+document.body.dataset.drawnMs`)
	t.Logf("drawn %.0f ms after navigation start", ms)
	if ms > 2000 {
		t.Errorf("page took %.0f ms to draw, want under 2 s", ms)
	}
	p.screenshot(t, "large-1280x800.png", false)
	p.clean(t)
}

// largeSample is 20,000 devices sending to 60,000 destinations in 120
// countries, with 30,000 alert keys: more than a 1 M-packet replay gives.
func largeSample() *Builder {
	t0 := time.Date(2025, 12, 1, 9, 0, 0, 0, time.UTC)
	b := New()
	b.Files = []string{"large.pcap"}
	b.Approved = map[string][]string{"government": {"GB", "DE", "FR", "IE", "NL"}}
	b.Sensitive = []string{"tiktok"}
	codes := strings.Fields(iso2sample)
	svcs := []string{"", "", "", "tiktok", "encrypted-dns", "office", "storage", "video"}
	for i := range 120000 {
		dev := netip.AddrFrom4([4]byte{10, byte(i % 20000 >> 8), byte(i % 20000), 1})
		dst := netip.AddrFrom4([4]byte{byte(20 + i%60000>>16), byte(i % 60000 >> 8), byte(i % 60000), 7})
		c := codes[i%len(codes)]
		at := t0.Add(time.Duration(i) * 50 * time.Millisecond)
		b.AddFlow(FlowSummary{Groups: []string{"government"}, Service: svcs[i%len(svcs)], Country: c, Dst: dst,
			Name: fmt.Sprintf("host%d.example.com", i%60000), ASN: uint32(64500 + i%300), Org: fmt.Sprintf("Operator %d", i%300),
			PlaceSource: "geoip", NameSource: "sni", Device: dev, Bytes: uint64(1000 + i%5000), First: at, Last: at.Add(time.Second)})
		if i%4 == 0 {
			b.AddAlert(Alert{Rule: "gov-outside-approved", Groups: []string{"government"}, Service: svcs[i%len(svcs)], Country: c,
				Device: dev, Dst: dst, CommunityID: "1:abc", Time: at, Count: 1})
		}
	}
	return b
}

const iso2sample = `US CN SG JP KR IN BR RU CA AU ZA NG EG KE MX AR CL CO PE VE GB DE FR IE NL BE LU CH AT IT ES PT SE NO
DK FI PL CZ HU RO BG GR TR IL SA AE QA IR IQ PK BD TH VN MY ID PH HK TW NZ UA BY KZ UZ MA DZ TN GH ET TZ UG
CM CI SN AO MZ ZW ZM BW NA MG IS EE LV LT SK SI HR RS BA AL MK ME MD GE AM AZ MN NP LK MM KH LA JO LB SY
YE OM KW BH CY MT PA CR GT HN SV NI DO CU JM BO PY UY EC`
