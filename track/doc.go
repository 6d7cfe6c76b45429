// Package track keeps what egresswatch remembers between packets: the
// per-worker flow table (who initiated, when, how much, what name) and the
// passive DNS cache that names a flow from the DNS answers seen before it.
//
// Time is packet time throughout: expiry follows the capture's clock, so a
// replay gives the same result every time. Every table is bounded and
// counts what it evicts.
package track
