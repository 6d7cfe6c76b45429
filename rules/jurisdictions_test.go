package rules

import (
	"encoding/csv"
	"os"
	"strings"
	"testing"
)

func TestISOList(t *testing.T) {
	codes := strings.Fields(iso3166)
	if len(codes) != 250 { // 249 assigned + XK
		t.Errorf("iso3166 has %d codes, want 249 + XK", len(codes))
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if seen[c] || !isCountryCode(c) {
			t.Errorf("code %q duplicate or not accepted", c)
		}
		seen[c] = true
	}
	for _, c := range []string{"UK", "EU", "EL", "ZZ", "D", "DEU", "B ", " B"} {
		if isCountryCode(c) {
			t.Errorf("isCountryCode(%q) = true", c)
		}
	}
}

// TestBuiltinJurisdictionsAgree checks the built-in sets against the
// shared jurisdictions table (code,name,group,eu,eea,uk,uk_adequacy,
// eu_adequacy,note): a set holds a code exactly when its column says yes.
func TestBuiltinJurisdictionsAgree(t *testing.T) {
	f, err := os.Open("../../shared/catalog/jurisdictions.csv")
	if err != nil {
		t.Skipf("shared catalogue not available (../../shared/catalog/jurisdictions.csv): %v", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	p := Default()
	cols := map[string]string{"eu": "EU", "eea": "EEA", "uk": "UK", "uk_adequacy": "UK-ADEQUACY", "eu_adequacy": "EU-ADEQUACY"}
	header := rows[0]
	yes := map[string]int{}
	for _, row := range rows[1:] {
		code := row[0]
		if !isCountryCode(code) {
			t.Errorf("table code %q is not in our ISO list", code)
		}
		for i, col := range header {
			set, ok := cols[col]
			if !ok {
				continue
			}
			want := row[i] == "yes"
			if want {
				yes[set]++
			}
			if got := p.Jurisdictions[set].Contains(code); got != want {
				t.Errorf("%s contains %s (%s) = %v, table says %q", set, code, row[1], got, row[i])
			}
		}
	}
	for _, set := range cols {
		if n := len(p.Jurisdictions[set].Countries()); n != yes[set] {
			t.Errorf("%s has %d members, table has %d", set, n, yes[set])
		}
		t.Logf("%s: %d countries, agrees with the table", set, yes[set])
	}
}

func TestBuiltinJurisdictionSizes(t *testing.T) {
	p := Default()
	for set, want := range map[string]int{"EU": 34, "EEA": 37, "UK": 1, "EU-ADEQUACY": 15, "UK-ADEQUACY": 52,
		"EU-ADEQUACY-FULL": 11, "UK-ADEQUACY-FULL": 48} {
		if got := len(p.Jurisdictions[set].Countries()); got != want {
			t.Errorf("%s has %d countries, want %d", set, got, want)
		}
	}
	if uk := p.Jurisdictions["UK"]; !uk.Contains("GB") || uk.Contains("GG") || uk.Contains("GI") {
		t.Errorf("UK = %v, want just GB", uk.Countries())
	}
}
