package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/egresswatch/egresswatch/capture"
	"github.com/egresswatch/egresswatch/output"
	"github.com/egresswatch/egresswatch/rules"
)

// goldenObserver is the sensor the goldens name (observer.*): fixed, so the
// goldens do not depend on the host or the build.
var goldenObserver = output.Observer{Name: "golden", Hostname: "golden.test", Version: "test"}

var update = flag.Bool("update", false, "rewrite testdata/golden/*.jsonl from the current output")

// The captures are made by testdata/gen (go run ./testdata/gen); the
// goldens are this package's output for them, reviewed by hand and pinned
// by the explicit facts in TestReplayFacts.
const (
	pcapDir   = "../testdata/pcap"
	goldenDir = "../testdata/golden"
)

func generatedCaptures(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(pcapDir, "*.pcap*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures in %s (run go run ./testdata/gen from the repository root): %v", pcapDir, err)
	}
	sort.Strings(files)
	return files
}

// replayGenerated runs one generated capture through Run and returns the
// raw JSON lines and the summary. The file is read through NewReader with
// its base name as path, so log.file.path does not depend on where the
// test runs. The run has the default policy, as egresswatch replay does:
// DoH is told by the policy's encrypted-dns service.
func replayGenerated(t *testing.T, path string) ([]byte, Summary) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, err := capture.NewReader(f, filepath.Base(path))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer src.Close()
	var buf bytes.Buffer
	sum, err := Run(context.Background(), src, Config{Events: &buf, Policy: rules.Default(), Observer: &goldenObserver})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if sum.Events != uint64(bytes.Count(buf.Bytes(), []byte("\n"))) {
		t.Errorf("%s: Summary.Events = %d, but %d lines were written", path, sum.Events, bytes.Count(buf.Bytes(), []byte("\n")))
	}
	return buf.Bytes(), sum
}

func goldenPath(capturePath string) string {
	base := filepath.Base(capturePath)
	return filepath.Join(goldenDir, strings.TrimSuffix(base, filepath.Ext(base))+".jsonl")
}

