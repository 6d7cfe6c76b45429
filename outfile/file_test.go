package outfile

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

func line(i int) string { return fmt.Sprintf(`{"n":%d,"pad":"%s"}`+"\n", i, strings.Repeat("x", 40)) }

// readLines reads every line of the files (compressed or not), checks
// each is whole JSON, and returns the n values in order.
func readLines(t *testing.T, paths ...string) []int {
	t.Helper()
	var out []int
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = f
		switch {
		case strings.HasSuffix(p, ".zst"):
			d, err := zstd.NewReader(f)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			r = d
		case strings.HasSuffix(p, ".gz"):
			if r, err = gzip.NewReader(f); err != nil {
				t.Fatal(err)
			}
		}
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			var v struct{ N int }
			if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
				t.Fatalf("%s: not whole JSON: %q", p, sc.Text())
			}
			out = append(out, v.N)
		}
		f.Close()
	}
	return out
}

func checkSeq(t *testing.T, got []int, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("%d lines, want %d", len(got), n)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("line %d holds %d", i, v)
		}
	}
}

func TestAppendAndSplitWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	n := 0
	for run := 0; run < 2; run++ {
		f, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for range 100 {
			l := line(n)
			f.Write([]byte(l[:7])) // a line split over two writes
			f.Write([]byte(l[7:]))
			n++
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	checkSeq(t, readLines(t, path), 200)
}

func TestRepairSetsTornLineAside(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	os.WriteFile(path, []byte(line(0)+line(1)+`{"n":2,"pa`), 0o644)
	f, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte(line(2)))
	f.Close()
	checkSeq(t, readLines(t, path), 3)
	torn, _ := os.ReadFile(path + TornSuffix)
	if string(torn) != `{"n":2,"pa`+"\n" {
		t.Errorf("set aside %q", torn)
	}
	// A file of one torn line only.
	os.WriteFile(path, []byte(`{"n":0`), 0o644)
	if n, err := Repair(path); n != 6 || err != nil {
		t.Errorf("Repair = %d, %v; want 6, nil", n, err)
	}
	if b, _ := os.ReadFile(path); len(b) != 0 {
		t.Errorf("left %q", b)
	}
}

func waitQueued(t *testing.T, f *File) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); f.Stats().Queued > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("queue not written: %+v", f.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestReopenAfterRename(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	f, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		f.Write([]byte(line(i)))
	}
	// logrotate: rename, then HUP. Lines written between the two land
	// in the old file, which is right: they were written before the HUP.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	waitQueued(t, f)
	f.Reopen()
	for deadline := time.Now().Add(5 * time.Second); f.Stats().Reopens == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no reopen")
		}
	}
	for i := 50; i < 80; i++ {
		f.Write([]byte(line(i)))
	}
	f.Close()
	old, cur := readLines(t, path+".1"), readLines(t, path)
	if len(old) != 50 || len(cur) != 30 {
		t.Errorf("old file %d lines, new %d; want 50 and 30", len(old), len(cur))
	}
	checkSeq(t, append(old, cur...), 80)
}

func TestRotateBySizeCompressKeep(t *testing.T) {
	for _, how := range []string{"zstd", "gzip", ""} {
		t.Run("compress="+how, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "a.jsonl")
			f, err := Open(path, Options{RotateSize: 4 << 10, Compress: how})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 1000 {
				f.Write([]byte(line(i)))
				if i%50 == 0 {
					waitQueued(t, f)
				}
			}
			f.Close()
			rs := Rotated(path)
			if len(rs) < 5 || f.Stats().Rotations != uint64(len(rs)) {
				t.Fatalf("%d rotated files, %d rotations", len(rs), f.Stats().Rotations)
			}
			for _, r := range rs {
				if how != "" && !strings.HasSuffix(r, map[string]string{"zstd": ".zst", "gzip": ".gz"}[how]) {
					t.Errorf("%s not compressed", r)
				}
			}
			checkSeq(t, readLines(t, append(rs, path)...), 1000)
		})
	}
	path := filepath.Join(t.TempDir(), "a.jsonl")
	f, _ := Open(path, Options{RotateSize: 1 << 10, Keep: 2})
	for i := range 500 {
		f.Write([]byte(line(i)))
		waitQueued(t, f)
	}
	f.Close()
	if rs := Rotated(path); len(rs) != 2 {
		t.Errorf("kept %d rotated files, want 2: %v", len(rs), rs)
	}
}

func TestRotateEvery(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := make(chan time.Time, 1)
	clock <- now
	tick := func() time.Time { t := <-clock; clock <- t; return t }
	f, _ := Open(path, Options{RotateEvery: time.Minute, Retry: 10 * time.Millisecond, Now: tick})
	for i := range 10 {
		f.Write([]byte(line(i)))
	}
	waitQueued(t, f)
	<-clock
	clock <- now.Add(time.Minute)
	for deadline := time.Now().Add(5 * time.Second); f.Stats().Rotations == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no rotation")
		}
	}
	f.Write([]byte(line(10)))
	f.Close()
	rs := Rotated(path)
	if len(rs) != 1 || filepath.Base(rs[0]) != "a.jsonl.20250101T000100Z" {
		t.Fatalf("rotated %v", rs)
	}
	checkSeq(t, readLines(t, rs[0], path), 11)
}

func TestQueueBoundDropsAndCounts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	f, _ := Open(path, Options{QueueBytes: 1})
	f.mu.Lock() // hold the writer off: everything beyond the bound is dropped
	f.queued = 1
	f.mu.Unlock()
	f.Write([]byte(line(0) + line(1)))
	f.mu.Lock()
	f.queued = 0
	f.mu.Unlock()
	f.Close()
	if s := f.Stats(); s.Dropped != 2 || s.Lines != 2 {
		t.Errorf("stats %+v, want 2 lines, 2 dropped", s)
	}
}

// TestDiskFull writes to a 256 KiB tmpfs that a filler file fills: the
// writes fail and are counted, Write never blocks, and once the filler
// is removed every queued line is written.
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=256k"); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	filler := filepath.Join(dir, "filler")
	os.WriteFile(filler, bytes.Repeat([]byte{'f'}, 256<<10), 0o644) // fills it (short write)
	path := filepath.Join(dir, "a.jsonl")
	var logs []string
	f, err := Open(path, Options{Retry: 20 * time.Millisecond, Logf: func(format string, a ...any) {
		logs = append(logs, fmt.Sprintf(format, a...))
	}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range 2000 { // 120 KB: more than is left
		f.Write([]byte(line(i)))
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("writes blocked for %v", d)
	}
	for deadline := time.Now().Add(5 * time.Second); f.Stats().Errors < 3; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no write errors counted: %+v", f.Stats())
		}
	}
	os.Remove(filler)
	waitQueued(t, f)
	f.Close()
	s := f.Stats()
	if s.Dropped != 0 {
		t.Errorf("dropped %d within the queue's bound", s.Dropped)
	}
	checkSeq(t, readLines(t, path), 2000)
	var failed int
	for _, l := range logs {
		if strings.Contains(l, "no space left") {
			failed++
		}
	}
	if failed != 1 {
		t.Errorf("ENOSPC logged %d times, want once: %q", failed, logs)
	}
	t.Logf("%d write errors while full; %v", s.Errors, logs)
}
