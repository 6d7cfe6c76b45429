package fleet

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestParseAlertFields: the collector's scanner reads what json.Unmarshal
// reads, and rejects what it rejects.
func TestParseAlertFields(t *testing.T) {
	for _, tt := range []struct{ name, line string }{
		{"typical", alertLine},
		{"suppressed", strings.Replace(strings.Replace(alertLine, `"flow-named"`, `"suppressed-summary"`, 1), `"suppressed_count":0`, `"suppressed_count":12`, 1)},
		{"escapes", `{"@timestamp":"2025-03-11T09:00:00Z","rule":{"id":"a\"b\\u00e9"},"message":"x}{][","egresswatch":{"group":["g\n1","g2"],"service":"s"}}`},
		{"spaces-and-nulls", ` { "event" : { "action" : null } , "egresswatch" : { "group" : null , "evidence" : { "suppressed_count" : 3 } } , "n" : [ 1 , -2.5e3 , true , { } , [ ] ] } `},
		{"no-groups", `{"@timestamp":"2025-03-11T09:00:00.5+01:00","source":{"ip":"10.0.0.1"},"egresswatch":{"group":[],"country":"GB"}}`},
		{"torn", alertLine[:500]},
		{"trailing", alertLine + "x"},
		{"empty", ``},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var want, got alertFields
			werr := json.Unmarshal([]byte(tt.line), &want)
			ok := parseAlertFields([]byte(tt.line), &got)
			if ok != (werr == nil) {
				t.Fatalf("parseAlertFields ok = %v; json.Unmarshal error %v", ok, werr)
			}
			if len(want.Egresswatch.Group) == 0 && len(got.Egresswatch.Group) == 0 {
				want.Egresswatch.Group, got.Egresswatch.Group = nil, nil
			}
			if ok && !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v; want %+v", got, want)
			}
		})
	}
}
