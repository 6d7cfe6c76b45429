package outfile

import (
	"cmp"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// Rotated files are named PATH.20060102T150405Z (-N when one second holds
// several), then .zst or .gz once compressed.
const stampLayout = "20060102T150405Z"

var rotatedRe = regexp.MustCompile(`^\.(\d{8}T\d{6}Z)(?:-(\d+))?(\.zst|\.gz)?$`)

// maybeRotate rotates when the file is over its size or, on a tick, its
// age. It never cuts a line.
func (f *File) maybeRotate(tick bool) {
	if f.partial || f.size == 0 {
		return
	}
	bySize := f.opt.RotateSize > 0 && f.size >= f.opt.RotateSize
	byAge := tick && f.opt.RotateEvery > 0 && f.opt.Now().Sub(f.opened) >= f.opt.RotateEvery
	if bySize || byAge {
		f.rotate()
	}
}

// rotate renames the file aside, opens a new one, and compresses and
// prunes the rotated files in the background.
func (f *File) rotate() {
	name := f.rotatedName()
	if err := os.Rename(f.path, name); err != nil {
		f.errs.Add(1)
		f.logf("%s: rotate: %v", f.opt.Name, err)
		f.opened = f.opt.Now() // try again in RotateEvery, not at every tick
		return
	}
	old := f.f
	if err := f.open(); err != nil {
		// Keep writing to the renamed file; a reopen or the next rotation
		// tries again.
		f.errs.Add(1)
		f.logf("%s: rotate: %v; writing on to %s", f.opt.Name, err, name)
		f.opened = f.opt.Now()
		return
	}
	old.Sync()
	old.Close()
	f.rotations.Add(1)
	f.bg.Add(1)
	go func() {
		defer f.bg.Done()
		if f.opt.Compress != "" {
			if err := compressFile(name, f.opt.Compress); err != nil {
				f.errs.Add(1)
				f.logf("%s: compress %s: %v (left uncompressed)", f.opt.Name, name, err)
			}
		}
		if f.opt.Keep > 0 {
			rs := Rotated(f.path)
			for _, p := range rs[:max(0, len(rs)-f.opt.Keep)] {
				os.Remove(p)
			}
		}
	}()
}

func (f *File) rotatedName() string {
	base := f.path + "." + f.opt.Now().UTC().Format(stampLayout)
	name := base
	for i := 1; exists(name) || exists(name+".zst") || exists(name+".gz"); i++ {
		name = base + "-" + strconv.Itoa(i)
	}
	return name
}

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

// Rotated lists the rotated files of path, oldest first.
func Rotated(path string) []string {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	ents, _ := os.ReadDir(dir)
	type rot struct {
		name, stamp string
		seq         int
	}
	var rs []rot
	for _, e := range ents {
		n := e.Name()
		if !strings.HasPrefix(n, base) || strings.HasSuffix(n, ".tmp") {
			continue
		}
		m := rotatedRe.FindStringSubmatch(n[len(base):])
		if m == nil {
			continue
		}
		seq, _ := strconv.Atoi(m[2])
		rs = append(rs, rot{filepath.Join(dir, n), m[1], seq})
	}
	slices.SortFunc(rs, func(a, b rot) int { return cmp.Or(cmp.Compare(a.stamp, b.stamp), cmp.Compare(a.seq, b.seq)) })
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.name
	}
	return out
}

// compressFile writes name.zst or name.gz through a temporary file, then
// removes name.
func compressFile(name, how string) (err error) {
	ext := ".zst"
	if how == "gzip" {
		ext = ".gz"
	}
	src, err := os.Open(name)
	if err != nil {
		return err
	}
	defer src.Close()
	tmp := name + ext + ".tmp"
	dst, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			dst.Close()
			os.Remove(tmp)
		}
	}()
	var enc io.WriteCloser
	if how == "gzip" {
		enc = gzip.NewWriter(dst)
	} else {
		if enc, err = zstd.NewWriter(dst, zstd.WithEncoderConcurrency(1)); err != nil {
			return err
		}
	}
	if _, err = io.Copy(enc, src); err != nil {
		return err
	}
	if err = enc.Close(); err != nil {
		return err
	}
	if err = dst.Sync(); err != nil {
		return err
	}
	if err = dst.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, name+ext); err != nil {
		return fmt.Errorf("rename: %w", err)
	}
	return os.Remove(name)
}
