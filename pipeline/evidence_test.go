package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/egresswatch/egresswatch/capture"
	"github.com/egresswatch/egresswatch/classify"
	"github.com/egresswatch/egresswatch/evidence"
	"github.com/egresswatch/egresswatch/flow"
	"github.com/egresswatch/egresswatch/rules"
)

// TestEvidence replays the sample with evidence recording on: every alert
// about a flow names a capture, and that capture holds packets of that
// flow only (by Community ID), as many as the flow had (the sample's flows
// are short), each commented; tshark, when installed, reads the same.
func TestEvidence(t *testing.T) {
	pol, err := rules.DefaultWith()
	if err != nil {
		t.Fatal(err)
	}
	src, err := capture.OpenAll([]string{"../testdata/sample/ministry.pcapng"})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dir := t.TempDir()
	rec, err := evidence.New(evidence.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var alerts, events bytes.Buffer
	sum, err := Run(context.Background(), src, Config{Policy: pol, Alerts: &alerts, Events: &events, Evidence: rec, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	// The packets of each flow, from its flow event.
	packets := map[string]float64{}
	for _, ev := range decodeEvents(t, events.Bytes()) {
		if ev.str("event.dataset") == "egresswatch.flow" {
			packets[ev.str("network.community_id")] = ev.num("network.packets")
		}
	}
	files := map[string]string{} // file -> community id
	sc := bufio.NewScanner(&alerts)
	for sc.Scan() {
		var a event
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatal(err)
		}
		file := a.str("egresswatch.evidence.pcap")
		switch {
		case a.str("event.action") == "flow-start" || a.str("event.action") == "flow-named":
			if file == "" {
				t.Errorf("flow alert %s to %s names no evidence", a.str("rule.id"), a.str("destination.ip"))
			}
			files[file] = a.str("network.community_id")
		case file != "":
			t.Errorf("%s alert names evidence %q", a.str("event.action"), file)
		}
	}
	if len(files) == 0 || sum.Evidence.Files != uint64(len(files)) {
		t.Fatalf("%d evidence files named by alerts, %d written", len(files), sum.Evidence.Files)
	}
	dec := classify.NewDecoder(classify.Options{})
	var p classify.Packet
	for file, cid := range files {
		path := filepath.Join(dir, file)
		m, err := capture.OpenAll([]string{path})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			fr, err := m.Next()
			if err != nil {
				break
			}
			if dec.Decode(fr, &p) != classify.ResultL4 {
				t.Errorf("%s: frame %d does not decode", file, fr.Seq)
				continue
			}
			if got := flow.CommunityID(p.Key, 0); got != cid {
				t.Errorf("%s: frame %d belongs to %s, not the alerted flow %s", file, fr.Seq, got, cid)
			}
			n++
		}
		m.Close()
		if want := packets[cid]; float64(n) != want {
			t.Errorf("%s: %d packets; the flow had %v", file, n, want)
		}
		if tshark, err := exec.LookPath("tshark"); err == nil {
			out, err := exec.Command(tshark, "-r", path, "-T", "fields", "-e", "frame.comment").Output()
			if err != nil {
				t.Fatalf("tshark -r %s: %v", path, err)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(lines) != n {
				t.Errorf("tshark reads %d packets of %s; want %d", len(lines), file, n)
			}
			for i, l := range lines {
				if !strings.Contains(l, "community_id "+cid) {
					t.Errorf("tshark: %s packet %d comment %q lacks the Community ID", file, i+1, l)
				}
			}
		} else {
			t.Log("tshark not installed: evidence files checked with our reader only")
		}
	}
	t.Logf("%d evidence captures, %s packets", len(files), strconv.FormatUint(sum.Evidence.Packets, 10))
}
