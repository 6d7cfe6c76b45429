package fleet

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The names the fleet shares.
const (
	// Stream holds every sensor's messages.
	Stream = "EGRESSWATCH"
	// SubjectPrefix starts every subject: egresswatch.<sensor>.<kind>.
	SubjectPrefix = "egresswatch."
	// PolicyBucket is the key-value bucket of the central policy, under
	// PolicyKey.
	PolicyBucket = "egresswatch-policy"
	PolicyKey    = "policy"
	// DuplicateWindow is how long the server remembers message ids: a
	// resend within it is stored once (the collector de-duplicates
	// beyond it).
	DuplicateWindow = 10 * time.Minute
)

// Kind is what a message holds; it is the subject's last token.
type Kind uint8

const (
	KindAlert  Kind = iota // an ECS alert line
	KindEvent              // an ECS event line, or a flow summary
	KindHealth             // a heartbeat
	numKinds
)

var kindNames = [numKinds]string{"alert", "event", "health"}

func (k Kind) String() string { return kindNames[k] }

// Subject returns egresswatch.<sensor>.<kind>.
func Subject(sensor string, k Kind) string { return SubjectPrefix + sensor + "." + k.String() }

// ParseSubject splits a subject into sensor and kind.
func ParseSubject(subj string) (sensor string, k Kind, ok bool) {
	rest, ok := strings.CutPrefix(subj, SubjectPrefix)
	if !ok {
		return "", 0, false
	}
	sensor, kind, ok := strings.Cut(rest, ".")
	if !ok || sensor == "" {
		return "", 0, false
	}
	for i, n := range kindNames {
		if n == kind {
			return sensor, Kind(i), true
		}
	}
	return "", 0, false
}

// MsgID is a message's Nats-Msg-Id: sensor, run, kind letter and
// sequence, e.g. "site-7.lq3x9a-1f2e.a.42". Sequences count from 1 per run
// and kind.
func MsgID(sensor, run string, k Kind, seq uint64) string {
	return StreamID(sensor, run, k) + "." + strconv.FormatUint(seq, 10)
}

// StreamID is what the ids of one run's records of kind k share: sensor,
// run and kind letter, e.g. "site-7.lq3x9a-1f2e.a".
func StreamID(sensor, run string, k Kind) string {
	return sensor + "." + run + "." + k.String()[:1]
}

// ParseMsgID splits an id made by MsgID: the stream it counts in
// (sensor.run.kind) and its sequence.
func ParseMsgID(id string) (stream string, seq uint64, ok bool) {
	i := strings.LastIndexByte(id, '.')
	if i < 0 {
		return "", 0, false
	}
	seq, err := strconv.ParseUint(id[i+1:], 10, 64)
	return id[:i], seq, err == nil
}

// NewRunID returns an id for one run of a sensor: the start time and a
// random part, so two runs never share message ids.
func NewRunID() string {
	var r [3]byte
	_, _ = rand.Read(r[:])
	return strconv.FormatInt(time.Now().Unix(), 36) + "-" + hex.EncodeToString(r[:])
}

// Conn is how to reach the broker.
type Conn struct {
	URL   string // nats://host:port, several separated by commas
	Creds string // a .creds file (JWT + NKEY seed), or an NKEY seed file (.nk), told apart by content
	User  string // user and password (NATS_USER / NATS_PASSWORD style)
	Pass  string
	CA    string // CA bundle for TLS (tls:// URLs, or a server requiring TLS)
	Cert  string // client certificate and key, for mutual TLS
	Key   string
	Name  string // the connection's name on the server
}

