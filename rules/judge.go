package rules

import (
	"maps"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/egresswatch/egresswatch/flow"
)

// SettleAfter is how many packets a flow may carry without a name before
// it is judged without one. The ClientHello or Host of a connection comes
// within its first few packets; an alert should carry the name when there
// is one, but must not wait for a name that will never come.
const SettleAfter = 10

// Moment is the point in a flow's life at which a Judge is asked.
type Moment uint8

// Moments of a flow's life, in the order they happen.
const (
	MomentStart   Moment = iota // the flow's first packet
	MomentNamed                 // the flow gained a name or a better one (SNI, Host)
	MomentSettled               // nothing more is likely to name the flow (track.Flow.Settle)
	MomentEnded                 // the flow ended
)

// Alert is one alert to emit: a rule that fired on an input, or, when
// Summary is set, the close of a suppression window in which repeats of
// an alert were counted instead of emitted.
type Alert struct {
	Match     Match
	Input     Input     // what was judged (a summary: zero)
	FirstSeen time.Time // the evidence's first sighting: the flow's start, or the DNS question
	// Summary is the closed window of a suppressed-summary alert; Match
	// then holds the rule (nil if a reload removed it) and the groups of
	// the device by address.
	Summary *Summary
}

// Service is the service the alert is about: the rule's, else the
// destination's first catalogue service.
func (a *Alert) Service() string {
	if a.Summary != nil {
		return a.Summary.Key.Service
	}
	if a.Match.Service != "" {
		return a.Match.Service
	}
	return a.Match.DstService
}

// FlowJudging is what a Judge keeps for one flow: whether its first
// judgement waits for a name, and which alerts it has raised. The zero
// value is a flow not yet judged.
type FlowJudging struct {
	pending bool
	alerted []string // rule, service and name of each alert raised
}

func (f *FlowJudging) alertedOnce(key string) bool {
	for _, k := range f.alerted {
		if k == key {
			return true
		}
	}
	f.alerted = append(f.alerted, key)
	return false
}

// JudgeStats counts a Judge's work.
type JudgeStats struct {
	Evaluations uint64
	Alerts      uint64 // emitted
	Suppressed  uint64 // counted into a later summary
	// SuppressWindows is how many suppression windows are open;
	// SuppressEvicted how many were closed early because the table was
	// full.
	SuppressWindows int
	SuppressEvicted uint64
	ByRule          map[string]uint64 // emitted and suppressed, by rule id
}

// Judge decides when a flow is judged against the policy and which of
// the alerts it breaks are emitted: a flow is judged once it has a name,
// or once naming it is hopeless (MomentSettled, MomentEnded); again when
// it gains a better name, raising only alerts it has not raised yet; and
// repeats of an alert within the policy's suppress window are counted and
// closed by a summary. A device's DNS question is judged too.
//
// A Judge is not safe for concurrent use, except SetPolicy and Policy;
// the pipeline runs it in frame order, so its decisions do not depend on
// how the packets were sharded.
type Judge struct {
	policy  atomic.Pointer[Policy]
	supp    *Suppressor
	matches []Match
	closed  []Summary
	out     []Alert
	stats   JudgeStats
}

// NewJudge returns a Judge of policy p that keeps at most maxWindows
// suppression windows open (the oldest is closed early beyond that).
func NewJudge(p *Policy, maxWindows int) *Judge {
	j := &Judge{supp: NewSuppressorCap(p.Suppress, maxWindows), stats: JudgeStats{ByRule: map[string]uint64{}}}
	j.policy.Store(p)
	return j
}

// SetPolicy puts p in force for everything judged from now on. It is safe
// to call while another goroutine judges. The suppress window stays the
// one the Judge started with.
func (j *Judge) SetPolicy(p *Policy) { j.policy.Store(p) }

// Policy returns the policy in force. Safe for concurrent use.
func (j *Judge) Policy() *Policy { return j.policy.Load() }

// IsEncryptedDNS is Policy.IsEncryptedDNS of the policy in force.
func (j *Judge) IsEncryptedDNS(name string, dst netip.Addr, asn uint32) bool {
	return j.policy.Load().IsEncryptedDNS(name, dst, asn)
}

// Flow judges a flow at moment at, if this is when it should be: in
// describes the flow as named now (NameSource zero when it has no name).
// It returns the alerts to emit, in order; the slice is valid until the
// next call.
func (j *Judge) Flow(st *FlowJudging, at Moment, in *Input) []Alert {
	j.out = j.out[:0]
	switch at {
	case MomentStart:
		if in.NameSource == 0 {
			st.pending = true // the name usually comes a few packets after the SYN
			return j.out
		}
		in.Kind = KindFlowStart
	case MomentNamed:
		in.Kind = KindFlowNamed
		if st.pending {
			st.pending, in.Kind = false, KindFlowStart // the deferred first judgement, now with a name
		}
	case MomentSettled, MomentEnded:
		if !st.pending {
			return j.out
		}
		st.pending, in.Kind = false, KindFlowStart
	}
	j.evaluate(st, in)
	return j.out
}

// DNSQuery judges a device's DNS question: the device tried to reach the
// name, whether or not a connection follows. st is the DNS flow's.
func (j *Judge) DNSQuery(st *FlowJudging, in *Input) []Alert {
	j.out = j.out[:0]
	in.Kind = KindDNSQuery
	j.evaluate(st, in)
	return j.out
}

// Flush closes every open suppression window (the end of a run) and
// returns their summaries; the slice is valid until the next call.
func (j *Judge) Flush() []Alert {
	j.out = j.out[:0]
	j.closed = j.supp.Flush(j.closed[:0])
	j.summaries()
	return j.out
}

// Stats returns the counters so far.
func (j *Judge) Stats() JudgeStats {
	s := j.stats
	s.SuppressWindows, s.SuppressEvicted = j.supp.Len(), j.supp.Evicted()
	s.ByRule = maps.Clone(j.stats.ByRule)
	return s
}

func (j *Judge) evaluate(st *FlowJudging, in *Input) {
	j.stats.Evaluations++
	j.matches = j.policy.Load().Evaluate(in, j.matches[:0])
	for i := range j.matches {
		mt := &j.matches[i]
		svc := mt.Service
		if svc == "" {
			svc = mt.DstService
		}
		// One alert per rule and service for a flow: a flow that alerts at
		// its start and again once named adds only what is new.
		if st.alertedOnce(mt.Rule.ID + "\x00" + svc + "\x00" + in.Name) {
			continue
		}
		var emit bool
		emit, j.closed = j.supp.Admit(SuppressKey{Rule: mt.Rule.ID, Device: in.Src, Service: svc, Country: mt.Country}, in.Time, j.closed[:0])
		j.summaries()
		j.stats.ByRule[mt.Rule.ID]++
		if !emit {
			j.stats.Suppressed++
			continue
		}
		j.stats.Alerts++
		first := in.First
		if first.IsZero() {
			first = in.Time
		}
		j.out = append(j.out, Alert{Match: *mt, Input: *in, FirstSeen: first})
	}
}

// summaries turns the suppression windows that closed, and counted
// repeats, into summary alerts.
func (j *Judge) summaries() {
	pol := j.policy.Load()
	var unknown flow.Device // the window's key keeps no MAC or VLAN: groups by address only
	for _, s := range j.closed {
		if s.Suppressed == 0 {
			continue
		}
		m := Match{Rule: pol.Rule(s.Key.Rule), Groups: pol.Groups(s.Key.Device, &unknown, nil), Country: s.Key.Country}
		j.out = append(j.out, Alert{Match: m, Summary: &s})
	}
}
