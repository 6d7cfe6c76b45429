package main

import "github.com/egresswatch/egresswatch/track"

// loadInventory reads the --inventory file; nil without one. Live calls
// it again on SIGHUP.
func (r *runFlags) loadInventory() (*track.Inventory, error) {
	if r.inventory == "" {
		return nil, nil
	}
	return track.LoadInventory(r.inventory)
}
