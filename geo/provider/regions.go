package provider

import (
	"fmt"
	"io"
	"maps"
	"slices"
)

// Region → country tables. This is data, kept in code so a binary needs no
// extra file. Each entry is the ISO 3166-1 alpha-2 code of the country the
// provider says the region (or zone) is in.
//
// Sources (checked 2026-11 against the providers' own region lists):
//   - AWS: "Regions and Zones" and "AWS Local Zones locations" / "AWS
//     Wavelength locations" pages of the AWS documentation.
//   - Azure: "Azure geographies" page and `az account list-locations`
//     (Service Tags use abbreviated spellings such as "switzerlandn").
//   - Google Cloud: "Regions and zones" page of the Compute Engine docs.
//   - Oracle Cloud: "Regions and Availability Domains" page of the OCI docs.
//
// A region listed with an empty country is one that appears in a provider
// file but whose physical location the provider has not published (or that
// we could not confirm). Lookups in such a range are indeterminate, never a
// guess from the region name.

// awsRegions covers AWS regions and their network border groups. Local and
// Wavelength Zones are separate entries: a zone can be in another country
// than its parent region (af-south-1-los-1 is Lagos, Nigeria; the parent
// af-south-1 is Cape Town).
var awsRegions = map[string]string{
	"af-south-1":     "ZA", // Cape Town
	"ap-east-1":      "HK",
	"ap-east-2":      "TW", // Taipei
	"ap-northeast-1": "JP", // Tokyo
	"ap-northeast-2": "KR", // Seoul
	"ap-northeast-3": "JP", // Osaka
	"ap-south-1":     "IN", // Mumbai
	"ap-south-2":     "IN", // Hyderabad
	"ap-southeast-1": "SG",
	"ap-southeast-2": "AU", // Sydney
	"ap-southeast-3": "ID", // Jakarta
	"ap-southeast-4": "AU", // Melbourne
	"ap-southeast-5": "MY", // Malaysia
	"ap-southeast-6": "NZ", // New Zealand
	"ap-southeast-7": "TH", // Thailand
	"ca-central-1":   "CA",
	"ca-west-1":      "CA", // Calgary
	"cn-north-1":     "CN", // Beijing
	"cn-northwest-1": "CN", // Ningxia
	"eu-central-1":   "DE", // Frankfurt
	"eu-central-2":   "CH", // Zurich: an eu- region outside the EU
	"eu-north-1":     "SE", // Stockholm
	"eu-south-1":     "IT", // Milan
	"eu-south-2":     "ES", // Spain
	"eu-west-1":      "IE", // Ireland
	"eu-west-2":      "GB", // London
	"eu-west-3":      "FR", // Paris
	"eusc-de-east-1": "DE", // European Sovereign Cloud, Brandenburg
	"il-central-1":   "IL",
	"me-central-1":   "AE",
	"me-south-1":     "BH",
	"me-west-1":      "", // listed in ip-ranges.json, location not published
	"mx-central-1":   "MX",
	"sa-east-1":      "BR",
	"us-east-1":      "US",
	"us-east-2":      "US",
	"us-gov-east-1":  "US",
	"us-gov-west-1":  "US",
	"us-west-1":      "US",
	"us-west-2":      "US",

	// Local Zones (network_border_group "<region>-<metro>-N").
	"af-south-1-los-1":            "NG", // Lagos
	"ap-northeast-1-tpe-1":        "TW", // Taipei
	"ap-south-1-ccu-1":            "IN", // Kolkata
	"ap-south-1-ccu-2":            "IN",
	"ap-south-1-del-1":            "IN", // Delhi
	"ap-south-1-del-2":            "IN",
	"ap-southeast-1-bkk-1":        "TH", // Bangkok
	"ap-southeast-1-mnl-1":        "PH", // Manila
	"ap-southeast-1-sggov-sin-1a": "SG", // Singapore government zones
	"ap-southeast-1-sggov-sin-1b": "SG",
	"ap-southeast-1-sggov-sin-2":  "SG",
	"ap-southeast-2-akl-1":        "NZ", // Auckland
	"ap-southeast-2-per-1":        "AU", // Perth
	"cn-north-1-pkx-1":            "CN", // Beijing Daxing
	"eu-central-1-ham-1":          "DE", // Hamburg
	"eu-central-1-waw-1":          "PL", // Warsaw
	"eu-north-1-cph-1":            "DK", // Copenhagen
	"eu-north-1-hel-1":            "FI", // Helsinki
	"me-south-1-mct-1":            "OM", // Muscat
	"us-east-1-atl-1":             "US",
	"us-east-1-atl-2":             "US",
	"us-east-1-bos-1":             "US",
	"us-east-1-bue-1":             "AR", // Buenos Aires
	"us-east-1-chi-1":             "US",
	"us-east-1-chi-2":             "US",
	"us-east-1-dfw-1":             "US",
	"us-east-1-dfw-2":             "US",
	"us-east-1-iah-1":             "US",
	"us-east-1-iah-2":             "US",
	"us-east-1-lim-1":             "PE", // Lima
	"us-east-1-mci-1":             "US",
	"us-east-1-mia-1":             "US",
	"us-east-1-mia-2":             "US",
	"us-east-1-msp-1":             "US",
	"us-east-1-nyc-1":             "US",
	"us-east-1-nyc-2":             "US",
	"us-east-1-phl-1":             "US",
	"us-east-1-qro-1":             "MX", // Querétaro
	"us-east-1-scl-1":             "CL", // Santiago
	"us-west-2-den-1":             "US",
	"us-west-2-hnl-1":             "US",
	"us-west-2-las-1":             "US",
	"us-west-2-las-1b":            "US",
	"us-west-2-lax-1":             "US",
	"us-west-2-pdx-1":             "US",
	"us-west-2-phx-1":             "US",
	"us-west-2-phx-2":             "US",
	"us-west-2-sea-1":             "US",

	// Wavelength Zones (carrier 5G edge).
	"ap-northeast-1-wl1-kix-wlz-1": "JP",
	"ap-northeast-1-wl1-nrt-wlz-1": "JP",
	"ap-northeast-2-wl1-cjj-wlz-1": "KR",
	"eu-central-1-wl1-ber-wlz-1":   "DE",
	"eu-central-1-wl1-dtm-wlz-1":   "DE",
	"eu-central-1-wl1-muc-wlz-1":   "DE",
	"eu-west-2-wl2-man-wlz-1":      "GB",
	"us-east-1-foe-wlz-1":          "", // listed, location not published
	"us-east-1-wl1-atl-wlz-1":      "US",
	"us-east-1-wl1-bna-wlz-1":      "US",
	"us-east-1-wl1-bos-wlz-1":      "US",
	"us-east-1-wl1-chi-wlz-1":      "US",
	"us-east-1-wl1-clt-wlz-1":      "US",
	"us-east-1-wl1-dfw-wlz-1":      "US",
	"us-east-1-wl1-dtw-wlz-1":      "US",
	"us-east-1-wl1-iah-wlz-1":      "US",
	"us-east-1-wl1-mia-wlz-1":      "US",
	"us-east-1-wl1-msp-wlz-1":      "US",
	"us-east-1-wl1-nyc-wlz-1":      "US",
	"us-east-1-wl1-tpa-wlz-1":      "US",
	"us-east-1-wl1-was-wlz-1":      "US",
	"us-west-2-wl1-den-wlz-1":      "US",
	"us-west-2-wl1-las-wlz-1":      "US",
	"us-west-2-wl1-lax-wlz-1":      "US",
	"us-west-2-wl1-phx-wlz-1":      "US",
	"us-west-2-wl1-sea-wlz-1":      "US",
	"us-west-2-wl1-sfo-wlz-1":      "US",
}

