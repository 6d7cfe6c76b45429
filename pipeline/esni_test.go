package pipeline

import (
	"path/filepath"
	"testing"
)

// TestESNICorpus replays ndpi-encrypted_sni.pcap: tshark finds three
// ClientHellos without a server_name; each carries the draft ESNI
// extension, which the TLS events flag as ECH of kind esni.
func TestESNICorpus(t *testing.T) {
	corpusFiles(t)
	const name = "ndpi-encrypted_sni.pcap"
	want := len(readTruth(t, name+".tls_sni.tsv"))
	n := 0
	for _, e := range replayEvents(t, filepath.Join(corpusDir, name)) {
		if str(e, "event.dataset") != "egresswatch.tls" {
			continue
		}
		n++
		if field(e, "egresswatch.ech") != true || str(e, "egresswatch.ech_kind") != "esni" || str(e, "tls.client.server_name") != "" {
			t.Errorf("frame %v: ech %v, ech_kind %q, server_name %q; want true, esni, none",
				field(e, "event.sequence"), field(e, "egresswatch.ech"), str(e, "egresswatch.ech_kind"), str(e, "tls.client.server_name"))
		}
	}
	if n != want || want != 3 {
		t.Errorf("%d TLS events; tshark has %d ClientHellos (3 expected)", n, want)
	}
}
