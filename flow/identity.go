package flow

// DeviceSource says where a device's name came from. Sources are ordered
// from weakest to strongest: a binding from a stronger source is not
// replaced by a weaker one.
type DeviceSource uint8

const (
	DeviceNone      DeviceSource = iota // zero value: no name
	DeviceMDNS                          // an mDNS answer the device gave for itself
	DeviceLLMNR                         // an LLMNR answer the device gave for itself
	DeviceNBNS                          // a NetBIOS name registration or answer for the device's own address
	DeviceDHCPv6                        // a DHCPv6 reply that assigned the address
	DeviceDHCP                          // a DHCPv4 ACK that leased the address
	DeviceInventory                     // the asset inventory
)

var deviceSourceNames = [...]string{"", "mdns", "llmnr", "nbns", "dhcpv6", "dhcp", "inventory"}

// String returns the source as egresswatch.device.name_source writes it;
// "" for DeviceNone.
func (s DeviceSource) String() string {
	if int(s) < len(deviceSourceNames) {
		return deviceSourceNames[s]
	}
	return ""
}

// Weak reports whether the source is a link-local name announcement
// (mDNS, LLMNR, NBNS), which a DHCP binding overrides.
func (s DeviceSource) Weak() bool { return s >= DeviceMDNS && s <= DeviceNBNS }

// Identity is what is known of a device beyond its address: its name, the
// link-layer address it leased its address with (known even when its
// frames come through a router), and what the asset inventory says of
// it. An Identity is immutable once made and shared by every flow of the
// device; the pipeline's binding table makes them.
type Identity struct {
	Name     string // host name as learned or from the inventory; "" if none
	NameFold string // Name in lower case, for case-insensitive matching
	Source   DeviceSource
	MAC      [6]byte // set when HasMAC
	HasMAC   bool

	// From the inventory; "" when not given.
	Owner      string
	Department string
	Group      string
}
