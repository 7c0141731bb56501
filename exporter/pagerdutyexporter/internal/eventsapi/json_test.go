package eventsapi

import (
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

// plainByte is the rule plainASCII applies to each of its 8 bytes.
func plainByte(c byte) bool { return c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' }

func TestPlainASCII(t *testing.T) {
	// Every byte value at every position, among plain neighbors on either
	// side of it, which a carry between bytes would disturb.
	for _, filler := range []byte{' ', 'a', '~', '!', '#', '[', ']'} {
		for pos := range 8 {
			for c := range 256 {
				w := []byte(strings.Repeat(string(filler), 8))
				w[pos] = byte(c)
				assert.Equal(t, plainByte(byte(c)), plainASCII(string(w)), "%q", w)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], rng.Uint64())
		want := true
		for _, c := range w {
			want = want && plainByte(c)
		}
		assert.Equal(t, want, plainASCII(string(w[:])), "%q", w)
	}
}

// appendStringByBytes is AppendStringValid looking at one byte at a time.
func appendStringByBytes(buf []byte, s string) ([]byte, bool) {
	valid := true
	buf = append(buf, '"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			valid = false
			buf = append(buf, `\ufffd`...)
		case r == '"' || r == '\\':
			buf = append(buf, '\\', byte(r))
		case r == '\n':
			buf = append(buf, `\n`...)
		case r == '\r':
			buf = append(buf, `\r`...)
		case r == '\t':
			buf = append(buf, `\t`...)
		case r < 0x20:
			buf = append(buf, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&0xf])
		case r == '\u2028':
			buf = append(buf, `\u2028`...)
		case r == '\u2029':
			buf = append(buf, `\u2029`...)
		default:
			buf = append(buf, s[i:i+size]...)
		}
		i += size
	}
	return append(buf, '"'), valid
}

// TestAppendStringAtEveryOffset puts each kind of byte that needs a look
// at every offset of a word, so that the 8-byte steps meet it everywhere.
func TestAppendStringAtEveryOffset(t *testing.T) {
	specials := []string{"\"", "\\", "\n", "\r", "\t", "\x00", "\x1f", "\x7f", "é", "漢", "🚨", "\u2028", "\u2029", "\xff", "\xe2\x80"}
	for _, special := range specials {
		for offset := range 18 {
			for _, tail := range []int{0, 1, 7, 8, 9, 20} {
				s := strings.Repeat("a", offset) + special + strings.Repeat("b", tail)
				want, wantValid := appendStringByBytes([]byte("x"), s)
				got, valid := AppendStringValid([]byte("x"), s)
				assert.Equal(t, string(want), string(got), "%q", s)
				assert.Equal(t, wantValid, valid, "%q", s)
			}
		}
	}
}

func BenchmarkAppendString(b *testing.B) {
	s := "Checkout error rate 7.3% (threshold 5%) on https://runbooks.example.com/checkout/high-error-rate"
	buf := make([]byte, 0, 256)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		buf = AppendString(buf[:0], s)
	}
}
