package fleet

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
)

// appendFile is an output of the collector: ECS JSON lines appended, each
// with event.id set to its message id.
type appendFile struct {
	f *os.File
	w *bufio.Writer
}

// eventKey starts the event object of every line the sensors write (after
// @timestamp); event.id goes in right after it.
var eventKey = []byte(`"event":{`)

// open opens path for appending, after reading back what it holds: a
// torn last line (a collector killed mid-write) is cut off; the message
// ids are marked seen and the report is fed again, so a restarted
// collector writes nothing twice and reports everything once.
func (c *Collector) open(path string) (*appendFile, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	r := bufio.NewReaderSize(f, 1<<20)
	var good int64
	for {
		line, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A line over the buffer: read it whole.
			rest, rerr := r.ReadBytes('\n')
			line, err = append(bytes.Clone(line), rest...), rerr
		}
		if err != nil {
			if err != io.EOF {
				f.Close()
				return nil, fmt.Errorf("read %s: %w", path, err)
			}
			break
		}
		good += int64(len(line))
		c.replay(line)
	}
	if err := f.Truncate(good); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return &appendFile{f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

// replay takes back one line written before a restart.
func (c *Collector) replay(line []byte) {
	i := bytes.Index(line, []byte(`"event":{"id":"`))
	if i < 0 {
		return
	}
	rest := line[i+len(`"event":{"id":"`):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return
	}
	id := string(rest[:j])
	c.first(id)
	stream, _, _ := ParseMsgID(id)
	sensor := stream
	if k := bytes.IndexByte([]byte(stream), '.'); k >= 0 {
		sensor = stream[:k]
	}
	if bytes.Contains(line[:min(len(line), 200)], []byte(`"kind":"alert"`)) {
		if !bytes.Contains(line[:min(len(line), 200)], []byte(DatasetFleet)) {
			c.reportAlert(sensor, line)
		}
		return
	}
	c.reportFlow(sensor, line)
}

// writeLine appends line with event.id = id.
func (a *appendFile) writeLine(line []byte, id string) {
	if a == nil {
		return
	}
	line = bytes.TrimSuffix(line, []byte{'\n'})
	if n := len(line) + len(id) + 10; a.w.Buffered() > 0 && n > a.w.Available() {
		a.w.Flush() // the file gets whole lines (an error stays for flush)
	}
	i := bytes.Index(line, eventKey)
	if i < 0 || id == "" {
		a.w.Write(line)
	} else {
		i += len(eventKey)
		a.w.Write(line[:i])
		a.w.WriteString(`"id":"`)
		a.w.WriteString(id)
		a.w.WriteString(`",`)
		a.w.Write(line[i:])
	}
	a.w.WriteByte('\n')
}

func (a *appendFile) flush() error {
	if a == nil {
		return nil
	}
	if err := a.w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", a.f.Name(), err)
	}
	return nil
}
