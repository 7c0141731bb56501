package recordmap

import (
	"slices"
	"strconv"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// shed drops the largest custom details until the request fits in
// MaxRequestBytes, and lists what it dropped under "details_shed" (or, when
// the record has an attribute of that name, the first free name among
// "_details_shed", "__details_shed", …). Sizes are
// tracked arithmetically; the body is encoded again only to confirm a fit.
// Should shedding every detail not suffice, images and then links go: with
// every other field capped, only they can still be too large in aggregate.
func (r *record) shed(ev *eventsapi.Event) {
	if sizeBound(ev) <= eventsapi.MaxRequestBytes {
		return // the common case, decided without encoding the body
	}
	total := requestSize(ev)
	if total <= eventsapi.MaxRequestBytes {
		return
	}
	if len(ev.Payload.Details) > 0 {
		r.repairs |= Repairs(RepairDetailsShed)
		if shedDetails(ev, total) {
			return
		}
	}
	r.repairs |= Repairs(RepairLinksCapped)
	ev.Images = nil
	if requestSize(ev) > eventsapi.MaxRequestBytes {
		ev.Links = nil
	}
}

// shedDetails drops details, largest member (key and value) first: a huge
// key weighs as much as a huge value. It reports whether the request fits.
func shedDetails(ev *eventsapi.Event, total int) bool {
	details := ev.Payload.Details
	sizes := make([]int, len(details))
	order := make([]int, len(details))
	for i, d := range details {
		sizes[i], order[i] = memberSize(d), i
	}
	slices.SortStableFunc(order, func(a, b int) int { return sizes[b] - sizes[a] })
	dropped := make([]bool, len(details))
	// The note's key is chosen among every detail, kept or not, so that it
	// does not depend on how much had to go.
	note := shedNote{key: noteKey(shedNoteKey, func(k string) bool {
		return slices.ContainsFunc(details, func(d eventsapi.Detail) bool { return d.Key == k })
	})}
	for _, i := range order {
		dropped[i] = true
		note.add(details[i].Key)
		total -= sizes[i]
		if total+note.memberSize() > eventsapi.MaxRequestBytes {
			continue
		}
		kept := make([]eventsapi.Detail, 0, len(details)+1)
		for j, d := range details {
			if !dropped[j] {
				kept = append(kept, d)
			}
		}
		kept = append(kept, note.detail())
		ev.Payload.Details = kept
		if requestSize(ev) <= eventsapi.MaxRequestBytes {
			return true
		}
	}
	ev.Payload.Details = []eventsapi.Detail{note.detail()}
	return false
}

// sizeBound is an upper bound of requestSize: JSON escaping makes a byte of
// text at most six bytes, and the fixed parts of the body take less than
// fixedOverhead.
func sizeBound(ev *eventsapi.Event) int {
	const escaped, fixedOverhead, perItem = 6, 512, 32
	p := &ev.Payload
	text := len(ev.DedupKey) + len(p.Summary) + len(p.Source) + len(p.Severity) + len(p.Timestamp) +
		len(p.Component) + len(p.Group) + len(p.Class) + len(ev.Client) + len(ev.ClientURL)
	for _, l := range ev.Links {
		text += len(l.Href) + len(l.Text)
	}
	for _, img := range ev.Images {
		text += len(img.Src) + len(img.Href) + len(img.Alt)
	}
	size := fixedOverhead + eventsapi.RoutingKeyLen + escaped*text + perItem*(len(ev.Links)+len(ev.Images)+len(p.Details))
	for _, d := range p.Details {
		size += escaped*len(d.Key) + len(d.JSON)
	}
	return size
}

// requestSize is the size of ev's body once a routing key is set.
func requestSize(ev *eventsapi.Event) int {
	return len(ev.AppendJSON(nil)) + eventsapi.RoutingKeyLen - len(ev.RoutingKey)
}

// memberSize is what a detail adds to custom_details: key, colon, value, comma.
func memberSize(d eventsapi.Detail) int {
	return len(eventsapi.AppendString(nil, d.Key)) + 1 + len(d.JSON) + 1
}

// Bounds on the details_shed note, which must stay small whatever was shed:
// keys are shortened, and once the list is full later keys are only counted.
const (
	maxNoteKeyRunes  = 128
	maxNoteKeysBytes = 16 << 10
)

const (
	shedNoteKey      = "details_shed"
	shedNoteUnlisted = `,"unlisted_keys":`
)

var shedNotePrefix = `{"reason":"request over ` + strconv.Itoa(eventsapi.MaxRequestBytes) + ` bytes","keys":[`

// shedNote builds the details_shed note, tracking its size as keys are
// added so that the shedding loop need not encode it each time.
type shedNote struct {
	key      string // the note's own key in custom_details
	keys     []byte // listed keys, quoted and comma-separated
	unlisted int
}

func (n *shedNote) add(key string) {
	if n.unlisted == 0 {
		start := len(n.keys)
		if start > 0 {
			n.keys = append(n.keys, ',')
		}
		key, _ = truncate(key, maxNoteKeyRunes)
		n.keys = eventsapi.AppendString(n.keys, key)
		if len(n.keys) <= maxNoteKeysBytes {
			return
		}
		n.keys = n.keys[:start]
	}
	n.unlisted++
}

func (n *shedNote) json() []byte {
	buf := make([]byte, 0, n.size())
	buf = append(buf, shedNotePrefix...)
	buf = append(append(buf, n.keys...), ']')
	if n.unlisted > 0 {
		buf = strconv.AppendInt(append(buf, shedNoteUnlisted...), int64(n.unlisted), 10)
	}
	return append(buf, '}')
}

func (n *shedNote) size() int {
	size := len(shedNotePrefix) + len(n.keys) + len("]}")
	if n.unlisted > 0 {
		size += len(shedNoteUnlisted) + len(strconv.Itoa(n.unlisted))
	}
	return size
}

func (n *shedNote) memberSize() int { return len(n.key) + len(`"":`) + n.size() + 1 }

func (n *shedNote) detail() eventsapi.Detail {
	return eventsapi.Detail{Key: n.key, JSON: n.json()}
}