// azureRegions uses the Service Tags spellings (properties.region).
var azureRegions = map[string]string{
	"australiacentral":   "AU",
	"australiacentral2":  "AU",
	"australiaeast":      "AU",
	"australiasoutheast": "AU",
	"austriaeast":        "AT",
	"brazilne":           "BR",
	"brazilse":           "BR",
	"brazilsouth":        "BR",
	"canadacentral":      "CA",
	"canadaeast":         "CA",
	"centralfrance":      "FR", // ARM name francecentral, Paris
	"centralindia":       "IN",
	"centralus":          "US",
	"centraluseuap":      "US",
	"chilec":             "CL",
	"eastasia":           "HK",
	"eastus":             "US",
	"eastus2":            "US",
	"eastus2euap":        "US",
	"germanyn":           "DE",
	"germanywc":          "DE",
	"indonesiacentral":   "ID",
	"israelcentral":      "IL",
	"israelnorthwest":    "IL",
	"italynorth":         "IT",
	"japaneast":          "JP",
	"japanwest":          "JP",
	"jioindiacentral":    "IN",
	"jioindiawest":       "IN",
	"koreacentral":       "KR",
	"koreasouth":         "KR",
	"malaysiasouth":      "MY",
	"malaysiawest":       "MY",
	"mexicocentral":      "MX",
	"newzealandnorth":    "NZ",
	"northcentralus":     "US",
	"northeurope":        "IE", // Dublin
	"northeurope2":       "",   // listed in Service Tags, location not published
	"norwaye":            "NO",
	"norwayw":            "NO",
	"polandcentral":      "PL",
	"qatarcentral":       "QA",
	"southafricanorth":   "ZA",
	"southafricawest":    "ZA",
	"southcentralus":     "US",
	"southcentralus2":    "US",
	"southeastasia":      "SG",
	"southeastus":        "US",
	"southfrance":        "FR", // Marseille
	"southindia":         "IN",
	"spaincentral":       "ES",
	"swedencentral":      "SE",
	"swedensouth":        "SE",
	"switzerlandn":       "CH",
	"switzerlandw":       "CH",
	"taiwannorth":        "TW",
	"taiwannorthwest":    "TW",
	"uaecentral":         "AE",
	"uaenorth":           "AE",
	"uksouth":            "GB",
	"ukwest":             "GB",
	"usstagec":           "US",
	"usstagee":           "US",
	"westcentralus":      "US",
	"westeurope":         "NL", // Amsterdam
	"westindia":          "IN",
	"westus":             "US",
	"westus2":            "US",
	"westus3":            "US",
}