// Connect dials the broker. The connection reconnects forever: a sensor
// outlives a broker that goes away, or is not there yet. A broker that
// answers and refuses the connection (TLS: a certificate either side does
// not trust, no client certificate; credentials it does not know) is an
// error, which names what failed: trying again would not help.
func (c Conn) Connect(logf func(format string, args ...any)) (*nats.Conn, error) {
	if c.URL == "" {
		return nil, errors.New("no NATS URL")
	}
	opts := []nats.Option{
		nats.Name(c.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
		nats.ReconnectBufSize(-1), // the spool holds what is unacknowledged, not the client
	}
	if logf != nil {
		opts = append(opts,
			nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
				if err != nil {
					logf("nats: disconnected: %v", err)
				}
			}),
			nats.ReconnectHandler(func(nc *nats.Conn) { logf("nats: reconnected to %s", nc.ConnectedUrlRedacted()) }),
			nats.ErrorHandler(errorLogger(logf)))
	}
	if c.Creds != "" {
		o, err := credsOption(c.Creds)
		if err != nil {
			return nil, err
		}
		opts = append(opts, o)
	}
	if c.User != "" {
		opts = append(opts, nats.UserInfo(c.User, c.Pass))
	}
	if c.CA != "" {
		opts = append(opts, nats.RootCAs(c.CA))
	}
	if (c.Cert == "") != (c.Key == "") {
		return nil, errors.New("nats: a client certificate needs both its certificate and its key file")
	}
	if c.Cert != "" {
		opts = append(opts, nats.ClientCert(c.Cert, c.Key))
	}
	// One attempt first, to tell a broker that refuses from one that is
	// away; then, if it is away, a connection that keeps trying.
	nc, err := nats.Connect(c.URL, opts...)
	if err != nil && !refused(err) {
		nc, err = nats.Connect(c.URL, append(opts, nats.RetryOnFailedConnect(true))...)
	}
	if err != nil {
		if why := c.refusal(err); why != "" {
			return nil, fmt.Errorf("nats %s: %s: %w", Redacted(c.URL), why, err)
		}
		return nil, fmt.Errorf("nats %s: %w", Redacted(c.URL), err)
	}
	return nc, nil
}

// credsOption is the option for a credentials file: a .creds file (a
// user JWT, then its NKEY seed) or, whatever its name, a file holding
// only an NKEY seed (nk -gen user). Reading it now also reports a file
// that is missing at once, not at each connection attempt.
func credsOption(path string) (nats.Option, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("nats credentials: %w", err)
	}
	isCreds := bytes.Contains(b, []byte("BEGIN NATS USER JWT"))
	clear(b) // a seed is a secret: do not leave it in memory
	if isCreds {
		return nats.UserCredentials(path), nil
	}
	o, err := nats.NkeyOptionFromSeed(path)
	if err != nil {
		return nil, fmt.Errorf("nats credentials %s: not a .creds file, and not an NKEY user seed: %w", path, err)
	}
	return o, nil
}

// refused reports whether a failed connection attempt was refused (TLS
// or credentials), as opposed to a broker that could not be reached or
// was too slow.
func refused(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	for _, e := range []error{nats.ErrTLS, nats.ErrSecureConnWanted, nats.ErrSecureConnRequired,
		nats.ErrAuthorization, nats.ErrAuthExpired, nats.ErrAuthRevoked, nats.ErrAccountAuthExpired} {
		if errors.Is(err, e) {
			return true
		}
	}
	return tlsAlert(err)
}

// tlsAlert reports whether err is a TLS alert from the server. With TLS
// 1.3 the server judges the client certificate after the client has
// finished its handshake: its alert (or, when the connection is closed
// first, a broken pipe nats reports as ErrTLS) arrives on the first read.
func tlsAlert(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error" // as crypto/tls reports a received alert
}

