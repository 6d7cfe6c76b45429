package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/egresswatch/egresswatch/fleet"
	"github.com/egresswatch/egresswatch/metrics"
	"github.com/egresswatch/egresswatch/pipeline"
	"github.com/egresswatch/egresswatch/report"
)

// natsFlags say how to reach the broker: for sensors (--publish, --policy
// nats:), the collector and policy push.
type natsFlags struct {
	conn fleet.Conn
}

func (n *natsFlags) register(fs *flag.FlagSet, urlFlag string) {
	if urlFlag != "" {
		fs.StringVar(&n.conn.URL, urlFlag, "", "NATS `URL` (nats://HOST:PORT or tls://HOST:PORT; comma-separated for a cluster)")
	}
	fs.StringVar(&n.conn.Creds, "nats-creds", "", "NATS credentials `FILE`: a .creds file (JWT + NKEY) or an NKEY seed (.nk, as nk -gen user writes it)")
	fs.StringVar(&n.conn.User, "nats-user", os.Getenv("NATS_USER"), "NATS user (default $NATS_USER; password in $NATS_PASSWORD)")
	n.conn.Pass = os.Getenv("NATS_PASSWORD")
	fs.StringVar(&n.conn.CA, "nats-ca", "", "CA bundle `FILE` to verify the NATS server's TLS certificate")
	fs.StringVar(&n.conn.Cert, "nats-cert", "", "client certificate `FILE` for NATS mutual TLS")
	fs.StringVar(&n.conn.Key, "nats-key", "", "client key `FILE` for NATS mutual TLS")
}

// publishFlags are the sensor's fleet flags (replay and live).
type publishFlags struct {
	url       string
	events    string
	compress  string
	wait      time.Duration
	spool     string
	spoolSize byteSize
	heartbeat time.Duration
}

func (p *publishFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.url, "publish", "", "publish alerts and flow summaries to the NATS JetStream at `URL` (nats://HOST:PORT)")
	fs.StringVar(&p.events, "publish-events", "flows", "what else to publish: none, flows (residency of every flow) or all (every event too)")
	fs.StringVar(&p.compress, "publish-compress", "s2", "compress messages to the broker: s2 (Content-Encoding: s2, about an eighth of the bytes) or none (plain JSON lines, for consumers other than the collector that cannot decode S2)")
	fs.DurationVar(&p.wait, "publish-wait", time.Minute, "at the end, wait this long for the broker to acknowledge everything")
	fs.StringVar(&p.spool, "spool", "", "keep unacknowledged messages in `DIR` (sent when the broker is back, or by the next run on DIR)")
	p.spoolSize = 1 << 30
	fs.Var(&p.spoolSize, "spool-size", "the spool's cap (default 1GiB): at the cap events are dropped first, then the oldest alerts, each counted")
	fs.DurationVar(&p.heartbeat, "heartbeat", 10*time.Second, "publish a heartbeat every `D`")
}

// startPublish connects the run to the fleet when --publish is set: alerts
// (and, with --publish-events all, events) are teed to the publisher, and
// the report's flows become residency records.
func (r *runSetup) startPublish(rf *runFlags, stderr io.Writer) error {
	pf := &rf.pub
	if pf.url == "" {
		return nil
	}
	switch pf.events {
	case "none", "flows", "all":
	default:
		return fmt.Errorf("--publish-events %q: use none, flows or all", pf.events)
	}
	switch pf.compress {
	case "s2", "none":
	default:
		return fmt.Errorf("--publish-compress %q: use s2 or none", pf.compress)
	}
	if rf.noPolicy {
		return errors.New("--publish needs a policy (drop --no-policy)")
	}
	logf := r.logf
	if err := r.natsConnect(rf, pf.url); err != nil {
		return err
	}
	nc, js := r.nc, r.js
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var spool *fleet.Spool
	var err error
	if pf.spool != "" {
		if spool, err = fleet.OpenSpool(pf.spool, int64(pf.spoolSize), logf); err != nil {
			return err
		}
	}
	var streamErr error
	if e := r.early; e != nil && e.url == pf.url && e.wait().checked {
		streamErr = e.streamErr // looked at while the placement data loaded
	} else {
		_, streamErr = fleet.EnsureStream(ctx, js)
	}
	if err := streamErr; err != nil {
		if !nc.IsConnected() {
			err = fmt.Errorf("nats %s: %w", fleet.Redacted(pf.url), fleet.ErrBrokerAway)
		}
		if spool == nil {
			if errors.Is(err, fleet.ErrBrokerAway) {
				return fmt.Errorf("%w; without --spool a sensor has nowhere to keep its alerts until it is: start it when the broker is up, or give --spool DIR", err)
			}
			return err
		}
		logf("%v: spooling to %s until the broker is reachable", err, pf.spool)
	}
	p, err := fleet.NewPublisher(nc, fleet.PublisherOptions{Observer: r.cfg.Observer, Spool: spool, Compress: pf.compress == "s2", Logf: logf})
	if err != nil {
		return err
	}
	r.pub, r.pubWait = p, pf.wait
	go p.Run()
	r.cfg.Alerts = tee(r.cfg.Alerts, p.Writer(fleet.KindAlert, nil))
	if pf.events == "all" {
		r.cfg.Events = tee(r.cfg.Events, p.Writer(fleet.KindEvent, nil))
	}
	if pf.events != "none" {
		if r.rep == nil {
			r.cfg.Report = report.New() // for its flows only: no file
			r.cfg.Report.ForwardOnly = true
		}
		r.cfg.Report.OnFlow = p.ReportFlow
	}
	return nil
}

