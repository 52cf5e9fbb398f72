// Package jsonscan reads the JSON that pumpledger writes without
// encoding/json, for the hot paths that read every stored entry (verify's
// filing, a bill's billable fields): one pass over the bytes, skipping what
// is not needed. Every method reports false on what it does not handle
// (an escaped string, a number that is not plain, malformed JSON); the
// caller then decodes with encoding/json, whose answer is the reference.
package jsonscan

import (
	"encoding/binary"
	"strconv"
	"time"
)

// Scanner walks JSON bytes; every method reports false on what it does not
// handle, and the scan is abandoned.
type Scanner struct {
	B     []byte // the JSON
	I     int    // where the scan is
	depth int
}

// maxScanDepth bounds nesting (encoding/json refuses past 10,000); deeper
// input is left to encoding/json.
const maxScanDepth = 100

func (s *Scanner) Space() {
	for s.I < len(s.B) && s.B[s.I] <= ' ' && (s.B[s.I] == ' ' || s.B[s.I] == '\t' || s.B[s.I] == '\n' || s.B[s.I] == '\r') {
		s.I++
	}
}

func (s *Scanner) Peek() byte {
	s.Space()
	if s.I < len(s.B) {
		return s.B[s.I]
	}
	return 0
}

func (s *Scanner) Literal(lit string) bool {
	if len(s.B)-s.I < len(lit) || string(s.B[s.I:s.I+len(lit)]) != lit {
		return false
	}
	s.I += len(lit)
	return true
}

// object reads {"key": value, ...}, calling field for each key with the
// scanner at its value.
func (s *Scanner) Object(field func(key []byte) bool) bool {
	if s.Peek() != '{' || s.depth >= maxScanDepth {
		return false
	}
	s.depth++ // not deferred: a defer per object was a tenth of a scan
	ok := s.Members(field)
	s.depth--
	return ok
}

func (s *Scanner) Members(field func(key []byte) bool) bool {
	s.I++
	if s.Peek() == '}' {
		s.I++
		return true
	}
	for {
		key, ok := s.PlainBytes()
		if !ok || s.Peek() != ':' || !lowerKey(key) {
			return false // encoding/json matches keys case-insensitively: its job
		}
		s.I++
		s.Space()
		if !field(key) {
			return false
		}
		switch s.Peek() {
		case ',':
			s.I++
		case '}':
			s.I++
			return true
		default:
			return false
		}
	}
}

// plainString reads a string without escapes or control characters.
func (s *Scanner) PlainString() (string, bool) {
	b, ok := s.PlainBytes()
	return string(b), ok
}

// plainBytes is plainString's bytes, in place.
func (s *Scanner) PlainBytes() ([]byte, bool) {
	if s.Peek() != '"' {
		return nil, false
	}
	start := s.I + 1
	j := start + Run(s.B[start:], true)
	if j >= len(s.B) || s.B[j] != '"' {
		return nil, false // escapes and non-ASCII (which encoding/json may replace): its job
	}
	s.I = j + 1
	return s.B[start:j], true
}

// run is the length of b's longest prefix of ordinary string bytes: none
// is a quote, a backslash or a control character, nor with plain non-ASCII.
// It reads eight bytes at a time (strings are most of a stored entry's
// bytes); a word with any such byte is finished a byte at a time.
func Run(b []byte, plain bool) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	stop := &inString
	var mask uint64 // the high bits of the bytes that are non-ASCII
	if plain {
		stop, mask = &notPlain, highs
	}
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		// A byte < 0x20, = '"' or = '\\' sets the high bit of some byte
		// of these (the classic zero-byte tests: exact on whether one
		// exists, which is all that is asked).
		ctl := (w - ones*0x20) &^ w & highs
		quote := (w ^ ones*'"' - ones) &^ (w ^ ones*'"') & highs
		slash := (w ^ ones*'\\' - ones) &^ (w ^ ones*'\\') & highs
		if ctl|quote|slash|w&mask != 0 {
			break
		}
	}
	for ; i < len(b) && !stop[b[i]]; i++ {
	}
	return i
}

