package eventsapi

import (
	"cmp"
	"slices"
	"strings"
)

// Redaction of routing keys.
const (
	// RedactFragment is the length of the shortest piece of a routing key
	// that is removed: any run of at least this many bytes that also occurs
	// in a key. Half a 32-character key is no longer enough to guess the
	// rest, and random text of this length does not match a key by chance.
	RedactFragment = 16
	// Redacted replaces each run of key fragments.
	Redacted = "[REDACTED]"
)

// Redactor removes routing keys, whole or in fragments of RedactFragment
// bytes or more, from text the exporter logs or returns as an error: a
// proxy, a WAF or a gateway may echo the request, and with it the key, in
// its error body. The zero value and nil redact nothing. A Redactor is
// immutable and safe for concurrent use.
type Redactor struct {
	// windows holds every substring of every key of length n, for each
	// window length n in lengths (RedactFragment, or the whole length of a
	// key shorter than that).
	windows map[string]struct{}
	lengths []int
	// inKey marks the bytes that occur in some key: a window holding any
	// other byte cannot match, which lets a scan skip past it.
	inKey [256]bool
}

// NewRedactor returns a Redactor for keys. Surrounding white space of each
// key is ignored, as the router ignores it; empty keys are skipped.
func NewRedactor(keys ...string) *Redactor {
	r := &Redactor{windows: map[string]struct{}{}}
	for _, key := range keys {
		key = strings.TrimSpace(key)
		if key == "" {
			continue
		}
		n := min(len(key), RedactFragment)
		if !slices.Contains(r.lengths, n) {
			r.lengths = append(r.lengths, n)
		}
		for i := 0; i+n <= len(key); i++ {
			r.windows[key[i:i+n]] = struct{}{}
		}
		for i := range len(key) {
			r.inKey[key[i]] = true
		}
	}
	return r
}

// Redact returns s with every run of key fragments replaced by Redacted.
// Fragments that overlap or touch become one Redacted. When s holds no
// fragment, s itself is returned and nothing is allocated.
func (r *Redactor) Redact(s string) string {
	if r == nil || len(r.windows) == 0 {
		return s
	}
	var spans [][2]int // [start, end) of each matched run, per window length
	for _, n := range r.lengths {
		spans = r.match(s, n, spans)
	}
	if len(spans) == 0 {
		return s
	}
	if len(r.lengths) > 1 {
		slices.SortFunc(spans, func(a, b [2]int) int { return cmp.Compare(a[0], b[0]) })
	}
	var b strings.Builder
	b.Grow(len(s))
	pos, end := 0, -1
	for _, sp := range spans {
		if sp[0] <= end { // overlaps or touches the current run
			end = max(end, sp[1])
			continue
		}
		if end >= 0 {
			b.WriteString(Redacted)
			pos = end
		}
		b.WriteString(s[pos:sp[0]])
		end = sp[1]
	}
	b.WriteString(Redacted)
	b.WriteString(s[end:])
	return b.String()
}

// match appends to spans the runs of s covered by windows of length n.
func (r *Redactor) match(s string, n int, spans [][2]int) [][2]int {
	runStart, runEnd := -1, -1
	for i := 0; i+n <= len(s); {
		// A byte that occurs in no key rules out every window holding it:
		// when the window's last byte is one, skip past it.
		if !r.inKey[s[i+n-1]] {
			i += n
			continue
		}
		if _, ok := r.windows[s[i:i+n]]; ok {
			if i <= runEnd {
				runEnd = i + n
			} else {
				if runStart >= 0 {
					spans = append(spans, [2]int{runStart, runEnd})
				}
				runStart, runEnd = i, i+n
			}
		}
		i++
	}
	if runStart >= 0 {
		spans = append(spans, [2]int{runStart, runEnd})
	}
	return spans
}

// Strings redacts each of msgs in place and returns msgs.
func (r *Redactor) Strings(msgs []string) []string {
	for i, m := range msgs {
		msgs[i] = r.Redact(m)
	}
	return msgs
}

// Error returns err when its text holds no key fragment, else an error
// whose text is redacted and which still unwraps to err, so that
// errors.Is and errors.As see through it.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if red := r.Redact(msg); red != msg {
		return &redactedError{msg: red, err: err}
	}
	return err
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