// natsConnect connects the run to the broker at url, once (the policy
// and the publisher share the connection): the connection dialEarly made,
// or a new one.
func (r *runSetup) natsConnect(rf *runFlags, url string) error {
	if r.nc != nil {
		return nil
	}
	var e *earlyConn
	if r.early != nil && r.early.url == url {
		e = r.early.wait()
	} else {
		e = dial(rf, url, r.cfg.Observer.Name, r.logf)
	}
	if e.err != nil {
		return e.err
	}
	nc := e.nc
	r.closers = append(r.closers, func() error { nc.Close(); return nil })
	r.nc, r.js = e.nc, e.js
	return nil
}

// earlyConn is a connection to the broker made while the run loads its
// placement data (a connection and a look at the stream take a few
// round trips; the placement data tens of milliseconds of one core).
type earlyConn struct {
	url       string
	done      chan struct{}
	nc        *nats.Conn
	js        jetstream.JetStream
	err       error // connecting
	streamErr error // the stream's look (EnsureStream), when publishing
	checked   bool  // streamErr is the look's
}

// dialEarly starts connecting to the broker the run will use (the fleet
// policy's, else --publish's) and, when publishing, looking at the stream;
// nil when the run uses no broker.
func dialEarly(rf *runFlags, sensor string, logf func(string, ...any)) *earlyConn {
	url := rf.pub.url
	if u, ok := strings.CutPrefix(rf.policy, "nats:"); ok && u != "" {
		url = u
	}
	if url == "" {
		return nil
	}
	e := &earlyConn{url: url, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		d := dial(rf, url, sensor, logf)
		e.nc, e.js, e.err = d.nc, d.js, d.err
		if e.err == nil && rf.pub.url == url {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, e.streamErr = fleet.EnsureStream(ctx, e.js)
			e.checked = true
			cancel()
		}
	}()
	return e
}

// dial connects to the broker at url now.
func dial(rf *runFlags, url, sensor string, logf func(string, ...any)) *earlyConn {
	c := rf.nats.conn
	c.URL, c.Name = url, "egresswatch sensor "+sensor
	e := &earlyConn{url: url}
	if e.nc, e.err = c.Connect(logf); e.err != nil {
		return e
	}
	if e.js, e.err = jetstream.New(e.nc); e.err != nil {
		e.nc.Close()
		e.nc = nil
	}
	return e
}

func (e *earlyConn) wait() *earlyConn {
	<-e.done
	return e
}

// close closes the connection if it was made.
func (e *earlyConn) close() {
	if e.wait().nc != nil {
		e.nc.Close()
	}
}

// fleetPolicy prepares --policy nats:[URL]: the run connects to the
// broker and loadPolicy reads the fleet's policy from its bucket.
func (r *runSetup) fleetPolicy(rf *runFlags) error {
	url, ok := strings.CutPrefix(rf.policy, "nats:")
	if !ok {
		return nil
	}
	if url == "" {
		url = rf.pub.url
	}
	if url == "" {
		return errors.New("--policy nats: needs the broker: nats:URL, or --publish URL")
	}
	if err := r.natsConnect(rf, url); err != nil {
		return err
	}
	rf.natsPolicy = func() ([]byte, uint64, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		data, rev, err := fleet.GetPolicy(ctx, r.js)
		if err == nil {
			r.policyRev.Store(rev)
		}
		return data, rev, err
	}
	return nil
}

