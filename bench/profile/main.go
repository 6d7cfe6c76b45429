// Command profile runs the replay pipeline as `egresswatch replay --events /dev/null
// --alerts /dev/null` does (default policy, placement data found where replay looks for
// it) under runtime/pprof, for the profile in BENCHMARKS.md. The CPU profile covers the whole
// process: loading the placement data and the policy as well as the packets.
//
//	go run ./bench/profile -workers 1 -cpuprofile out/bench/cpu.prof FILE.pcap
//	go tool pprof -top -nodecount 15 out/bench/cpu.prof
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/egresswatch/egresswatch/capture"
	"github.com/egresswatch/egresswatch/geo"
	"github.com/egresswatch/egresswatch/pipeline"
	"github.com/egresswatch/egresswatch/rules"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		os.Exit(1)
	}
}

func run() error {
	cpu := flag.String("cpuprofile", "cpu.prof", "write the CPU profile to `FILE`")
	workers := flag.Int("workers", 1, "pipeline workers")
	flag.Parse()
	if flag.NArg() == 0 {
		return fmt.Errorf("usage: profile [-workers N] [-cpuprofile FILE] CAPTURE...")
	}
	f, err := os.Create(*cpu)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()

	t0 := time.Now()
	found := geo.Discover(geo.DefaultDirs(os.Getenv("EGRESSWATCH_GEO_DIR")))
	db, err := geo.Open(geo.Options{GeoIP: found.GeoIP, CloudDir: found.CloudDir})
	if err != nil {
		return fmt.Errorf("placement data: %w", err)
	}
	pol, err := rules.DefaultWith()
	if err != nil {
		return err
	}
	src, err := capture.OpenAll(flag.Args())
	if err != nil {
		return err
	}
	defer src.Close()
	setup := time.Since(t0)
	cfg := pipeline.Config{
		Events:    io.Discard,
		Alerts:    io.Discard,
		Policy:    pol,
		Workers:   *workers,
		NewPlacer: func() pipeline.Placer { return geo.NewCache(db, 1<<14) },
	}
	t1 := time.Now()
	sum, err := pipeline.Run(context.Background(), src, cfg)
	if err != nil {
		return err
	}
	d := time.Since(t1)
	fmt.Fprintf(os.Stderr, "set-up %.2fs; %d packets in %.2fs (%.0f packets/s); events %d\n",
		setup.Seconds(), sum.Decode.Frames, d.Seconds(), float64(sum.Decode.Frames)/d.Seconds(), sum.Events)
	return nil
}
