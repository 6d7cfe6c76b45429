package flow

// Device is what identifies the device behind a flow's initiator apart
// from its address, which DHCP leases and re-leases: its link-layer
// address and the VLANs it was seen on. It is a plain value, copied whole
// from the decoder to the flow table and on to the policy.
//
// The zero value is an unknown device: no MAC, no VLAN.
type Device struct {
	MAC    [6]byte // link-layer address, when HasMAC
	HasMAC bool
	VLAN   [2]uint16 // 802.1Q/802.1ad tags, outermost first; NVLAN are set
	NVLAN  uint8
	// ID is the device's identity as the binding table knows it (name,
	// leased MAC, inventory entry); nil when nothing is known.
	ID *Identity
}

// Name returns the device's name; "" when unknown.
func (d *Device) Name() string {
	if d.ID == nil {
		return ""
	}
	return d.ID.Name
}

// LinkAddr returns the device's MAC: the one it leased its address with
// when known, else the frame's.
func (d *Device) LinkAddr() ([6]byte, bool) {
	if d.ID != nil && d.ID.HasMAC {
		return d.ID.MAC, true
	}
	return d.MAC, d.HasMAC
}

// VLANs returns the device's VLAN tags, outermost first. The slice
// aliases d.
func (d *Device) VLANs() []uint16 { return d.VLAN[:d.NVLAN] }
