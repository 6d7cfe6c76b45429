package rules

import "net/netip"

var noAddr netip.Addr