// TestGolden compares the events of every generated capture with its
// golden JSONL, line by line; -update rewrites the goldens.
func TestGolden(t *testing.T) {
	files := generatedCaptures(t)
	want := map[string]bool{}
	for _, path := range files {
		gp := goldenPath(path)
		want[filepath.Base(gp)] = true
		t.Run(filepath.Base(path), func(t *testing.T) {
			got, _ := replayGenerated(t, path)
			if *update {
				if err := os.MkdirAll(goldenDir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(gp, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			golden, err := os.ReadFile(gp)
			if err != nil {
				t.Fatalf("%v (run go test ./pipeline -run TestGolden -update)", err)
			}
			if d := diffLines(golden, got); d != "" {
				t.Errorf("events differ from %s (-want +got):\n%s", gp, d)
			}
		})
	}
	// A golden without a capture is stale.
	goldens, _ := filepath.Glob(filepath.Join(goldenDir, "*.jsonl"))
	for _, g := range goldens {
		if !want[filepath.Base(g)] {
			t.Errorf("%s has no capture in %s", g, pcapDir)
		}
	}
}

// diffLines compares two JSONL documents line by line. For a line that
// differs it names the fields that differ (dotted paths), which is easier
// to read than two long lines; it returns "" when they are equal.
func diffLines(want, got []byte) string {
	wl := splitLines(want)
	gl := splitLines(got)
	var b strings.Builder
	for i := 0; i < max(len(wl), len(gl)); i++ {
		switch {
		case i >= len(wl):
			fmt.Fprintf(&b, "line %d: extra\n  + %s\n", i+1, gl[i])
		case i >= len(gl):
			fmt.Fprintf(&b, "line %d: missing\n  - %s\n", i+1, wl[i])
		case wl[i] != gl[i]:
			fmt.Fprintf(&b, "line %d:\n", i+1)
			fw, ew := flatten(wl[i])
			fg, eg := flatten(gl[i])
			if ew != nil || eg != nil {
				fmt.Fprintf(&b, "  - %s\n  + %s\n", wl[i], gl[i])
				continue
			}
			keys := map[string]bool{}
			for k := range fw {
				keys[k] = true
			}
			for k := range fg {
				keys[k] = true
			}
			sorted := make([]string, 0, len(keys))
			for k := range keys {
				sorted = append(sorted, k)
			}
			sort.Strings(sorted)
			same := true
			for _, k := range sorted {
				w, okw := fw[k]
				g, okg := fg[k]
				if okw && okg && reflect.DeepEqual(w, g) {
					continue
				}
				same = false
				switch {
				case !okg:
					fmt.Fprintf(&b, "  - %s: %v\n", k, w)
				case !okw:
					fmt.Fprintf(&b, "  + %s: %v\n", k, g)
				default:
					fmt.Fprintf(&b, "  - %s: %v\n  + %s: %v\n", k, w, k, g)
				}
			}
			if same { // same fields and values: only the order or spelling differs
				fmt.Fprintf(&b, "  - %s\n  + %s\n", wl[i], gl[i])
			}
		}
	}
	return b.String()
}

func splitLines(b []byte) []string {
	s := strings.TrimRight(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// flatten decodes one JSON object into dotted paths; array elements are
// numbered (answers.0.name).
func flatten(line string) (map[string]any, error) {
	var v any
	if err := json.Unmarshal([]byte(line), &v); err != nil {
		return nil, err
	}
	out := map[string]any{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(joinPath(prefix, k), e)
			}
		case []any:
			for i, e := range x {
				walk(joinPath(prefix, fmt.Sprint(i)), e)
			}
		default:
			out[prefix] = x
		}
	}
	walk("", v)
	return out, nil
}

func joinPath(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

func TestDiffLines(t *testing.T) {
	a := []byte(`{"a":{"b":1,"c":"x"}}` + "\n" + `{"z":1}` + "\n")
	if d := diffLines(a, a); d != "" {
		t.Errorf("diff of equal input = %q; want empty", d)
	}
	b := []byte(`{"a":{"b":2,"d":true}}` + "\n")
	d := diffLines(a, b)
	for _, want := range []string{"- a.b: 1", "+ a.b: 2", "- a.c: x", "+ a.d: true", "line 2: missing"} {
		if !strings.Contains(d, want) {
			t.Errorf("diff does not contain %q:\n%s", want, d)
		}
	}
}

// event is one decoded event line.
type event map[string]any

func decodeEvents(t *testing.T, raw []byte) []event {
	t.Helper()
	var evs []event
	for i, line := range splitLines(raw) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i+1, err, line)
		}
		evs = append(evs, m)
	}
	return evs
}

func (e event) str(path string) string { return str(e, path) }

func (e event) num(path string) float64 {
	f, _ := field(e, path).(float64)
	return f
}

func (e event) strs(path string) []string {
	a, _ := field(e, path).([]any)
	var out []string
	for _, v := range a {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

// only returns the events of one dataset (suffix after "egresswatch.").
func only(evs []event, dataset string) []event {
	var out []event
	for _, e := range evs {
		if e.str("event.dataset") == "egresswatch."+dataset {
			out = append(out, e)
		}
	}
	return out
}

// flowTo returns the flow event whose destination is ip:port.
func flowTo(t *testing.T, evs []event, ip string, port float64) event {
	t.Helper()
	for _, e := range only(evs, "flow") {
		if e.str("destination.ip") == ip && e.num("destination.port") == port {
			return e
		}
	}
	t.Fatalf("no flow event to %s:%v", ip, port)
	return nil
}

func expect[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v; want %v", what, got, want)
	}
}

func expectStrs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %q; want %q", what, got, want)
	}
}

// datasets counts events by dataset.
func datasets(evs []event) map[string]int {
	m := map[string]int{}
	for _, e := range evs {
		m[strings.TrimPrefix(e.str("event.dataset"), "egresswatch.")]++
	}
	return m
}

