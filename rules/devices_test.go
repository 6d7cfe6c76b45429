package rules

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/egresswatch/egresswatch/flow"
)

func TestDeviceGroups(t *testing.T) {
	p, err := Load("../testdata/policy/devices.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := netip.MustParseAddr("10.12.40.87")
	for _, tt := range []struct {
		name string
		id   *flow.Identity
		want []string
	}{
		{"unknown device", nil, nil},
		{"laptop by glob", &flow.Identity{Name: "Gov-Lt-0412", NameFold: "gov-lt-0412"}, []string{"laptops"}},
		{"exact name", &flow.Identity{Name: "NAS1", NameFold: "nas1"}, []string{"laptops"}},
		{"other name", &flow.Identity{Name: "nas10", NameFold: "nas10"}, nil},
		{"inventory tag", &flow.Identity{Name: "x", NameFold: "x", Group: "Cabinet-Office"}, []string{"cabinet"}},
	} {
		got := p.Groups(src, &flow.Device{ID: tt.id}, nil)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: Groups = %v, want %v", tt.name, got, tt.want)
		}
	}
	in := &Input{Src: src, Device: flow.Device{ID: &flow.Identity{Name: "GOV-LT-0412", NameFold: "gov-lt-0412"}},
		Dst: netip.MustParseAddr("192.0.2.1")}
	if m := (&Match{Rule: p.Rules[0]}).Message(in); !strings.HasPrefix(m, "Device GOV-LT-0412 (10.12.40.87) contacted") {
		t.Errorf("Message = %q", m)
	}
}
