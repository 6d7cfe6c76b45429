package report

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// header sets every field the caller sets before the first AddFlow.
func header(b *Builder) {
	b.Approved = map[string][]string{"staff": {"GB"}}
	b.Sensitive = []string{"TikTok"}
	b.EvidenceDir = "evidence"
	b.Placement = []string{"GeoIP2-Country.mmdb", "cloud/aws.json"}
	b.PlacementWarning = "no ASN database"
	b.Inputs = []string{"captures/"}
	b.Skipped, b.FileErrs = 1, 2
	b.Policy = "policy.yaml"
	b.ApprovedRules = []string{"staff: GB"}
}

// feed adds flows and alerts from..to of one made-up run, setting every
// field of FlowSummary and Alert somewhere.
func feed(b *Builder, from, to int) {
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := from; i < to; i++ {
		dev := netip.AddrFrom4([4]byte{10, 0, 0, byte(i % 7)})
		var info DeviceInfo
		if i%7 < 3 {
			info = DeviceInfo{Name: fmt.Sprintf("PC-%d", i%7), NameSource: "dhcp", MAC: fmt.Sprintf("02:00:00:00:00:%02x", i%7),
				Owner: "owner", Department: "Cabinet Office"}
		}
		f := FlowSummary{Groups: [][]string{{"staff"}, {"staff", "guests"}, nil}[i%3], Service: []string{"", "Zoom", "TikTok"}[i%3],
			Country: []string{"GB", "US", ""}[i%3], Indeterminate: i%5 == 0, Reason: "anycast",
			Dst: netip.AddrFrom4([4]byte{198, 51, 100, byte(i % 11)}), Name: []string{"", "a.example", "b.example"}[i%3],
			Device: dev, Bytes: uint64(100 * i), Packets: uint64(i), First: t0.Add(time.Duration(i) * time.Second),
			Last: t0.Add(time.Duration(i+3) * time.Second), ASN: uint32(64500 + i%4), Org: []string{"", "Org"}[i%2],
			Cloud: []string{"", "", "aws"}[i%3], Region: "eu-west-1", PlaceSource: "geoip", NameSource: "sni", DeviceInfo: info}
		b.AddFlow(f)
		if i%4 == 0 {
			a := Alert{Rule: []string{"r", "s"}[i%8/4], Groups: f.Groups, Service: f.Service, Country: f.Country, Device: dev,
				Time: f.Last, Count: 2, RuleName: "Rule", Severity: "high", Dst: f.Dst, Name: f.Name, NameSource: "dns",
				PlaceSource: "geoip", CommunityID: "1:abc", First: f.First, Pcap: fmt.Sprintf("%d.pcap", i), DNSOnly: i%3 == 1}
			b.AddAlert(a)
			a.Repeats, a.Suppressed, a.Count, a.Dst, a.Time = true, 3, 3, netip.Addr{}, f.Last.Add(time.Second)
			b.AddAlert(a)
		}
	}
}

func write(t *testing.T, b *Builder) string {
	t.Helper()
	var out bytes.Buffer
	for _, f := range []string{"json", "md", "csv", "html"} {
		if err := b.Write(&out, f); err != nil {
			t.Fatal(err)
		}
	}
	return out.String()
}

func saveLoad(t *testing.T, b *Builder) *Builder {
	t.Helper()
	var st bytes.Buffer
	if err := b.Save(&st); err != nil {
		t.Fatal(err)
	}
	l, err := Load(&st)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestSaveLoadContinues: a run saved half way and continued after Load
// reports what one run over everything reports.
func TestSaveLoadContinues(t *testing.T) {
	one := New()
	header(one)
	one.Files = []string{"a.pcap", "b.pcap"}
	feed(one, 0, 200)

	first := New()
	header(first)
	first.Files = []string{"a.pcap"}
	feed(first, 0, 90)
	second := saveLoad(t, first)
	second.Files = append(second.Files, "b.pcap")
	feed(second, 90, 200)
	if got, want := write(t, second), write(t, one); got != want {
		t.Errorf("continued report differs:\n%s\nwant:\n%s", got, want)
	}
	if got, want := write(t, one.Snapshot()), write(t, one); got != want {
		t.Errorf("snapshot differs")
	}
}

// TestSaveLoadSame: Load(Save(b)) is b, field for field, and saving it
// again gives the same bytes.
func TestSaveLoadSame(t *testing.T) {
	b := New()
	header(b)
	b.Files = []string{"a.pcap"}
	feed(b, 0, 120)
	checkEveryFieldSet(t, b)
	got := saveLoad(t, b)
	if !reflect.DeepEqual(got, b) {
		t.Errorf("Load(Save(b)) differs from b")
	}
	if !reflect.DeepEqual(b.Snapshot(), b) {
		t.Errorf("Snapshot() differs from b")
	}
	var s1, s2 bytes.Buffer
	b.Save(&s1)
	got.Save(&s2)
	if s1.String() != s2.String() {
		t.Errorf("saved again:\n%s\nfirst saved:\n%s", s2.String(), s1.String())
	}
	for k, l := range got.lastLine {
		if got.alertList[l.lineKey] != l {
			t.Errorf("lastLine[%v] does not point into alertList", k)
		}
	}
	// The snapshot is a copy: counting on does not change it.
	snap := b.Snapshot()
	before := write(t, snap)
	feed(b, 120, 130)
	if write(t, snap) != before {
		t.Errorf("snapshot changed when the Builder counted on")
	}
}

// checkEveryFieldSet fails for a field that feed and header leave zero
// (in every element of a map): TestSaveLoadSame would not see it lost.
// Fields that are only filled in on copies are named as computed.
func checkEveryFieldSet(t *testing.T, b *Builder) {
	t.Helper()
	for _, c := range []struct {
		name     string
		m        any // a map of structs or of pointers to them
		computed []string
	}{
		{"Builder", map[int]*Builder{0: b}, []string{"mu", "OnFlow", "ForwardOnly"}},
		{"Row", b.rows, []string{"Devices"}},
		{"Indeterminate", b.indet, []string{"Devices"}},
		{"detail", map[int]*detail{0: &b.detail}, nil},
		{"groupAgg", b.detail.groups, nil},
		{"Destination", b.detail.dests, []string{"Devices"}},
		{"Device", b.detail.devices, []string{"Services", "Countries"}},
		{"AlertEntry", b.detail.alerts, nil},
		{"DeviceRow", b.devices, []string{"Addresses", "Groups", "Services", "Countries"}},
		{"alertLine", b.alertList, nil},
	} {
		mv := reflect.ValueOf(c.m)
		typ := mv.Type().Elem()
		if typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			if slices.Contains(c.computed, f.Name) {
				continue
			}
			set := false
			for it := mv.MapRange(); it.Next() && !set; {
				set = !reflect.Indirect(it.Value()).Field(i).IsZero()
			}
			if !set {
				t.Errorf("%s.%s is zero in every %s: set it in feed or header, so the round trip checks it is saved", c.name, f.Name, c.name)
			}
		}
	}
}