// replayFacts is what one generated capture must yield.
type replayFacts struct {
	file     string
	datasets map[string]int
	check    func(t *testing.T, evs []event, s Summary)
}

// TestReplayFacts states what each generated capture must yield, field by
// field, independently of the goldens: a golden rewritten with -update
// cannot hide a regression in these.
func TestReplayFacts(t *testing.T) {
	tests := []replayFacts{
		{"tls-split-3seg.pcap", map[string]int{"tls": 1, "flow": 1}, func(t *testing.T, evs []event, s Summary) {
			tl := only(evs, "tls")[0]
			expect(t, "server_name", tl.str("tls.client.server_name"), "split.example.org")
			expectStrs(t, "alpn", tl.strs("tls.client.alpn"), []string{"h2", "http/1.1"})
			expect(t, "tls.version", tl.str("tls.version"), "1.3")
			expect(t, "event.sequence (the segment that completed the hello)", tl.num("event.sequence"), 6)
			expect(t, "ja4 prefix", strings.HasPrefix(tl.str("tls.client.ja4"), "t13d"), true)
			fl := flowTo(t, evs, "198.51.100.20", 443)
			expect(t, "flow destination.domain", fl.str("destination.domain"), "split.example.org")
			expect(t, "flow name_source", fl.str("egresswatch.name_source"), "sni")
			expect(t, "flow source.ip", fl.str("source.ip"), "192.0.2.10")
			expect(t, "flow source.mac", fl.str("source.mac"), "02-00-5E-10-00-01")
			expect(t, "flow packets", fl.num("network.packets"), 10)
			expect(t, "TLSHellos", s.Inspect.TLSHellos, uint64(1))
			expect(t, "NamedBy[sni]", s.NamedBy["sni"], uint64(1))
		}},
		{"tls-out-of-order.pcap", map[string]int{"tls": 1, "flow": 1}, func(t *testing.T, evs []event, s Summary) {
			tl := only(evs, "tls")[0]
			expect(t, "server_name", tl.str("tls.client.server_name"), "ooo.example.org")
			expectStrs(t, "alpn", tl.strs("tls.client.alpn"), []string{"h2", "http/1.1"})
			// Frames 4..8 are segments 3, 1, 1 again, the overlap, 2:
			// frame 8 completes the hello, as in tshark.
			expect(t, "event.sequence", tl.num("event.sequence"), 8)
			fl := flowTo(t, evs, "198.51.100.21", 443)
			expect(t, "flow name_source", fl.str("egresswatch.name_source"), "sni")
			expect(t, "flow source.packets", fl.num("source.packets"), 9)
			expect(t, "flow destination.packets", fl.num("destination.packets"), 3)
			expect(t, "TLSMalformed", s.Inspect.TLSMalformed, uint64(0))
			expect(t, "OOODropped", s.Inspect.OOODropped, uint64(0))
		}},
		{"dns-tcp-two-in-one.pcap", map[string]int{"dns": 6, "flow": 1}, func(t *testing.T, evs []event, s Summary) {
			dnsEvs := only(evs, "dns")
			type row struct {
				seq   float64
				typ   string
				id    float64
				qtype string
			}
			want := []row{
				{4, "query", 0x1111, "A"}, {4, "query", 0x2222, "AAAA"}, {5, "query", 0x3333, "HTTPS"},
				{6, "answer", 0x1111, "A"}, {7, "answer", 0x2222, "AAAA"}, {7, "answer", 0x3333, "HTTPS"},
			}
			for i, w := range want {
				e := dnsEvs[i]
				got := row{e.num("event.sequence"), e.str("dns.type"), e.num("dns.id"), e.str("dns.question.type")}
				expect(t, fmt.Sprintf("dns event %d", i), got, w)
				expect(t, fmt.Sprintf("dns event %d name", i), e.str("dns.question.name"), "www.example.com")
				expect(t, fmt.Sprintf("dns event %d transport", i), e.str("network.transport"), "tcp")
			}
			a, aaaa, https := dnsEvs[3], dnsEvs[4], dnsEvs[5]
			expectStrs(t, "A resolved_ip", a.strs("dns.resolved_ip"), []string{"203.0.113.10", "203.0.113.11"})
			expectStrs(t, "AAAA resolved_ip", aaaa.strs("dns.resolved_ip"), []string{"2001:db8:cd::10"})
			var types []string
			for _, ans := range field(a, "dns.answers").([]any) {
				types = append(types, ans.(map[string]any)["type"].(string))
			}
			expectStrs(t, "A answer types", types, []string{"CNAME", "CNAME", "A", "A"})
			expect(t, "CNAME target", str(field(a, "dns.answers").([]any)[1].(map[string]any), "data"), "edge7.cdn.example.net")
			ans := field(https, "dns.answers").([]any)
			last := ans[len(ans)-1].(map[string]any)
			expect(t, "HTTPS answer type", str(last, "type"), "HTTPS")
			expect(t, "HTTPS data has alpn", strings.Contains(str(last, "data"), `alpn=h2,h3`), true)
			expect(t, "HTTPS ech_config", field(https, "egresswatch.ech_config"), any(true))
			expect(t, "DNSMessages", s.Inspect.DNSMessages, uint64(6))
			expect(t, "passive DNS entries", s.Names.Added, uint64(3))
		}},
		{"qinq.pcap", map[string]int{"dns": 2, "tls": 1, "flow": 2}, func(t *testing.T, evs []event, s Summary) {
			for i, e := range evs {
				expect(t, fmt.Sprintf("event %d network.vlan.id", i), e.num("network.vlan.id"), 100)
				expect(t, fmt.Sprintf("event %d network.inner.vlan.id", i), e.num("network.inner.vlan.id"), 120)
			}
			tl := only(evs, "tls")[0]
			expect(t, "server_name", tl.str("tls.client.server_name"), "qinq.example.org")
			ans := only(evs, "dns")[1]
			expectStrs(t, "resolved_ip", ans.strs("dns.resolved_ip"), []string{"198.51.100.30"})
			fl := flowTo(t, evs, "198.51.100.30", 443)
			expect(t, "flow domain", fl.str("destination.domain"), "qinq.example.org")
			// Named from DNS when it began, then by the stronger SNI.
			expect(t, "flow name_source", fl.str("egresswatch.name_source"), "sni")
			expect(t, "DNS hits", s.Names.Hits, uint64(1))
			// Community IDs as tshark 4.0 computes them (--enable-protocol communityid).
			expect(t, "tls community_id", tl.str("network.community_id"), "1:ZTADczakDRpgDBS/Ypd6ZXalSk8=")
			expect(t, "dns community_id", ans.str("network.community_id"), "1:uhpJcHynqiCf8pqPqFvAWlSOWEo=")
		}},
		{"ipv6-frag.pcap", map[string]int{"dns": 2, "flow": 1}, func(t *testing.T, evs []event, s Summary) {
			ans := only(evs, "dns")[1]
			expect(t, "dns.type", ans.str("dns.type"), "answer")
			expect(t, "question", ans.str("dns.question.name"), "big.example.org")
			expect(t, "event.sequence (last fragment)", ans.num("event.sequence"), 4)
			expect(t, "network.type", ans.str("network.type"), "ipv6")
			expect(t, "community_id (tshark)", ans.str("network.community_id"), "1:63iuI77SCPtGqPRAoYIMUe5DIrU=")
			answers, _ := field(ans, "dns.answers").([]any)
			expect(t, "answers", len(answers), 12)
			if len(answers) == 12 {
				d := str(answers[11].(map[string]any), "data")
				expect(t, "last TXT answer", strings.Contains(d, "v=fixture11 "+strings.Repeat("l", 220)), true)
			}
			// The answer came in three fragments: the flow counts their
			// frames, 579 + 1294 + 1294 bytes on the wire as tshark lists them.
			fl := only(evs, "flow")[0]
			expect(t, "destination.packets", fl.num("destination.packets"), 3)
			expect(t, "destination.bytes", fl.num("destination.bytes"), 3167)
			expect(t, "network.packets", fl.num("network.packets"), 4)
			expect(t, "Fragments", s.Decode.Fragments, uint64(3))
			expect(t, "Reassembled", s.Decode.Reassembled, uint64(1))
			expect(t, "DNSMalformed", s.Inspect.DNSMalformed, uint64(0))
		}},
		{"sll2.pcap", map[string]int{"http": 1, "flow": 1}, func(t *testing.T, evs []event, s Summary) {
			h := only(evs, "http")[0]
			expect(t, "url.domain", h.str("url.domain"), "sll2.example.net")
			expect(t, "url.port", h.num("url.port"), 8080)
			expect(t, "url.original", h.str("url.original"), "/status?full=1")
			expect(t, "method", h.str("http.request.method"), "GET")
			expect(t, "source.mac", h.str("source.mac"), "02-00-5E-10-00-01")
			fl := flowTo(t, evs, "198.51.100.40", 8080)
			expect(t, "flow name_source", fl.str("egresswatch.name_source"), "http")
			expect(t, "flow domain", fl.str("destination.domain"), "sll2.example.net")
		}},
		{"nano.pcapng", map[string]int{"http": 1, "dns": 1, "flow": 2}, func(t *testing.T, evs []event, s Summary) {
			// Frame n is at 12:06:00.123456789 + (n-1) * 1001 ns.
			h := only(evs, "http")[0]
			expect(t, "http @timestamp", h.str("@timestamp"), "2024-05-01T12:06:00.123459792Z")
			expect(t, "http url.domain", h.str("url.domain"), "nano.example.com")
			d := only(evs, "dns")[0]
			expect(t, "dns @timestamp", d.str("@timestamp"), "2024-05-01T12:06:00.123460793Z")
			expect(t, "dns question (raw IPv4 interface)", d.str("dns.question.name"), "nano-dns.example.com")
			fl := flowTo(t, evs, "198.51.100.50", 80)
			expect(t, "flow event.start", fl.str("event.start"), "2024-05-01T12:06:00.123456789Z")
			expect(t, "flow event.end", fl.str("event.end"), "2024-05-01T12:06:00.123461794Z")
			expect(t, "flow event.duration", fl.num("event.duration"), 5005)
		}},
		{"passive-dns.pcap", map[string]int{"dns": 2, "flow": 2}, func(t *testing.T, evs []event, s Summary) {
			fl := flowTo(t, evs, "203.0.113.7", 443)
			expect(t, "destination.domain", fl.str("destination.domain"), "cdn.example.com")
			expect(t, "name_source", fl.str("egresswatch.name_source"), "dns")
			expect(t, "NamedBy[dns]", s.NamedBy["dns"], uint64(1))
			expect(t, "TLSHellos", s.Inspect.TLSHellos, uint64(0))
		}},
	}
	tests = append(tests, blindFacts()...)
	seen := map[string]bool{}
	for _, tc := range tests {
		seen[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			raw, sum := replayGenerated(t, filepath.Join(pcapDir, tc.file))
			evs := decodeEvents(t, raw)
			if got := datasets(evs); !reflect.DeepEqual(got, tc.datasets) {
				t.Fatalf("events by dataset = %v; want %v", got, tc.datasets)
			}
			for i, e := range evs {
				expect(t, fmt.Sprintf("event %d log.file.path", i), e.str("log.file.path"), tc.file)
			}
			tc.check(t, evs, sum)
		})
	}
	for _, path := range generatedCaptures(t) {
		if !seen[filepath.Base(path)] {
			t.Errorf("%s has no facts in TestReplayFacts", path)
		}
	}
}
