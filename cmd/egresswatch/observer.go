package main

import (
	"fmt"
	"os"
	"regexp"
	"runtime/debug"
	"strings"

	"github.com/egresswatch/egresswatch/output"
)

// sensorName is what --sensor accepts: one NATS subject token, so that a
// sensor's messages go under egresswatch.<sensor>.
var sensorName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// buildVersion is observer.version: the module version the binary was
// built at ("(devel)" from a work tree).
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// newObserver returns the observer block of this sensor: name from
// --sensor, else the host name's first label with what a subject token
// cannot hold replaced by '-'.
func newObserver(name string) (*output.Observer, error) {
	host, _ := os.Hostname()
	if name == "" {
		name, _, _ = strings.Cut(host, ".")
		name = strings.Map(func(r rune) rune {
			if r < 0x80 && sensorName.MatchString(string(r)) {
				return r
			}
			return '-'
		}, name)
		if name == "" {
			name = "sensor"
		}
	}
	if !sensorName.MatchString(name) {
		return nil, fmt.Errorf("--sensor %q: use 1-64 letters, digits, '-' or '_'", name)
	}
	return &output.Observer{Name: name, Hostname: host, Version: buildVersion()}, nil
}
