package outfile

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// TornSuffix names the file beside an output that holds the torn last
// lines Repair set aside.
const TornSuffix = ".torn"

// Repair makes path end on a whole line: a last line with no newline (a
// write cut short by a crash) is appended to path+TornSuffix, with a
// newline, and cut from path. It returns the number of bytes set aside; a
// missing or empty file needs no repair.
func Repair(path string) (int, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("repair %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() == 0 {
		return 0, err
	}
	size := st.Size()
	var last [1]byte
	if _, err := f.ReadAt(last[:], size-1); err != nil {
		return 0, fmt.Errorf("repair %s: %w", path, err)
	}
	if last[0] == '\n' {
		return 0, nil
	}
	// Find the last newline, reading backwards in blocks.
	cut := int64(0) // offset after the last newline
	buf := make([]byte, 64<<10)
	for end := size; end > 0; {
		start := max(0, end-int64(len(buf)))
		b := buf[:end-start]
		if _, err := f.ReadAt(b, start); err != nil && err != io.EOF {
			return 0, fmt.Errorf("repair %s: %w", path, err)
		}
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			cut = start + int64(i) + 1
			break
		}
		end = start
	}
	torn := make([]byte, size-cut, size-cut+1)
	if _, err := f.ReadAt(torn, cut); err != nil && err != io.EOF {
		return 0, fmt.Errorf("repair %s: %w", path, err)
	}
	aside, err := os.OpenFile(path+TornSuffix, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return 0, fmt.Errorf("repair %s: %w", path, err)
	}
	_, err = aside.Write(append(torn, '\n'))
	if cerr := aside.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("repair %s: set aside %d bytes: %w", path, len(torn), err)
	}
	if err := f.Truncate(cut); err != nil {
		return 0, fmt.Errorf("repair %s: %w", path, err)
	}
	return len(torn), f.Sync()
}