// gcpRegions: Google Cloud regions (cloud.json "scope").
var gcpRegions = map[string]string{
	"africa-south1":           "ZA",
	"asia-east1":              "TW",
	"asia-east2":              "HK",
	"asia-northeast1":         "JP",
	"asia-northeast2":         "JP",
	"asia-northeast3":         "KR",
	"asia-south1":             "IN",
	"asia-south2":             "IN",
	"asia-southeast1":         "SG",
	"asia-southeast2":         "ID",
	"australia-southeast1":    "AU",
	"australia-southeast2":    "AU",
	"europe-central2":         "PL", // Warsaw
	"europe-north1":           "FI", // Hamina
	"europe-north2":           "SE", // Stockholm
	"europe-southwest1":       "ES", // Madrid
	"europe-west1":            "BE",
	"europe-west10":           "DE", // Berlin
	"europe-west12":           "IT", // Turin
	"europe-west2":            "GB", // London
	"europe-west3":            "DE", // Frankfurt
	"europe-west4":            "NL",
	"europe-west6":            "CH", // Zurich: europe- but not EU
	"europe-west8":            "IT", // Milan
	"europe-west9":            "FR", // Paris
	"me-central1":             "QA", // Doha
	"me-central2":             "SA", // Dammam
	"me-west1":                "IL", // Tel Aviv
	"northamerica-northeast1": "CA",
	"northamerica-northeast2": "CA",
	"northamerica-south1":     "MX",
	"southamerica-east1":      "BR",
	"southamerica-west1":      "CL",
	"us-central1":             "US",
	"us-central2":             "US",
	"us-east1":                "US",
	"us-east4":                "US",
	"us-east5":                "US",
	"us-east7":                "US",
	"us-south1":               "US",
	"us-west1":                "US",
	"us-west2":                "US",
	"us-west3":                "US",
	"us-west4":                "US",
	"us-west8":                "US",
}

