package output

// Observer identifies the sensor that saw an event: ECS observer.name (the
// sensor's name in the fleet, --sensor), observer.hostname,
// observer.type ("sensor") and observer.version. Every event and alert a
// Writer with an Observer writes carries it, in files as on the wire, so
// lines from many sensors can be told apart once they are gathered.
type Observer struct {
	Name     string // keyword: the sensor's name (a NATS subject token)
	Hostname string // keyword
	Version  string // keyword: egresswatch's version
	Type     string // keyword: "" = ObserverType ("collector" for the fleet's collector)
}

// ObserverType is observer.type of every sensor (ECS: the observer's role).
const ObserverType = "sensor"

// AppendObserver appends `"observer":{...}` (no leading comma) for o: the
// one place the block is encoded, for the event and alert writers and for
// lines other packages build (heartbeats, the collector's own alerts).
func AppendObserver(dst []byte, o *Observer) []byte {
	dst = append(dst, `"observer":{"name":`...)
	dst = appendString(dst, o.Name)
	if o.Hostname != "" {
		dst = append(dst, `,"hostname":`...)
		dst = appendString(dst, o.Hostname)
	}
	typ := o.Type
	if typ == "" {
		typ = ObserverType
	}
	dst = append(dst, `,"type":`...)
	dst = appendString(dst, typ)
	if o.Version != "" {
		dst = append(dst, `,"version":`...)
		dst = appendString(dst, o.Version)
	}
	return append(dst, '}')
}

// observer writes the observer object, when there is one.
func observer(b *builder, o *Observer) {
	if o == nil {
		return
	}
	b.sep()
	b.buf = AppendObserver(b.buf, o)
}

// SetObserver makes every line w writes from now on carry o (nil: none).
func (w *Writer) SetObserver(o *Observer) {
	w.obs = o
	w.enc.Observer = o
}
