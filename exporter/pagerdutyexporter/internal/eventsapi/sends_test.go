package eventsapi

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEncodeSendsRoundTrip(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 123_456_789)
	steady := make([]time.Time, 120)
	for i := range steady {
		steady[i] = t0.Add(time.Duration(i) * 500 * time.Millisecond)
	}
	for name, sends := range map[string][]time.Time{
		"none":              nil,
		"one":               {t0},
		"a minute at 120/m": steady,
		"same instant":      {t0, t0, t0},
		"out of order":      {t0, t0.Add(-time.Hour), t0.Add(time.Nanosecond)},
		"int64 extremes":    {time.Unix(0, math.MaxInt64), time.Unix(0, math.MinInt64), time.Unix(0, math.MaxInt64)},
	} {
		t.Run(name, func(t *testing.T) {
			b := EncodeSends(sends)
			assert.Equal(t, byte(sendsVersion), b[0])
			got, err := DecodeSends(b)
			require.NoError(t, err)
			assert.Equal(t, unixNanos(sends), unixNanos(got))
		})
	}
	assert.LessOrEqual(t, len(EncodeSends(steady)), 1+9+5*119, "half a second apart takes 5 bytes a send")
}

func TestDecodeSendsRejectsWhatItDidNotWrite(t *testing.T) {
	valid := EncodeSends([]time.Time{time.Unix(1_700_000_000, 0), time.Unix(1_700_000_001, 0)})
	for name, b := range map[string][]byte{
		"empty":            nil,
		"version 0":        append([]byte{0}, valid[1:]...),
		"version 2":        append([]byte{2}, valid[1:]...),
		"truncated varint": valid[:len(valid)-1],
		"overlong varint":  append([]byte{sendsVersion}, bytes.Repeat([]byte{0xff}, 11)...),
	} {
		t.Run(name, func(t *testing.T) {
			got, err := DecodeSends(b)
			require.Error(t, err)
			assert.Nil(t, got)
		})
	}
}

func FuzzDecodeSends(f *testing.F) {
	f.Add(EncodeSends(nil))
	f.Add(EncodeSends([]time.Time{time.Unix(1_700_000_000, 0), time.Unix(1_700_000_000, 500_000_000)}))
	f.Add([]byte{})
	f.Add([]byte{2, 0})
	f.Add([]byte{sendsVersion, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		sends, err := DecodeSends(b)
		if err != nil {
			return
		}
		again, err := DecodeSends(EncodeSends(sends))
		require.NoError(t, err)
		assert.Equal(t, unixNanos(sends), unixNanos(again))
	})
}