// oracleRegions: OCI region identifiers.
var oracleRegions = map[string]string{
	"af-johannesburg-1": "ZA",
	"ap-batam-1":        "ID",
	"ap-chuncheon-1":    "KR",
	"ap-hyderabad-1":    "IN",
	"ap-melbourne-1":    "AU",
	"ap-mumbai-1":       "IN",
	"ap-osaka-1":        "JP",
	"ap-seoul-1":        "KR",
	"ap-singapore-1":    "SG",
	"ap-singapore-2":    "SG",
	"ap-sydney-1":       "AU",
	"ap-tokyo-1":        "JP",
	"ca-montreal-1":     "CA",
	"ca-toronto-1":      "CA",
	"eu-amsterdam-1":    "NL",
	"eu-frankfurt-1":    "DE",
	"eu-jovanovac-1":    "RS", // Serbia: an eu- region outside the EU
	"eu-madrid-1":       "ES",
	"eu-marseille-1":    "FR",
	"eu-milan-1":        "IT",
	"eu-paris-1":        "FR",
	"eu-stockholm-1":    "SE",
	"eu-zurich-1":       "CH", // Switzerland: eu- but not EU
	"il-jerusalem-1":    "IL",
	"me-abudhabi-1":     "AE",
	"me-dubai-1":        "AE",
	"me-jeddah-1":       "SA",
	"me-riyadh-1":       "SA",
	"mx-monterrey-1":    "MX",
	"mx-queretaro-1":    "MX",
	"sa-bogota-1":       "CO",
	"sa-santiago-1":     "CL",
	"sa-saopaulo-1":     "BR",
	"sa-valparaiso-1":   "CL",
	"sa-vinhedo-1":      "BR",
	"uk-cardiff-1":      "GB",
	"uk-london-1":       "GB",
	"us-abilene-1":      "US",
	"us-ashburn-1":      "US",
	"us-boardman-1":     "US",
	"us-chicago-1":      "US",
	"us-dallas-1":       "US",
	"us-phoenix-1":      "US",
	"us-saltlake-2":     "US",
	"us-sanjose-1":      "US",
}

// regionTable returns the region table of an ECS provider name.
func regionTable(provider string) map[string]string {
	switch provider {
	case AWS:
		return awsRegions
	case Azure:
		return azureRegions
	case GCP:
		return gcpRegions
	case Oracle:
		return oracleRegions
	}
	return nil
}

// WriteRegionTables writes every built-in region table, in a fixed order,
// to w: the caches of parsed provider files hold countries taken from
// these tables, so their keys include them, and a new release with a
// corrected table does not keep serving the old answers.
func WriteRegionTables(w io.Writer) {
	for _, p := range []string{AWS, Azure, GCP, Oracle} {
		t := regionTable(p)
		for _, r := range slices.Sorted(maps.Keys(t)) {
			fmt.Fprintf(w, "%s\x00%s\x00%s\n", p, r, t[r])
		}
	}
}

// RegionCountry returns the country of a provider's region from the
// built-in table. known is false when the region is not in the table or
// its location is not published.
func RegionCountry(provider, region string) (country string, known bool) {
	c, ok := regionTable(provider)[region]
	return c, ok && c != ""
}
