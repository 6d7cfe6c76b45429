//go:build ignore

// worldmap_gen turns the Natural Earth country shapes of the npm package
// world-atlas (TopoJSON, by Mike Bostock, ISC licence; the shapes are
// Natural Earth's, public domain) into html/world.json: one SVG path per
// country in the Equal Earth projection, keyed by ISO 3166-1 alpha-2 code,
// with integer relative coordinates. Countries too small for the 1:110m
// shapes (Singapore, Hong Kong, Luxembourg, Malta, ...) get a dot at the
// centre of their largest 1:50m polygon. Antarctica is left out.
//
//	make worldmap   # npm pack world-atlas into out/world-atlas, then this
//	go run worldmap_gen.go -atlas DIR -o html/world.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/text/language"
)

type topology struct {
	Transform struct {
		Scale     [2]float64 `json:"scale"`
		Translate [2]float64 `json:"translate"`
	} `json:"transform"`
	Arcs    [][][2]float64 `json:"arcs"`
	Objects struct {
		Countries struct {
			Geometries []geometry `json:"geometries"`
		} `json:"countries"`
	} `json:"objects"`
}

type geometry struct {
	Type       string          `json:"type"`
	ID         string          `json:"id"`
	Arcs       json.RawMessage `json:"arcs"`
	Properties struct {
		Name string `json:"name"`
	} `json:"properties"`
}

// Width of the map in SVG units; the height follows from the projection.
const width = 1000

type country struct {
	ID   string `json:"id"`   // ISO 3166-1 alpha-2; "" when the atlas has no code
	Name string `json:"name"` // as Natural Earth spells it
	Path string `json:"d,omitempty"`
	X    int    `json:"x,omitempty"` // dot for a country too small for a shape
	Y    int    `json:"y,omitempty"`
}

func main() {
	atlas := flag.String("atlas", "../out/world-atlas/package", "unpacked world-atlas package")
	out := flag.String("o", "html/world.json", "output")
	flag.Parse()
	small := load(filepath.Join(*atlas, "countries-110m.json"))
	big := load(filepath.Join(*atlas, "countries-50m.json"))

	// Equal Earth spans ±2.7064 (x) and ±1.3173 (y) on the unit sphere;
	// crop the south below Tierra del Fuego (Antarctica is left out).
	scale := width / (2 * 2.70640)
	_, yTop := equalEarth(0, 84)
	_, yBottom := equalEarth(0, -57)
	height := int(math.Ceil((yTop - yBottom) * scale))
	project := func(lon, lat float64) (int, int) {
		x, y := equalEarth(lon, lat)
		return int(math.Round(width/2 + x*scale)), int(math.Round((yTop - y) * scale))
	}

	var countries []country
	have := map[string]bool{}
	for _, g := range small.Objects.Countries.Geometries {
		id := alpha2(g.ID)
		if id == "AQ" {
			continue
		}
		var d strings.Builder
		for _, poly := range small.polygons(g) {
			for _, ring := range poly {
				pathRing(&d, ring, project)
			}
		}
		countries = append(countries, country{ID: id, Name: g.Properties.Name, Path: d.String()})
		have[id] = true
	}
	for _, g := range big.Objects.Countries.Geometries {
		id := alpha2(g.ID)
		if id == "" || id == "AQ" || have[id] {
			continue
		}
		// The centre of the largest outer ring's bounding box.
		var best [][2]float64
		var bestArea float64
		for _, poly := range big.polygons(g) {
			if a := math.Abs(area(poly[0])); a > bestArea {
				best, bestArea = poly[0], a
			}
		}
		if best == nil {
			continue
		}
		minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
		for _, p := range best {
			minX, maxX = min(minX, p[0]), max(maxX, p[0])
			minY, maxY = min(minY, p[1]), max(maxY, p[1])
		}
		x, y := project((minX+maxX)/2, (minY+maxY)/2)
		countries = append(countries, country{ID: id, Name: g.Properties.Name, X: x, Y: y})
		have[id] = true
	}
	slices.SortFunc(countries, func(a, b country) int { return strings.Compare(a.ID+a.Name, b.ID+b.Name) })
	doc := struct {
		Source    string    `json:"source"`
		Width     int       `json:"width"`
		Height    int       `json:"height"`
		Countries []country `json:"countries"`
	}{"Natural Earth 1:110m (1:50m for dots) via world-atlas; Equal Earth projection", width, height, countries}
	b, err := json.Marshal(doc)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d countries, %d bytes\n", *out, len(countries), len(b))
}

