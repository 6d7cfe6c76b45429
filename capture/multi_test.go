package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/egresswatch/egresswatch/capture/pcaptest"
)

// writeTree creates files under dir; content nil makes a directory.
func writeTree(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if content == nil {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestExpand(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string][]byte{
		"b.pcap":            {1},
		"a/z.pcap":          {1},
		"a/b/c.pcapng":      {1},
		"a/.hidden.pcap":    {1},
		".git/objects/x":    {1},
		"a/empty":           nil,
		"A.pcap":            {1},
		"a/b/.cache/d.pcap": {1},
	})
	if err := os.Symlink(filepath.Join(dir, "b.pcap"), filepath.Join(dir, "link.pcap")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "missing"), filepath.Join(dir, "dangling.pcap")); err != nil {
		t.Fatal(err)
	}
	j := func(s string) string { return filepath.Join(dir, filepath.FromSlash(s)) }
	for _, tt := range []struct {
		name  string
		paths []string
		want  []string
		err   string
	}{
		{"dir", []string{dir}, []string{j("A.pcap"), j("a/b/c.pcapng"), j("a/z.pcap"), j("b.pcap"), j("link.pcap")}, ""},
		{"file, stdin and subdir", []string{j("a/.hidden.pcap"), "-", j("a/b")}, []string{j("a/.hidden.pcap"), "-", j("a/b/c.pcapng")}, ""},
		{"hidden dir given explicitly", []string{j("a/b/.cache")}, []string{j("a/b/.cache/d.pcap")}, ""},
		{"missing", []string{j("b.pcap"), j("nope.pcap")}, nil, j("nope.pcap")},
		{"empty dir", []string{j("a/empty")}, nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Expand(tt.paths)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("error %v, want one naming %s", err, tt.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("Expand = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func pcapBytes(t *testing.T, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := pcaptest.WritePcap(&buf, layers.LinkTypeEthernet, false, binary.LittleEndian, samplePackets()[:n]); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestMulti(t *testing.T) {
	dir := t.TempDir()
	good := pcapBytes(t, 4)
	var ng bytes.Buffer
	if err := pcaptest.WritePcapng(&ng, pcaptest.Section{
		Interfaces: []pcaptest.Interface{{LinkType: layers.LinkTypeRaw}},
		Packets:    samplePackets(),
	}); err != nil {
		t.Fatal(err)
	}
	writeTree(t, dir, map[string][]byte{
		"1-good.pcap":         good,                     // 4 frames
		"2-notes.txt":         []byte("not a capture"),  // error at open
		"3-trunc.pcap":        good[:len(good)-10],      // 3 frames, then error
		"4-ng.pcapng.gz":      gzipBytes(t, ng.Bytes()), // 6 frames
		"5-empty.pcap":        good[:24],                // 0 frames
		"sub/6-good.pcap.zst": zstdBytes(t, good),       // 4 frames
		".hidden.pcap":        []byte("skipped"),
	})
	var (
		mu      sync.Mutex
		handled []error
	)
	m, err := OpenAll([]string{dir}, WithErrorHandler(func(err error) {
		mu.Lock()
		handled = append(handled, err)
		mu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(m.Paths()); got != 6 {
		t.Errorf("Paths() has %d files, want 6", got)
	}
	_, total := m.Progress()
	var want int64
	for _, p := range m.Paths() {
		st, _ := os.Stat(p)
		want += st.Size()
	}
	if total != want {
		t.Errorf("total %d, want %d", total, want)
	}
	perFile := map[string]int{}
	var lastDone int64
	for {
		fr, err := m.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		perFile[filepath.Base(fr.Path)]++
		if perFile[filepath.Base(fr.Path)] != int(fr.Seq) {
			t.Errorf("%s: Seq %d, want %d", fr.Path, fr.Seq, perFile[filepath.Base(fr.Path)])
		}
		done, _ := m.Progress()
		if done < lastDone || done > total {
			t.Errorf("progress %d after %d (total %d)", done, lastDone, total)
		}
		lastDone = done
	}
	wantFiles := map[string]int{"1-good.pcap": 4, "3-trunc.pcap": 3, "4-ng.pcapng.gz": 6, "6-good.pcap.zst": 4}
	if len(perFile) != len(wantFiles) {
		t.Errorf("frames per file %v, want %v", perFile, wantFiles)
	}
	for f, n := range wantFiles {
		if perFile[f] != n {
			t.Errorf("%s: %d frames, want %d", f, perFile[f], n)
		}
	}
	if done, total := m.Progress(); done != total {
		t.Errorf("progress at the end %d/%d", done, total)
	}
	errs := m.Errors()
	if len(errs) != 2 || !errors.Is(errs[0], ErrNotCapture) || !strings.Contains(errs[0].Error(), "2-notes.txt") {
		t.Fatalf("Errors() = %v, want 2-notes.txt not a capture, then 3-trunc.pcap", errs)
	}
	var fe *FormatError
	if !errors.As(errs[1], &fe) || filepath.Base(fe.Path) != "3-trunc.pcap" || !strings.Contains(fe.Error(), "truncated packet record") {
		t.Errorf("second error %v, want a truncation in 3-trunc.pcap", errs[1])
	}
	mu.Lock()
	defer mu.Unlock()
	if len(handled) != len(errs) {
		t.Errorf("handler saw %d errors, Errors() has %d", len(handled), len(errs))
	}
	if _, err := m.Next(); err != io.EOF {
		t.Errorf("Next after the end = %v, want io.EOF", err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestMultiClose(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string][]byte{"a.pcap": pcapBytes(t, 3), "b.pcap": pcapBytes(t, 3)})
	m, err := OpenAll([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Next(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Next(); err != io.EOF {
		t.Errorf("Next after Close = %v, want io.EOF", err)
	}
}

func TestOpenAllMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "gone")
	if _, err := OpenAll([]string{missing}); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("OpenAll(missing) = %v, want an error naming %s", err, missing)
	}
}

// TestMultiShared reads the whole shared corpus as one Multi: the frame
// total is the MANIFEST total and the two damaged files are reported.
func TestMultiShared(t *testing.T) {
	needShared(t)
	rows := readManifest(t)
	want := 0
	for _, r := range rows {
		want += r.packets
	}
	m, err := OpenAll([]string{sharedPcaps})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	got := 0
	for {
		_, err := m.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got++
	}
	// MANIFEST.tsv, SHA256SUMS, TRUTH.md, README.md and truth/*.tsv are
	// not captures and are reported as such.
	var formatErrs []string
	for _, err := range m.Errors() {
		var fe *FormatError
		if errors.As(err, &fe) {
			formatErrs = append(formatErrs, filepath.Base(fe.Path))
		} else if !errors.Is(err, ErrNotCapture) {
			t.Errorf("unexpected error %v", err)
		}
	}
	if got != want {
		t.Errorf("%d frames, want %d", got, want)
	}
	wantErrs := []string{"gopacket-pcapng-be-test901.pcapng", "suricata-tls_DER-incomplete-header.pcap"}
	if !slices.Equal(formatErrs, wantErrs) {
		t.Errorf("format errors in %q, want %q", formatErrs, wantErrs)
	}
	if done, total := m.Progress(); done != total || total == 0 {
		t.Errorf("progress %d/%d", done, total)
	}
}
