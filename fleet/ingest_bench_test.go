package fleet

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/egresswatch/egresswatch/output"
	"github.com/egresswatch/egresswatch/report"
)

// alertLine is a typical alert as a sensor writes it (about 1 KB).
const alertLine = `{"@timestamp":"2025-03-11T09:00:00.123456Z","event":{"kind":"alert","dataset":"egresswatch.alert","severity":73,"action":"flow-named"},"log":{"level":"error"},"rule":{"id":"gov-sensitive-app","name":"Government device contacted a data-residency-sensitive service","ruleset":"egresswatch-policy"},"message":"Device 10.20.1.15 (government) connected to tiktok at www.tiktok.com (203.0.113.7, indeterminate); the policy allows only UK-ADEQUACY.","source":{"ip":"10.20.1.15","port":51234,"mac":"02-00-5E-10-00-01"},"destination":{"ip":"203.0.113.7","port":443,"domain":"www.tiktok.com"},"network":{"transport":"tcp","type":"ipv4","community_id":"1:abcdefghijABCDEFGHIJ0123456="},"egresswatch":{"group":["government"],"service":"tiktok","allowed":["UK-ADEQUACY"],"indeterminate":true,"placement":{"indeterminate":true,"reason":"no placement data"},"evidence":{"name_source":"sni","first_seen":"2025-03-11T09:00:00.1Z","last_seen":"2025-03-11T09:00:00.123456Z","suppressed_count":0},"policy":{"revision":"3"}},"observer":{"name":"site-1","hostname":"site-1.example","type":"sensor","version":"(devel)"}}`

// BenchmarkCollectorIngest: the collector reads n alerts from the stream
// (put there first by a publisher, in S2-compressed messages as sensors
// send them by default, or plain), writes them to a file and feeds the
// fleet report. Reports alerts/s and the heap in use after each round.
func BenchmarkCollectorIngest(b *testing.B) { byEncoding(b, benchIngest) }

func benchIngest(b *testing.B, compress bool) {
	const n = 200000
	nc, js := broker(b)
	ctx := context.Background()
	dir := b.TempDir()
	var rate []float64
	for round := 0; b.Loop(); round++ {
		b.StopTimer()
		if st, err := js.Stream(ctx, Stream); err == nil {
			st.Purge(ctx) // each round reads its own n
		}
		p, _ := NewPublisher(nc, PublisherOptions{Observer: &output.Observer{Name: "site-1"}, Run: fmt.Sprint(round), Window: 4096, Compress: compress})
		go p.Run()
		for range n {
			p.Put(KindAlert, []byte(alertLine))
		}
		if err := p.Close(time.Minute); err != nil {
			b.Fatal(err)
		}
		col, err := NewCollector(ctx, nc, CollectorOptions{Durable: fmt.Sprint("bench", round),
			Alerts: filepath.Join(dir, fmt.Sprint("alerts", round)), Report: report.New()})
		if err != nil {
			b.Fatal(err)
		}
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan error)
		b.StartTimer()
		start := time.Now()
		go func() { done <- col.Run(cctx) }()
		for {
			msgs := col.Status().Messages
			if msgs[KindAlert] >= n {
				break
			}
			time.Sleep(time.Millisecond)
		}
		rate = append(rate, float64(n)/time.Since(start).Seconds())
		cancel()
		<-done
		b.StopTimer()
		col.Close()
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		b.Logf("round %d: %.0f alerts/s, heap in use %d MiB", round, rate[len(rate)-1], ms.HeapInuse>>20)
		b.StartTimer()
	}
	b.ReportMetric(rate[len(rate)/2], "alerts/s")
}