func load(path string) *topology {
	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	var t topology
	if err := json.Unmarshal(b, &t); err != nil {
		log.Fatalf("%s: %v", path, err)
	}
	// Arcs are delta-encoded, quantized positions: make them absolute degrees.
	for _, arc := range t.Arcs {
		var x, y float64
		for i := range arc {
			x += arc[i][0]
			y += arc[i][1]
			arc[i] = [2]float64{x*t.Transform.Scale[0] + t.Transform.Translate[0], y*t.Transform.Scale[1] + t.Transform.Translate[1]}
		}
	}
	return &t
}

// polygons returns a geometry's polygons, each a list of rings (outer first).
func (t *topology) polygons(g geometry) [][][][2]float64 {
	var polys [][][]int
	switch g.Type {
	case "Polygon":
		var p [][]int
		if err := json.Unmarshal(g.Arcs, &p); err != nil {
			log.Fatal(err)
		}
		polys = [][][]int{p}
	case "MultiPolygon":
		if err := json.Unmarshal(g.Arcs, &polys); err != nil {
			log.Fatal(err)
		}
	}
	var out [][][][2]float64
	for _, p := range polys {
		var rings [][][2]float64
		for _, r := range p {
			var ring [][2]float64
			for _, a := range r {
				var arc [][2]float64
				if a < 0 { // ~a, walked backwards
					arc = slices.Clone(t.Arcs[^a])
					slices.Reverse(arc)
				} else {
					arc = t.Arcs[a]
				}
				if len(ring) > 0 {
					arc = arc[1:] // arcs share their end points
				}
				ring = append(ring, arc...)
			}
			rings = append(rings, ring)
		}
		out = append(out, rings)
	}
	return out
}

// pathRing appends one closed ring as integer relative SVG commands,
// dropping points that do not move after rounding.
func pathRing(d *strings.Builder, ring [][2]float64, project func(lon, lat float64) (int, int)) {
	// A ring that crosses the antimeridian (Fiji, Chukotka) would be drawn
	// across the whole map: put its points on the side most of them are on.
	side, cross := 0, false
	for i, p := range ring {
		if p[0] > 0 {
			side++
		} else {
			side--
		}
		if i > 0 && math.Abs(p[0]-ring[i-1][0]) > 180 {
			cross = true
		}
	}
	var pts [][2]int
	for _, p := range ring {
		if cross && side > 0 && p[0] < 0 {
			p[0] = 180
		} else if cross && side <= 0 && p[0] > 0 {
			p[0] = -180
		}
		x, y := project(p[0], p[1])
		if n := len(pts); n > 0 && pts[n-1] == [2]int{x, y} {
			continue
		}
		pts = append(pts, [2]int{x, y})
	}
	if len(pts) < 3 {
		return
	}
	fmt.Fprintf(d, "M%d %d", pts[0][0], pts[0][1])
	d.WriteByte('l')
	for i := 1; i < len(pts); i++ {
		dx, dy := pts[i][0]-pts[i-1][0], pts[i][1]-pts[i-1][1]
		if i > 1 && dx >= 0 {
			d.WriteByte(' ')
		}
		d.WriteString(strconv.Itoa(dx))
		if dy >= 0 {
			d.WriteByte(' ')
		}
		d.WriteString(strconv.Itoa(dy))
	}
	d.WriteByte('z')
}

func area(ring [][2]float64) float64 {
	var a float64
	for i := range ring {
		j := (i + 1) % len(ring)
		a += ring[i][0]*ring[j][1] - ring[j][0]*ring[i][1]
	}
	return a / 2
}

// equalEarth projects degrees onto the unit sphere's Equal Earth plane
// (Šavrič, Patterson, Jenny 2018).
func equalEarth(lon, lat float64) (x, y float64) {
	const a1, a2, a3, a4 = 1.340264, -0.081106, 0.000893, 0.003796
	m := math.Sqrt(3) / 2
	l, p := lon*math.Pi/180, lat*math.Pi/180
	t := math.Asin(m * math.Sin(p))
	t2 := t * t
	t6 := t2 * t2 * t2
	x = 2 * math.Sqrt(3) * l * math.Cos(t) / (3 * (9*a4*t6*t2 + 7*a3*t6 + 3*a2*t2 + a1))
	y = t * (a4*t6*t2 + a3*t6 + a2*t2 + a1)
	return x, y
}

// alpha2 maps an ISO 3166-1 numeric id ("826") to its alpha-2 code ("GB").
func alpha2(numeric string) string {
	if numeric == "" {
		return ""
	}
	r, err := language.ParseRegion(numeric)
	if err != nil {
		log.Printf("no ISO code for %q: %v", numeric, err)
		return ""
	}
	return r.String()
}
