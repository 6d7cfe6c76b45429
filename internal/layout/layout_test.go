// Package layout_test checks the shape of the module: imports go one way
// along the pipeline, and every package says what it is for.
package layout_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/egresswatch/egresswatch/"

// allowed lists, for each package, the project packages it may import.
// Arrows point up the pipeline: capture -> classify -> track -> geo ->
// rules -> output/report, wired by pipeline and driven by cmd.
var allowed = map[string][]string{
	"flow":                   {},
	"capture":                {},
	"capture/pcaptest":       {},
	"capture/afpacket":       {"capture"},
	"classify/tlshello":      {},
	"classify/quic":          {},
	"classify/gquic":         {},
	"classify":               {"flow", "capture", "classify/tlshello", "classify/quic", "classify/gquic"},
	"track":                  {"flow", "classify"},
	"geo":                    {"geo/internal/cachefile", "geo/provider"},
	"geo/internal/cachefile": {},
	"geo/provider":           {"geo/internal/cachefile"},
	"geo/fetch":              {"geo/provider"},
	"rules":                  {"flow", "geo"},
	"output":                 {"flow", "classify", "track", "geo", "rules", "report"},
	"report":                 {},
	"evidence":               {"flow"},
	"outfile":                {},
	"pipeline":               {"flow", "capture", "classify", "track", "geo", "rules", "output", "report", "evidence", "internal/prefetch"},
	"metrics":                {"pipeline"},
	"fleet":                  {"output", "report", "rules"},
	"cmd/egresswatch":        {"capture", "capture/afpacket", "geo", "geo/fetch", "rules", "output", "report", "pipeline", "metrics", "fleet", "outfile", "evidence"},
	"internal/netnstest":     {},
	"internal/prefetch":      {},
	"internal/natstest":      {},
	"internal/testcache":     {},
	"internal/initialseal":   {},
	"e2e":                    {},
	"bench/gen":              {},
	"bench/bareloop":         {"classify/quic", "classify/tlshello"},
	"bench/profile":          {"capture", "geo", "pipeline", "rules"},
}

type pkg struct {
	ImportPath string
	Doc        string
	Name       string
	Imports    []string
	GoFiles    []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"...")
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestImportsFollowThePipeline(t *testing.T) {
	for _, p := range listPackages(t) {
		name := strings.TrimPrefix(p.ImportPath, module)
		if len(p.GoFiles) == 0 {
			continue // test-only directories such as this one
		}
		ok, known := allowed[name]
		if !known {
			t.Errorf("%s: not in the layout table; add it with the project packages it may import", name)
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			dep := strings.TrimPrefix(imp, module)
			if !slices.Contains(ok, dep) {
				t.Errorf("%s imports %s: against the pipeline's direction (allowed: %v)", name, dep, ok)
			}
		}
	}
}

func TestEveryPackageHasADoc(t *testing.T) {
	for _, p := range listPackages(t) {
		if len(p.GoFiles) > 0 && p.Doc == "" {
			t.Errorf("%s: no package doc comment", p.ImportPath)
		}
	}
}
