package fleet

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/egresswatch/egresswatch/output"
)

// BenchmarkPublish: a sensor's side of publishing. Each round writes n
// alert lines through the publisher's Writer in 64 KiB writes (as the
// alert file's buffer flushes them), and Close waits until the embedded
// broker has acknowledged them all. Reports ns and allocations per line:
// the cost the fleet adds to a sensor's cores, the broker's own included
// (it runs in the process).
func BenchmarkPublish(b *testing.B) { byEncoding(b, benchPublish) }

// byEncoding runs bench as sub-benchmarks with S2-compressed messages
// (the default) and plain ones.
func byEncoding(b *testing.B, bench func(b *testing.B, compress bool)) {
	for _, compress := range []bool{true, false} {
		name := "s2"
		if !compress {
			name = "plain"
		}
		b.Run(name, func(b *testing.B) { bench(b, compress) })
	}
}

func benchPublish(b *testing.B, compress bool) {
	const n = 20000
	nc, _ := broker(b)
	var buf bytes.Buffer
	for buf.Len() < 64<<10 {
		buf.WriteString(alertLine + "\n")
	}
	chunk := buf.Bytes()
	lines := bytes.Count(chunk, []byte{'\n'})
	b.ReportAllocs()
	b.SetBytes(int64(n * (len(alertLine) + 1)))
	for round := 0; b.Loop(); round++ {
		p, err := NewPublisher(nc, PublisherOptions{Observer: &output.Observer{Name: "site-1"}, Run: fmt.Sprint(round), Compress: compress})
		if err != nil {
			b.Fatal(err)
		}
		go p.Run()
		w := p.Writer(KindAlert, nil)
		for i := 0; i < n; i += lines {
			w.Write(chunk)
		}
		if err := p.Close(time.Minute); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/line")
}
