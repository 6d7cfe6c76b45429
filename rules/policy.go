package rules

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/egresswatch/egresswatch/flow"
	"github.com/egresswatch/egresswatch/geo"
)

// Severity is how bad a rule's alert is. The zero value is unknown.
type Severity uint8

// Severities, lowest first.
const (
	SeverityUnknown Severity = iota
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"unknown", "low", "medium", "high", "critical"}

// String returns the spelling used in the policy file.
func (s Severity) String() string {
	if int(s) < len(severityNames) {
		return severityNames[s]
	}
	return "unknown"
}

// ECS returns the numeric event.severity: 21, 47, 73, 99 for low to
// critical (the Elastic Security risk mapping), 0 when unknown.
func (s Severity) ECS() int {
	switch s {
	case SeverityLow:
		return 21
	case SeverityMedium:
		return 47
	case SeverityHigh:
		return 73
	case SeverityCritical:
		return 99
	}
	return 0
}

// LogLevel returns the log.level for an alert of this severity (syslog
// names): notice, warning, error, critical.
func (s Severity) LogLevel() string {
	switch s {
	case SeverityLow:
		return "notice"
	case SeverityMedium:
		return "warning"
	case SeverityHigh:
		return "error"
	case SeverityCritical:
		return "critical"
	}
	return "info"
}

// warn returns the severity of a warning derived from s: one step lower,
// never below low.
func (s Severity) warn() Severity {
	if s > SeverityLow {
		return s - 1
	}
	return SeverityLow
}

// Indeterminate says what a rule with allow sets does when the destination
// cannot be placed in one country.
type Indeterminate uint8

// Indeterminate modes. The default is IndeterminateWarn.
const (
	IndeterminateWarn   Indeterminate = iota // fire at the warning severity
	IndeterminateAlert                       // fire at the rule's severity
	IndeterminateIgnore                      // do not fire
)

func (m Indeterminate) String() string {
	switch m {
	case IndeterminateAlert:
		return "alert"
	case IndeterminateIgnore:
		return "ignore"
	}
	return "warn"
}

// Kind is the moment in a flow's life an Input describes.
type Kind uint8

// Kinds of Input.
const (
	KindFlowStart Kind = iota // first packet of a flow from a device
	KindFlowNamed             // the flow gained a name (SNI, Host, a later DNS answer)
	KindDNSQuery              // a device resolved a name; no flow yet
)

func (k Kind) String() string {
	switch k {
	case KindFlowStart:
		return "flow-start"
	case KindFlowNamed:
		return "flow-named"
	case KindDNSQuery:
		return "dns-query"
	}
	return "unknown"
}

// Input is one thing to evaluate. The pointer passed to Evaluate is only
// read, and not kept.
type Input struct {
	Kind Kind
	Time time.Time // packet time
	// First is when the flow began (the alert's evidence.first_seen); zero
	// for a DNS question, whose evidence starts at Time.
	First      time.Time
	Src        netip.Addr
	Device     flow.Device // the source device's MAC and VLAN tags
	Dst        netip.Addr  // invalid for KindDNSQuery when there is no answer
	DstPort    uint16
	Transport  flow.Proto
	Name       string // best name for the destination (lower-case, no trailing dot)
	NameSource flow.NameSource
	Place      geo.Placement
}

// Match is one rule that fired.
type Match struct {
	Rule    *Rule
	Groups  []string // source groups that matched (from ∩ device's groups)
	Service string   // service that matched to ("" for any)
	// DstService is the first catalogue service the destination belongs
	// to, also for rules with to: any ("" when none).
	DstService    string
	Allowed       []string // the allow sets of the rule, as written
	Country       string   // placement country the decision used ("" if none)
	Indeterminate bool     // fired because placement was indeterminate
	DNSOnly       bool     // KindDNSQuery: the device resolved the name, no flow seen
	Severity      Severity // after the warning downgrade
}

