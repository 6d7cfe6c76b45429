package classify

// quicState follows the QUIC Initials of one UDP flow. Filled in when the
// quic package lands.
type quicState struct {
	finished bool
}

func (q *quicState) done() bool { return true }

func (in *Inspector) quicDatagram(st *Stream, p *Packet) {}
