package pipeline

import (
	"reflect"
	"strings"
	"testing"
)

var int64Type = reflect.TypeFor[int64]()

// TestCountersSumEveryWorkerField fails when a worker's stats struct gains
// a counter without a row in the counter table: the row is what sums it.
func TestCountersSumEveryWorkerField(t *testing.T) {
	var one Summary
	n := uint64(1)
	for _, f := range []any{&one.Decode, &one.Inspect, &one.Flows} {
		v := reflect.ValueOf(f).Elem()
		for i := range v.NumField() {
			switch fv := v.Field(i); fv.Kind() {
			case reflect.Uint64:
				fv.SetUint(n)
			case reflect.Int:
				fv.SetInt(int64(n))
			default:
				t.Fatalf("%s.%s: a %s; the counter table reaches uint64 and int fields", v.Type(), v.Type().Field(i).Name, fv.Kind())
			}
			n++
		}
	}
	var sum Summary
	sum.add(&one)
	sum.add(&one)
	for _, f := range [][2]any{{one.Decode, sum.Decode}, {one.Inspect, sum.Inspect}, {one.Flows, sum.Flows}} {
		w, s := reflect.ValueOf(f[0]), reflect.ValueOf(f[1])
		for i := range w.NumField() {
			if got, want := s.Field(i).Convert(int64Type).Int(), w.Field(i).Convert(int64Type).Int(); got != 2*want {
				t.Errorf("%s.%s summed over two workers = %d, want 2 × %d: add a row to counters", w.Type(), w.Type().Field(i).Name, got, want)
			}
		}
	}
}

// TestCounterTable checks the rows of each metric agree: one help text,
// one label name, one kind; and each printed row has one verb.
func TestCounterTable(t *testing.T) {
	type metric struct {
		helps       int
		label       string
		gauge       bool
		labelValues map[string]bool
	}
	seen := map[string]*metric{}
	for _, c := range Counters() {
		if c.Line != LineNone && c.keyed == nil && strings.Count(c.Text, "%") != 1 {
			t.Errorf("%s{%s}: text %q needs exactly one verb", c.Metric, c.LabelValue, c.Text)
		}
		if c.Line != LineNone && c.keyed != nil && !strings.Contains(c.Text, "%[2]s") {
			t.Errorf("%s: keyed text %q lacks the list %%[2]s", c.Metric, c.Text)
		}
		if c.Metric == "" {
			continue
		}
		m := seen[c.Metric]
		if m == nil {
			m = &metric{label: c.Label, gauge: c.Gauge(), labelValues: map[string]bool{}}
			seen[c.Metric] = m
			if c.Help == "" {
				t.Errorf("%s: its first row has no help", c.Metric)
			}
		}
		if c.Help != "" {
			m.helps++
		}
		if c.Label != m.label || c.Gauge() != m.gauge {
			t.Errorf("%s{%s}: label %q gauge %v, the first row says %q %v", c.Metric, c.LabelValue, c.Label, c.Gauge(), m.label, m.gauge)
		}
		if (c.Label == "") != (c.LabelValue == "" && c.keyed == nil) || m.labelValues[c.LabelValue] {
			t.Errorf("%s: label value %q missing or repeated", c.Metric, c.LabelValue)
		}
		m.labelValues[c.LabelValue] = true
	}
	for name, m := range seen {
		if m.helps != 1 {
			t.Errorf("%s: %d help texts, want 1", name, m.helps)
		}
	}
}
