package eventsapi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// sendsVersion is the first byte of EncodeSends' output and names the layout
// after it. A new layout takes a new version, so that a collector reading a
// blob written by another release refuses it instead of misreading it.
const sendsVersion = 1

// EncodeSends encodes send times (see Limiter.Sends) for storage across a
// restart: a version byte, then the first time in Unix nanoseconds and each
// later one as its difference from the one before, all as signed varints.
// Sends half a second apart take 5 bytes each. Times must lie between the
// years 1678 and 2262, where Unix nanoseconds fit an int64.
func EncodeSends(sends []time.Time) []byte {
	b := make([]byte, 1, 1+binary.MaxVarintLen64+5*len(sends))
	b[0] = sendsVersion
	var prev int64
	for _, t := range sends {
		ns := t.UnixNano()
		// Differences wrap around int64 here and back in DecodeSends, so
		// that any order of times survives the trip.
		b = binary.AppendVarint(b, ns-prev)
		prev = ns
	}
	return b
}

// DecodeSends decodes what EncodeSends wrote. It fails, never panics, on an
// empty, truncated or corrupt blob and on an unknown version; a blob that
// names no sends decodes to none.
func DecodeSends(b []byte) ([]time.Time, error) {
	if len(b) == 0 {
		return nil, errors.New("decoding send times: empty")
	}
	if b[0] != sendsVersion {
		return nil, fmt.Errorf("decoding send times: unknown version %d", b[0])
	}
	b = b[1:]
	var sends []time.Time
	var prev int64
	for len(b) > 0 {
		delta, n := binary.Varint(b)
		if n <= 0 {
			return nil, fmt.Errorf("decoding send times: corrupt varint after %d times", len(sends))
		}
		b = b[n:]
		prev += delta
		sends = append(sends, time.Unix(0, prev))
	}
	return sends, nil
}
