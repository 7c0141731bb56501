package eventsapi

import (
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// AppendString appends s to buf as a JSON string. Invalid UTF-8 becomes
// U+FFFD, so the body is always valid JSON whatever a record carried.
func AppendString(buf []byte, s string) []byte {
	buf, _ = AppendStringValid(buf, s)
	return buf
}

// AppendStringValid is AppendString that also reports whether s was valid
// UTF-8, that is whether nothing was replaced.
func AppendStringValid(buf []byte, s string) (out []byte, valid bool) {
	valid = true
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) && plainASCII(s[i:i+8]) {
			i += 8
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			valid = false
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i++
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but break JavaScript consumers.
		if r == '\u2028' || r == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"'), valid
}

// Every byte of a uint64 set to 0x01, and to 0x80.
const (
	bytes01 = 0x0101010101010101
	bytes80 = 0x8080808080808080
)

// plainASCII reports whether the 8 bytes of w are all ASCII that a JSON
// string holds as they are (no control character, quote or backslash),
// testing them at once: most text is, and then needs no byte by byte look.
func plainASCII(w string) bool {
	x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
	if x&bytes80 != 0 {
		return false
	}
	// Each byte is now below 0x80, so that no sum below carries into the
	// next byte: a byte's top bit says whether it is at least 0x20, or
	// (after an XOR that zeroes the bytes equal to it) other than '"' or
	// '\\'.
	notControl := x + bytes01*(0x80-0x20)
	notQuote := (x ^ bytes01*'"') + bytes01*0x7f
	notBackslash := (x ^ bytes01*'\\') + bytes01*0x7f
	return notControl&notQuote&notBackslash&bytes80 == bytes80
}
