package main

import "github.com/egresswatch/egresswatch/pipeline"

// loadInventory reads the --inventory file; nil without one. Live calls
// it again on SIGHUP.
func (r *runFlags) loadInventory() (*pipeline.Inventory, error) {
	if r.inventory == "" {
		return nil, nil
	}
	return pipeline.LoadInventory(r.inventory)
}