// integer reads a plain integer (what encoding/json writes for an int64).
func (s *Scanner) Integer() (int64, bool) {
	s.Space()
	start := s.I
	if s.I < len(s.B) && s.B[s.I] == '-' {
		s.I++
	}
	for s.I < len(s.B) && s.B[s.I] >= '0' && s.B[s.I] <= '9' {
		s.I++
	}
	text := s.B[start:s.I]
	if len(text) > 1 && text[0] == '0' || len(text) > 2 && text[0] == '-' && text[1] == '0' {
		return 0, false // a leading zero: not JSON
	}
	n, err := strconv.ParseInt(string(text), 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

func lowerKey(k []byte) bool {
	for i := 0; i < len(k); i++ {
		if k[i] >= 'A' && k[i] <= 'Z' {
			return false
		}
	}
	return true
}

// skip passes over one value of any kind, as strictly as encoding/json
// reads it (a control character in a string, a bad escape or a number
// outside JSON's grammar is refused).
func (s *Scanner) Skip() bool {
	switch c := s.Peek(); {
	case c == '"':
		for j := s.I + 1; j < len(s.B); j++ {
			j += Run(s.B[j:], false)
			if j >= len(s.B) {
				return false
			}
			switch c := s.B[j]; {
			case c < 0x20:
				return false
			case c == '\\':
				if j+1 >= len(s.B) {
					return false
				}
				switch s.B[j+1] {
				case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
					j++
				case 'u':
					if j+5 >= len(s.B) || !isHex4(s.B[j+2:j+6]) {
						return false
					}
					j += 5
				default:
					return false
				}
			case c == '"':
				s.I = j + 1
				return true
			}
		}
		return false
	case c == '{':
		return s.Object(func([]byte) bool { return s.Skip() })
	case c == '[':
		return s.Array(s.Skip)
	case c == 't':
		return s.Literal("true")
	case c == 'f':
		return s.Literal("false")
	case c == 'n':
		return s.Literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return s.Number()
	}
	return false
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, JSON's grammar.
func (s *Scanner) Number() bool {
	digits := func() int {
		n := 0
		for s.I < len(s.B) && s.B[s.I] >= '0' && s.B[s.I] <= '9' {
			s.I++
			n++
		}
		return n
	}
	if s.I < len(s.B) && s.B[s.I] == '-' {
		s.I++
	}
	if s.I < len(s.B) && s.B[s.I] == '0' {
		s.I++
	} else if digits() == 0 {
		return false
	}
	if s.I < len(s.B) && s.B[s.I] == '.' {
		s.I++
		if digits() == 0 {
			return false
		}
	}
	if s.I < len(s.B) && (s.B[s.I] == 'e' || s.B[s.I] == 'E') {
		s.I++
		if s.I < len(s.B) && (s.B[s.I] == '+' || s.B[s.I] == '-') {
			s.I++
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// raw is the next value's bytes, syntax checked.
func (s *Scanner) Raw() ([]byte, bool) {
	s.Space()
	start := s.I
	if !s.Skip() {
		return nil, false
	}
	return s.B[start:s.I], true
}

// time checks a time as time.Time's UnmarshalJSON and decodeEntry do.
func (s *Scanner) Time() bool {
	v, ok := s.Raw()
	if !ok || v[0] != '"' {
		return false // null would leave it zero: its job
	}
	var t time.Time
	if t.UnmarshalJSON(v) != nil {
		return false
	}
	y := t.UTC().Year()
	return y >= 0 && y <= 9999
}

// decimal checks a decimal as decimal.Decimal's UnmarshalJSON would read it
// and pumpledger.CheckQuantity would pass it, without their allocations:
// only the form pumpledger writes, a quoted -?digits(.digits)? of at most 9
// digits each side (FuzzScanBilled holds it to that), is taken; anything
// else is left to decoding.
func (s *Scanner) Decimal() bool {
	v, ok := s.PlainBytes()
	if !ok || len(v) == 0 {
		return false
	}
	if v[0] == '-' {
		v = v[1:]
	}
	digits := func() int {
		n := 0
		for n < len(v) && v[n] >= '0' && v[n] <= '9' {
			n++
		}
		v = v[n:]
		return n
	}
	if n := digits(); n == 0 || n > 9 {
		return false
	}
	if len(v) > 0 && v[0] == '.' {
		v = v[1:]
		if n := digits(); n == 0 || n > 9 {
			return false
		}
	}
	return len(v) == 0
}

// text checks a string field that is not kept: a string (escapes and all,
// as strictly as encoding/json reads one) or null, which leaves it empty.
func (s *Scanner) Text() bool {
	switch s.Peek() {
	case '"':
		return s.Skip()
	case 'n':
		return s.Literal("null")
	}
	return false
}

// strings checks an array of strings (or null).
func (s *Scanner) Strings() bool {
	if s.Peek() == 'n' {
		return s.Literal("null")
	}
	return s.Array(s.Text)
}

// array reads [value, ...], calling elem with the scanner at each value.
func (s *Scanner) Array(elem func() bool) bool {
	if s.Peek() != '[' || s.depth >= maxScanDepth {
		return false
	}
	s.depth++
	ok := s.Elements(elem)
	s.depth--
	return ok
}

func (s *Scanner) Elements(elem func() bool) bool {
	s.I++
	if s.Peek() == ']' {
		s.I++
		return true
	}
	for {
		if !elem() {
			return false
		}
		switch s.Peek() {
		case ',':
			s.I++
		case ']':
			s.I++
			return true
		default:
			return false
		}
	}
}

// notPlain marks the bytes that end a plain string's run: the quote, the
// backslash, control characters and non-ASCII. inString marks those that
// end a run of a string's ordinary bytes: the quote, the backslash and
// control characters.
var notPlain, inString = func() (p, q [256]bool) {
	for c := range 256 {
		p[c] = c == '"' || c == '\\' || c < 0x20 || c >= 0x80
		q[c] = c == '"' || c == '\\' || c < 0x20
	}
	return p, q
}()
