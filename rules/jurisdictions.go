package rules

import "strings"

// iso3166 lists the ISO 3166-1 alpha-2 codes officially assigned (249), plus
// XK (Kosovo, user-assigned, returned by GeoIP databases).
const iso3166 = "" +
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ " +
	"BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ " +
	"DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY " +
	"HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY " +
	"MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
	"NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY " +
	"QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ " +
	"TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ " +
	"VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW XK"

// builtinJurisdiction is one named country set, with where it comes from.
type builtinJurisdiction struct {
	name    string
	members string // ISO codes and names of other built-in sets
	source  string
}

// builtinJurisdictions are the named sets every policy knows. Checked
// December 2025; adequacy decisions change, so re-check before relying on
// them. TestBuiltinJurisdictionsAgree compares them with the shared
// jurisdictions table.
func builtinJurisdictions() []builtinJurisdiction {
	return []builtinJurisdiction{
		{
			name: "EU",
			// The 27 member states (Art. 52 TEU), plus the parts of member
			// states that have their own ISO code and where EU law applies
			// (outermost regions, Art. 349 and 355 TFEU; Åland, Protocol 2 to
			// the 1994 Act of Accession).
			members: "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK " +
				"GF GP MQ RE YT MF AX",
			source: "TEU Art. 52; TFEU Art. 349, 355 (EU-27 since 2020-02-01)",
		},
		{
			name:    "EEA",
			members: "EU IS LI NO",
			source:  "Agreement on the European Economic Area, OJ L 1, 3.1.1994 (EU + Iceland, Liechtenstein, Norway)",
		},
		{
			name: "UK",
			// ISO 3166 codes the United Kingdom as GB. Guernsey, Jersey,
			// the Isle of Man and Gibraltar are not the UK for data protection.
			members: "GB",
			source:  "ISO 3166-1 (GB = United Kingdom of Great Britain and Northern Ireland)",
		},
		{
			name: "EU-ADEQUACY",
			// Places with an adequacy decision under GDPR Art. 45 (or the
			// earlier decisions kept in force by Art. 45(9)): Andorra,
			// Argentina, Canada (PIPEDA, partial), Faroe Islands, United
			// Kingdom (renewed December 2025 to 2031-12-27), Guernsey, Israel,
			// Isle of Man, Jersey, Japan (APPI, partial), Republic of Korea
			// (2021), New Zealand, Switzerland, United States (EU-US Data
			// Privacy Framework, 2023-07-10, partial), Uruguay. Brazil's
			// decision was a draft (2025-09-05) and is not included.
			members: "AD AR CA FO GB GG IL IM JE JP KR NZ CH US UY",
			source:  "European Commission, adequacy decisions under GDPR Art. 45, as of December 2025",
		},
		{
			name: "UK-ADEQUACY",
			// Places covered by UK adequacy regulations: the EEA states and
			// Gibraltar (DPA 2018 Sch. 21 para. 5), the EU's pre-2021
			// decisions carried over (AD AR CA FO GG IL IM JE NZ CH UY; CA
			// and JP partial), Republic of Korea (SI 2022/1213, from
			// 2022-12-19) and the United States "data bridge" (SI 2023/1028,
			// from 2023-10-12, DPF UK Extension only, partial).
			members: "EEA GI AD AR CA FO GG IL IM JE JP KR NZ CH US UY",
			source:  "DPA 2018 Sch. 21 para. 5; SI 2022/1213; SI 2023/1028; ICO list, as of December 2025",
		},
		{
			name: "EU-ADEQUACY-FULL",
			// EU-ADEQUACY without the decisions an IP address cannot honour:
			// CA, JP and US cover only some recipients (PIPEDA, APPI, DPF
			// certification); KR is left out conservatively (its decision
			// excludes some processing, such as credit information).
			members: "AD AR FO GB GG IL IM JE NZ CH UY",
			source:  "EU-ADEQUACY less partial decisions (CA, JP, US) and KR",
		},
		{
			name:    "UK-ADEQUACY-FULL",
			members: "EEA GI AD AR FO GG IL IM JE NZ CH UY",
			source:  "UK-ADEQUACY less partial regulations (CA, JP, US) and KR",
		},
	}
}

// countrySet is a set of ISO 3166-1 alpha-2 codes, one bit per AA..ZZ.
type countrySet [(26*26 + 63) / 64]uint64

func countryIndex(code string) (int, bool) {
	if len(code) != 2 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z' {
		return 0, false
	}
	return int(code[0]-'A')*26 + int(code[1]-'A'), true
}

func (s *countrySet) add(code string) {
	if i, ok := countryIndex(code); ok {
		s[i/64] |= 1 << (i % 64)
	}
}

func (s *countrySet) union(o *countrySet) {
	for i := range s {
		s[i] |= o[i]
	}
}

// has reports whether code is in s. It accepts lower-case codes too.
func (s *countrySet) has(code string) bool {
	if len(code) == 2 {
		a, b := code[0], code[1]
		if a >= 'a' && a <= 'z' {
			a -= 'a' - 'A'
		}
		if b >= 'a' && b <= 'z' {
			b -= 'a' - 'A'
		}
		if a >= 'A' && a <= 'Z' && b >= 'A' && b <= 'Z' {
			i := int(a-'A')*26 + int(b-'A')
			return s[i/64]&(1<<(i%64)) != 0
		}
	}
	return false
}

// codes lists the members of s in order.
func (s *countrySet) codes() []string {
	var out []string
	for i := range 26 * 26 {
		if s[i/64]&(1<<(i%64)) != 0 {
			out = append(out, string([]byte{byte('A' + i/26), byte('A' + i%26)}))
		}
	}
	return out
}

func isCountryCode(code string) bool {
	if len(code) != 2 {
		return false
	}
	i := strings.Index(iso3166, code)
	return i >= 0 && i%3 == 0
}

// Jurisdiction is a resolved named country set.
type Jurisdiction struct {
	Name    string
	Source  string   // legal source for a built-in set; "file:line" for the policy's own
	Members []string // as written
	set     countrySet
}

// Countries lists the ISO codes in the set, sorted.
func (j *Jurisdiction) Countries() []string { return j.set.codes() }

// Contains reports whether the ISO 3166-1 alpha-2 code is in the set.
func (j *Jurisdiction) Contains(code string) bool { return j.set.has(code) }