// watchPolicy is the actor that hot-reloads the fleet's policy: each new
// revision that parses replaces the engine's; one that does not is logged
// and the policy in force stays.
func (r *runSetup) watchPolicy(rf *runFlags, eng *pipeline.Engine) actor {
	return func(done context.Context) error {
		if rf.natsPolicy == nil {
			return nil
		}
		cats, err := rf.catalogs.load()
		if err != nil {
			return err
		}
		err = fleet.WatchPolicy(done, r.js, r.policyRev.Load(), func(data []byte, rev uint64) {
			p, err := parseFleetPolicy(data, rev, cats)
			if err != nil {
				r.logf("fleet policy revision %d rejected, revision %d stays in force: %v", rev, r.policyRev.Load(), err)
				return
			}
			eng.SetPolicy(p)
			r.policyRev.Store(rev)
			r.logf("fleet policy revision %d in force", rev)
		})
		if err != nil {
			r.logf("%v (the policy in force stays)", err)
		}
		return nil
	}
}

// tee writes to the publisher's writer and to w (w may be nil).
func tee(w, pub io.Writer) io.Writer {
	if w == nil {
		return pub
	}
	return io.MultiWriter(pub, w) // the spool first: it then holds all the file does
}

// finishPublish waits for the broker to acknowledge what the run
// published (after the pipeline has flushed its outputs).
func (r *runSetup) finishPublish(stderr io.Writer) error {
	if r.pub == nil {
		return nil
	}
	err := r.pub.Close(r.pubWait)
	fmt.Fprintf(stderr, "egresswatch: published %d record(s) (alerts and events) to the fleet as %s\n", r.pub.Acked(), r.pub.Sensor())
	var u *fleet.ErrUndelivered
	if errors.As(err, &u) {
		fmt.Fprintf(stderr, "egresswatch: %v\n", err)
		return errReported
	}
	return err
}

// heartbeat is the actor that publishes the sensor's health every every
// (and once at the start and at the end): packets and their rate, kernel
// drops (live), alerts, the policy revision, the age of the placement
// data, what awaits the broker.
func (r *runSetup) heartbeat(every time.Duration, eng *pipeline.Engine, rings func() []metrics.Ring) actor {
	return func(done context.Context) error {
		if r.pub == nil || every <= 0 {
			return nil
		}
		var last pipeline.Summary
		var lastDrops uint64
		lastAt := time.Now()
		beat := func() {
			now := time.Now()
			s := eng.Snapshot()
			dt := max(now.Sub(lastAt).Seconds(), 1e-3)
			h := fleet.HealthStats{
				Run:              r.pub.RunID(),
				IntervalSeconds:  every.Seconds(),
				Packets:          s.Decode.Frames,
				PacketsPerSecond: float64(s.Decode.Frames-last.Decode.Frames) / dt,
				Flows:            s.Flows.Flows,
				Alerts:           s.Judge.Alerts,
				AlertsPerSecond:  float64(s.Judge.Alerts-last.Judge.Alerts) / dt,
				PolicyRevision:   r.policyRevision(),
			}
			if rings != nil {
				for _, rg := range rings() {
					h.KernelDrops += rg.Drops
				}
			}
			h.KernelDropsInterval = h.KernelDrops - lastDrops
			h.PacketsInterval = h.Packets - last.Decode.Frames
			h.PlacementAgeSeconds = placementAge(r.db.Sources(), now).Seconds()
			a, e := r.pub.Pending()
			h.Pending = a + e
			h.SpoolDropped = r.pub.Dropped()
			_ = r.pub.PublishHealth(fleet.EncodeHealth(now, r.cfg.Observer, h)) // a lost heartbeat is news too
			last, lastAt, lastDrops = s, now, h.KernelDrops
		}
		beat()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done.Done():
				beat()
				return nil
			case <-t.C:
				beat()
			}
		}
	}
}

// policyRevision is the revision of the policy in force.
func (r *runSetup) policyRevision() string {
	if rev := r.policyRev.Load(); rev != 0 {
		return strconv.FormatUint(rev, 10)
	}
	if r.cfg.Policy != nil {
		return r.cfg.Policy.Revision
	}
	return ""
}

// placementAge is the age of the oldest placement file in use (sources as
// geo.DB.Sources gives them: "name (path)"); 0 when there is none.
func placementAge(sources []string, now time.Time) time.Duration {
	var oldest time.Time
	for _, s := range sources {
		i, j := strings.LastIndexByte(s, '('), strings.LastIndexByte(s, ')')
		if i < 0 || j < i {
			continue
		}
		if fi, err := os.Stat(s[i+1 : j]); err == nil && (oldest.IsZero() || fi.ModTime().Before(oldest)) {
			oldest = fi.ModTime()
		}
	}
	if oldest.IsZero() {
		return 0
	}
	return now.Sub(oldest)
}