func TestLoadRejects(t *testing.T) {
	for _, in := range []string{"", "{", `{"version":3}`, `{"version":2,"extra":1}`, `{"version":2,"devices":"x"}`,
		`{"version":2,"alert_lines":[],"last_lines":[{"rule":"r","device":"10.0.0.1","line":{"rule":"r"}}]}`} {
		if _, err := Load(bytes.NewBufferString(in)); err == nil {
			t.Errorf("Load(%q) = nil error", in)
		}
	}
}

// TestLoadOldVersion: a checkpoint of an older egresswatch is refused with
// ErrStateVersion, whatever its fields.
func TestLoadOldVersion(t *testing.T) {
	v1 := `{"version":1,"files":["a.pcap"],"first":"2025-03-01T09:00:00Z","last":"2025-03-01T09:00:03Z","flows":1,` +
		`"devices":["10.0.0.1"],"alerts":0,"rows":[{"Group":"staff","Service":"Zoom","Country":"GB","Flows":1,"Bytes":100,` +
		`"Alerts":0,"First":"2025-03-01T09:00:00Z","Last":"2025-03-01T09:00:03Z","Devices":["10.0.0.1"]}],"indeterminate":null}`
	_, err := Load(strings.NewReader(v1))
	if !errors.Is(err, ErrStateVersion) {
		t.Fatalf("Load(version 1) = %v, want ErrStateVersion", err)
	}
	if !strings.Contains(err.Error(), "version 1") {
		t.Errorf("error %q does not name the version", err)
	}
}

// TestStateHasEveryField fails when a type state.go saves gains a field:
// save and restore it (state.go), set it in feed or header, and then
// change the count here.
func TestStateHasEveryField(t *testing.T) {
	for _, c := range []struct {
		typ   reflect.Type
		n     int
		where string
	}{
		{reflect.TypeFor[Builder](), 26, "state (23; the mutex and the OnFlow, ForwardOnly hooks are not state)"},
		{reflect.TypeFor[Row](), 11, "rowState (Devices: the set)"},
		{reflect.TypeFor[Indeterminate](), 7, "indetState (Devices: the set)"},
		{reflect.TypeFor[detail](), 5, "detailState"},
		{reflect.TypeFor[groupAgg](), 9, "groupState"},
		{reflect.TypeFor[Destination](), 16, "destState (Devices: the set)"},
		{reflect.TypeFor[Device](), 12, "deviceState (Services, Countries: the sets)"},
		{reflect.TypeFor[AlertEntry](), 17, "alertEntryState"},
		{reflect.TypeFor[DeviceRow](), 15, "deviceRowState (Addresses, Groups, Services, Countries: the sets)"},
		{reflect.TypeFor[alertLine](), 7, "alertLineState"},
		{reflect.TypeFor[lineKey](), 4, "lineKeyState"},
		{reflect.TypeFor[repeatKey](), 4, "lastLineState"},
		{reflect.TypeFor[alertKey](), 4, "alertEntryState (KeyCountry)"},
		{reflect.TypeFor[rowKey](), 3, "rowState"},
		{reflect.TypeFor[indetKey](), 2, "indetState and destState"},
	} {
		if n := c.typ.NumField(); n != c.n {
			t.Errorf("%s has %d fields, %s knows %d: save the new one", c.typ.Name(), n, c.where, c.n)
		}
	}
}