// Pos is a position in a policy file.
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// Rule is one compiled rule. Its exported fields are read-only.
type Rule struct {
	ID            string
	Name          string
	From          []string // group names
	To            []string // service names; nil when Any
	Any           bool     // to: any
	Allow         []string // jurisdiction names and country codes, as written
	Indeterminate Indeterminate
	Severity      Severity
	Except        ServiceSpec
	Pos           Pos

	from     bitset
	to       bitset
	except   int // service index of the except list, -1 when none
	hasAllow bool
	allow    countrySet
}

// ServiceSpec is what identifies a service's destinations.
type ServiceSpec struct {
	Domains []string // A-labels, lower-case; each matches itself and its subdomains
	Hosts   []string // exact names
	ASNs    []uint32
	CIDRs   []netip.Prefix
}

// Service is a named set of destinations.
type Service struct {
	Name    string
	Source  string // "builtin: ...", "file:line", "catalog FILE"
	Spec    ServiceSpec
	builtin bool
	hidden  bool // a rule's except list
	edge    bool // built-in domains also match inside CDN edge names
}

// Group is a named set of devices.
type Group struct {
	Name  string
	CIDRs []netip.Prefix
	VLANs []uint16
	MACs  []MACPrefix
	// Hostnames are globs (lower case) on the device's name; Inventory
	// the inventory group tags it may carry (rules/devices.go).
	Hostnames []string
	Inventory []string
	Pos       Pos
}

// MACPrefix is a full MAC (Len 6) or an OUI (Len 3).
type MACPrefix struct {
	Addr [6]byte
	Len  int
}

// Policy is a loaded, validated policy. It is immutable and safe for
// concurrent use.
type Policy struct {
	File    string
	Version int
	// Revision names this version of the policy for alerts
	// (egresswatch.policy.revision): the revision in the central policy
	// bucket, or a digest of the file. Set by whoever loaded it; "" when
	// unknown.
	Revision      string
	Internal      []netip.Prefix
	Suppress      time.Duration
	Jurisdictions map[string]*Jurisdiction
	groups        []*Group // in file order
	services      []*Service
	Rules         []*Rule

	groupNames []string
	groupCIDRs []prefixIndex
	groupVLAN  map[uint16]bitset
	groupMAC   map[[6]byte]bitset // full MACs
	groupOUI   map[[3]byte]bitset
	groupHosts []hostPattern // hostnames globs
	groupTags  []hostPattern // inventory tags
	svc        serviceIndex
	idna       idnaConverter
}

type prefixIndex struct {
	p   netip.Prefix
	idx int
}

// AllGroups returns the policy's groups in file order.
func (p *Policy) AllGroups() []*Group { return p.groups }

// AllServices returns the services (built-in first), without rules' except lists.
func (p *Policy) AllServices() []*Service {
	var out []*Service
	for _, s := range p.services {
		if !s.hidden {
			out = append(out, s)
		}
	}
	return out
}

// Rule returns the rule with the given id, or nil.
func (p *Policy) Rule(id string) *Rule {
	for _, r := range p.Rules {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// maxSets caps the number of groups and of services (including rules'
// except lists), so that set arithmetic on the hot path stays on the stack.
const maxSets = 512

type bitset [maxSets / 64]uint64

func (b *bitset) set(i int)      { b[i/64] |= 1 << (i % 64) }
func (b *bitset) has(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }
func (b *bitset) or(o *bitset) {
	for i := range b {
		b[i] |= o[i]
	}
}
func (b *bitset) empty() bool {
	for _, w := range b {
		if w != 0 {
			return false
		}
	}
	return true
}
func (b *bitset) intersects(o *bitset) bool {
	for i := range b {
		if b[i]&o[i] != 0 {
			return true
		}
	}
	return false
}

// first returns the lowest index set in b∩o, or -1.
func (b *bitset) firstAnd(o *bitset) int {
	for i := range b {
		if w := b[i] & o[i]; w != 0 {
			for j := range 64 {
				if w&(1<<j) != 0 {
					return i*64 + j
				}
			}
		}
	}
	return -1
}
