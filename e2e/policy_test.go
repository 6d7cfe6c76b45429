//go:build linux

package e2e

import (
	"os"
	"path/filepath"
	"testing"
)

// policyA alerts on TikTok and on any flow from the client to an address
// that cannot be placed (the lab has no GeoIP data for 10.77.0.0/24,
// which the policy does not call internal).
const policyA = `version: 1
internal: [192.168.0.0/16]
jurisdictions:
  approved: [UK]
groups:
  government: {cidrs: [10.77.0.2/32]}
rules:
  - id: gov-sensitive-app
    name: Government device contacted TikTok
    from: [government]
    to: [tiktok]
    severity: high
  - id: gov-outside-approved
    name: Government traffic left approved jurisdictions
    from: [government]
    to: any
    allow: [approved]
    indeterminate: warn
    severity: medium
suppress: 0s
`

// policyB renames the TikTok rule, so alerts show which policy judged them.
const policyB = `version: 1
internal: [192.168.0.0/16]
groups:
  government: {cidrs: [10.77.0.2/32]}
rules:
  - id: tiktok-v2
    name: TikTok (second policy)
    from: [government]
    to: [tiktok]
    severity: high
suppress: 0s
`

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p+".tmp", []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(p+".tmp", p); err != nil {
		t.Fatal(err)
	}
	return p
}
