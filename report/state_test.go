package report

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

func feed(b *Builder, from, to int) {
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := from; i < to; i++ {
		dev := netip.AddrFrom4([4]byte{10, 0, 0, byte(i % 7)})
		f := FlowSummary{Groups: []string{"staff"}, Service: []string{"", "Zoom", "TikTok"}[i%3], Country: []string{"GB", "US", ""}[i%3],
			Indeterminate: i%5 == 0, Reason: "anycast", Dst: netip.AddrFrom4([4]byte{198, 51, 100, byte(i % 11)}),
			Device: dev, Bytes: uint64(100 * i), Packets: uint64(i), First: t0.Add(time.Duration(i) * time.Second),
			Last: t0.Add(time.Duration(i+3) * time.Second)}
		b.AddFlow(f)
		if i%4 == 0 {
			b.AddAlert(Alert{Rule: "r", Groups: f.Groups, Service: f.Service, Country: f.Country, Device: dev, Time: f.Last, Count: 2})
		}
	}
}

func write(t *testing.T, b *Builder) string {
	t.Helper()
	var out bytes.Buffer
	for _, f := range []string{"json", "md", "csv"} {
		if err := b.Write(&out, f); err != nil {
			t.Fatal(err)
		}
	}
	return out.String()
}

// TestSaveLoadContinues: a run saved half way and continued after Load
// reports what one run over everything reports.
func TestSaveLoadContinues(t *testing.T) {
	one := New()
	one.Files = []string{"a.pcap", "b.pcap"}
	feed(one, 0, 200)

	first := New()
	first.Files = []string{"a.pcap"}
	feed(first, 0, 90)
	var st bytes.Buffer
	if err := first.Save(&st); err != nil {
		t.Fatal(err)
	}
	second, err := Load(&st)
	if err != nil {
		t.Fatal(err)
	}
	second.Files = append(second.Files, "b.pcap")
	feed(second, 90, 200)
	if got, want := write(t, second), write(t, one); got != want {
		t.Errorf("continued report differs:\n%s\nwant:\n%s", got, want)
	}
	if got, want := write(t, one.Snapshot()), write(t, one); got != want {
		t.Errorf("snapshot differs")
	}
}

func TestLoadRejects(t *testing.T) {
	for _, in := range []string{"", "{", `{"version":2}`, `{"version":1,"extra":1}`} {
		if _, err := Load(bytes.NewBufferString(in)); err == nil {
			t.Errorf("Load(%q) = nil error", in)
		}
	}
}

// TestStateHasEveryField fails when Builder gains a field: add it to
// state (save and restore) and then to the count here.
func TestStateHasEveryField(t *testing.T) {
	if n := reflect.TypeFor[Builder]().NumField(); n != 9 {
		t.Errorf("Builder has %d fields, state.go saves 9 (8 and the mutex): save the new one", n)
	}
	if n := reflect.TypeFor[Row]().NumField(); n != 10 {
		t.Errorf("Row has %d fields, rowState knows 10", n)
	}
	if n := reflect.TypeFor[Indeterminate]().NumField(); n != 7 {
		t.Errorf("Indeterminate has %d fields, indetState knows 7", n)
	}
}
