package capture

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
)

// Expand turns command-line paths into the capture files to read, in order.
// A file stays as it is; "-" (standard input) stays "-"; a directory is
// walked recursively and its regular files (and symlinks to them) are
// listed in lexical order, skipping files and directories whose names
// start with a dot. Errors name the path.
func Expand(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		if p == "-" {
			out = append(out, p)
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("capture: %w", err)
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err // already names the path
			}
			if path != p && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			switch {
			case d.Type().IsRegular():
				out = append(out, path)
			case d.Type()&fs.ModeSymlink != 0:
				if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
					out = append(out, path)
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("capture: walk %s: %w", p, err)
		}
	}
	return out, nil
}

// Multi is a Source that reads several capture files one after another.
// A file that cannot be opened or read to the end is recorded (Errors,
// WithErrorHandler) and reading goes on with the next file; Next returns
// io.EOF after the last file. Frames carry the Path of their file and
// Seq restarts at 1 in each file.
//
// Next and Close must be called from one goroutine; Progress and Errors
// may be called from any.
type Multi struct {
	paths []string
	o     options
	idx   int     // next path to open
	cur   *reader // nil between files
	size  int64   // on-disk size of the current file
	read  int64   // on-disk bytes read of the current file

	done, total atomic.Int64

	mu   sync.Mutex
	errs []error
}

// OpenAll expands paths (see Expand) and returns a Multi over the files.
// It fails only when a path cannot be expanded; unreadable files are
// reported while reading. WithErrorHandler and WithMaxPacket apply.
func OpenAll(paths []string, opts ...Option) (*Multi, error) {
	files, err := Expand(paths)
	if err != nil {
		return nil, err
	}
	m := &Multi{paths: files, o: buildOptions(opts)}
	var total int64
	for _, f := range files {
		if f == "-" {
			continue // unknown size: counted as it is read
		}
		if st, err := os.Stat(f); err == nil {
			total += st.Size()
		}
	}
	m.total.Store(total)
	m.o.progress = m.count
	return m, nil
}

// Paths returns the expanded list of files, in reading order.
func (m *Multi) Paths() []string { return append([]string(nil), m.paths...) }

// count is called with on-disk bytes as the current file is read.
func (m *Multi) count(n int64) {
	m.read += n
	if over := m.read - m.size; over > 0 {
		// The file grew (or is stdin): grow the total with it.
		m.total.Add(min(over, n))
	}
	m.done.Add(n)
}

// Progress reports on-disk (compressed) bytes read so far and the total
// size of all files (stdin counts as read). Safe for concurrent use.
func (m *Multi) Progress() (done, total int64) {
	return m.done.Load(), m.total.Load()
}

// Errors returns the per-file errors so far, in file order; nil if none.
func (m *Multi) Errors() []error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]error(nil), m.errs...)
}

func (m *Multi) record(err error) {
	m.mu.Lock()
	m.errs = append(m.errs, err)
	m.mu.Unlock()
	if m.o.onError != nil {
		m.o.onError(err)
	}
}

// Next returns the next frame of the current file, moving on to the next
// file at the end of one or after its error.
func (m *Multi) Next() (Frame, error) {
	for {
		if m.cur == nil {
			if m.idx >= len(m.paths) {
				return Frame{}, io.EOF
			}
			path := m.paths[m.idx]
			m.idx++
			m.size, m.read = 0, 0
			if path != "-" {
				if st, err := os.Stat(path); err == nil {
					m.size = st.Size()
				}
			}
			r, err := openFile(path, m.o)
			if err != nil {
				m.record(err)
				m.finishFile()
				continue
			}
			m.cur = r
		}
		fr, err := m.cur.Next()
		if err == nil {
			return fr, nil
		}
		if err != io.EOF {
			m.record(err)
		}
		// A file that failed has said what is wrong with it; closing
		// it (a gzip reader repeats its error) adds nothing.
		if cerr := m.cur.Close(); cerr != nil && err == io.EOF {
			m.record(fmt.Errorf("capture: close %s: %w", m.cur.path, cerr))
		}
		m.cur = nil
		m.finishFile()
	}
}

// finishFile counts the unread rest of the current file as done, so that
// done reaches total at the end even when files fail early.
func (m *Multi) finishFile() {
	if rest := m.size - m.read; rest > 0 {
		m.done.Add(rest)
		m.read = m.size
	}
}

// Close closes the current file; Next then returns io.EOF.
func (m *Multi) Close() error {
	m.idx = len(m.paths)
	if m.cur == nil {
		return nil
	}
	err := m.cur.Close()
	m.cur = nil
	if err != nil {
		return fmt.Errorf("capture: close: %w", err)
	}
	return nil
}

var _ Source = (*Multi)(nil)