// refusal says in a user's words why the broker was refused, naming the
// file concerned; "" when err says it well enough or is no refusal.
func (c Conn) refusal(err error) string {
	var unknownCA x509.UnknownAuthorityError
	var verify *tls.CertificateVerificationError
	switch {
	case errors.As(err, &unknownCA) && c.CA == "":
		return "the server's TLS certificate is not trusted (checked against the system's CAs: no CA file given)"
	case errors.As(err, &unknownCA):
		return "the server's TLS certificate is not trusted (checked against the CA file " + c.CA + ")"
	case errors.As(err, &verify): // another host's certificate, an expired one: err says which
		return ""
	case errors.Is(err, nats.ErrTLS) || tlsAlert(err):
		if c.Cert == "" {
			return "the server ended the TLS connection (does it require a client certificate? none was given)"
		}
		return "the server ended the TLS connection (does it accept the client certificate " + c.Cert + "? is it signed by the CA the server trusts?)"
	case errors.Is(err, nats.ErrAuthorization), errors.Is(err, nats.ErrAuthExpired), errors.Is(err, nats.ErrAuthRevoked),
		errors.Is(err, nats.ErrAccountAuthExpired):
		switch {
		case c.Creds != "":
			return "the server refused the credentials in " + c.Creds
		case c.User != "":
			return "the server refused user " + c.User + " and its password"
		}
		return "the server wants credentials, and none were given"
	}
	return ""
}

// errorLogger logs the connection's asynchronous errors (a permissions
// violation, a slow consumer), each new one once, not once per message.
func errorLogger(logf func(string, ...any)) nats.ErrHandler {
	var mu sync.Mutex
	var last string
	return func(_ *nats.Conn, _ *nats.Subscription, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err.Error() != last {
			last = err.Error()
			logf("nats: %v", err)
		}
	}
}

// EnsureStream returns the fleet's stream, creating it when absent. A
// stream an operator created is used as it is (a sensor may lack the
// right to change it).
func EnsureStream(ctx context.Context, js jetstream.JetStream) (jetstream.Stream, error) {
	s, err := js.Stream(ctx, Stream)
	if err == nil {
		return s, nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("stream %s: %w", Stream, err)
	}
	s, err = js.CreateStream(ctx, StreamConfig())
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return js.Stream(ctx, Stream)
	}
	if err != nil {
		return nil, fmt.Errorf("create stream %s: %w", Stream, err)
	}
	return s, nil
}

// StreamConfig is the stream a sensor or collector creates when there is
// none: on disk, a week of messages, DuplicateWindow.
func StreamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:       Stream,
		Subjects:   []string{SubjectPrefix + ">"},
		Storage:    jetstream.FileStorage,
		Retention:  jetstream.LimitsPolicy,
		MaxAge:     7 * 24 * time.Hour,
		Duplicates: DuplicateWindow,
	}
}

// ContentEncoding is the header that says how a message's data is
// compressed; EncodingS2 is its one value (S2, github.com/klauspost/compress/s2,
// the block format NATS itself uses). A message without it is plain.
const (
	ContentEncoding = "Content-Encoding"
	EncodingS2      = "s2"
)

// WaitConnected waits until nc is connected to the broker, or ctx is
// done; it says once, through logf, that it waits.
func WaitConnected(ctx context.Context, nc *nats.Conn, logf func(format string, args ...any)) error {
	if nc.IsConnected() {
		return nil
	}
	if logf != nil {
		logf("waiting for the broker at %s (not reachable yet)", Redacted(nc.Opts.Url))
	}
	if !untilConnected(nc, ctx.Done()) {
		return fmt.Errorf("broker at %s: %w", Redacted(nc.Opts.Url), ctx.Err())
	}
	return nil
}

// untilConnected waits until nc is connected (true) or stop is closed
// (false), looking every 100 ms.
func untilConnected(nc *nats.Conn, stop <-chan struct{}) bool {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for !nc.IsConnected() {
		select {
		case <-stop:
			return false
		case <-t.C:
		}
	}
	return true
}

// ErrBrokerAway says the broker could not be reached (the connection
// keeps trying).
var ErrBrokerAway = errors.New("broker not reachable")

// Redacted returns the broker URLs (comma-separated) with any password,
// or a token (a user without a password), replaced by "xxxxx", for
// messages.
func Redacted(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			if _, ok := u.User.Password(); !ok {
				u.User = url.User("xxxxx")
			}
			parts[i] = u.Redacted()
		}
	}
	return strings.Join(parts, ",")
}
