// Package flow defines the leaf value types that every stage of egresswatch
// shares: the transport protocol, the bidirectional flow key and the
// Community ID flow hash. It depends on the standard library only.
package flow
