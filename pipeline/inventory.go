package pipeline

import "github.com/egresswatch/egresswatch/track"

// Inventory is an asset inventory (track.Inventory), for Config.Inventory
// and Engine.SetInventory.
type Inventory = track.Inventory

// LoadInventory reads an asset inventory CSV file (see track.Inventory).
func LoadInventory(path string) (*Inventory, error) { return track.LoadInventory(path) }
