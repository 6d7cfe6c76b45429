// Package flow defines the leaf value types that every stage of egresswatch
// shares: the transport protocol, the bidirectional flow key, the
// Community ID flow hash, the device behind a flow's initiator (Device)
// and how a destination's name is known (NameSource). It depends on the
// standard library only.
package flow
