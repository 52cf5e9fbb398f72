package ledger

import (
	"encoding/binary"
	"strconv"

	"github.com/pumpledger/pumpledger"
)

// scanFiled reads what the indexes need of a stored entry (filed) without
// encoding/json, which was two thirds of Verify's time: one pass over the
// bytes, skipping every value it does not need. It handles the entries
// pumpledger writes; on anything else (an escaped string, a number that is
// not a plain integer, malformed JSON) it reports ok false and the caller
// decodes with encoding/json, whose answer is the reference (FuzzScanFiled
// holds them equal wherever this one answers).
func scanFiled(data []byte) (f filed, ok bool) {
	s := scanner{b: data}
	ok = s.object(func(key []byte) bool {
		switch string(key) { // no allocation: the compiler compares the bytes
		case "seq":
			n, ok := s.integer()
			f.Seq = n
			return ok
		case "id":
			v, ok := s.plainString()
			f.ID = v
			return ok
		case "kind":
			v, ok := s.plainString()
			f.Kind = Kind(v)
			return ok
		case "payload":
			return s.payload(&f)
		}
		return s.skip()
	})
	s.space()
	return f, ok && s.i == len(s.b)
}

// payload reads the payload object's filing fields into f.
func (s *scanner) payload(f *filed) bool {
	if s.peek() == 'n' { // null leaves the payload as it was, as encoding/json does
		return s.literal("null")
	}
	p := &f.Payload
	return s.object(func(key []byte) bool {
		var dst *string
		switch string(key) {
		case "mrn":
			dst = &p.MRN
		case "serial":
			dst = &p.Serial
		case "pump_serial":
			dst = &p.PumpSerial
		case "voids":
			dst = &p.Voids
		case "replacement":
			dst = &p.Replacement
		case "performed_at":
			v, ok := s.plainString()
			if !ok {
				return false
			}
			in, err := pumpledger.ParseInstant(v)
			p.PerformedAt = in
			return err == nil
		default:
			return s.skip()
		}
		v, ok := s.plainString()
		*dst = v
		return ok
	})
}

// scanner walks JSON bytes; every method reports false on what it does not
// handle, and the scan is abandoned.
type scanner struct {
	b     []byte
	i     int
	depth int
	scr   *billScratch // scanBilled's
}

// maxScanDepth bounds nesting (encoding/json refuses past 10,000); deeper
// input is left to encoding/json.
const maxScanDepth = 100

func (s *scanner) space() {
	for s.i < len(s.b) && s.b[s.i] <= ' ' && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

func (s *scanner) peek() byte {
	s.space()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}

// object reads {"key": value, ...}, calling field for each key with the
// scanner at its value.
func (s *scanner) object(field func(key []byte) bool) bool {
	if s.peek() != '{' || s.depth >= maxScanDepth {
		return false
	}
	s.depth++ // not deferred: a defer per object was a tenth of a scan
	ok := s.members(field)
	s.depth--
	return ok
}

func (s *scanner) members(field func(key []byte) bool) bool {
	s.i++
	if s.peek() == '}' {
		s.i++
		return true
	}
	for {
		key, ok := s.plainBytes()
		if !ok || s.peek() != ':' || !lowerKey(key) {
			return false // encoding/json matches keys case-insensitively: its job
		}
		s.i++
		s.space()
		if !field(key) {
			return false
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

// plainString reads a string without escapes or control characters.
func (s *scanner) plainString() (string, bool) {
	b, ok := s.plainBytes()
	return string(b), ok
}

// plainBytes is plainString's bytes, in place.
func (s *scanner) plainBytes() ([]byte, bool) {
	if s.peek() != '"' {
		return nil, false
	}
	start := s.i + 1
	j := start + run(s.b[start:], true)
	if j >= len(s.b) || s.b[j] != '"' {
		return nil, false // escapes and non-ASCII (which encoding/json may replace): its job
	}
	s.i = j + 1
	return s.b[start:j], true
}

// run is the length of b's longest prefix of ordinary string bytes: none
// is a quote, a backslash or a control character, nor with plain non-ASCII.
// It reads eight bytes at a time (strings are most of a stored entry's
// bytes); a word with any such byte is finished a byte at a time.
func run(b []byte, plain bool) int {
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

// integer reads a plain integer (what encoding/json writes for an int64).
func (s *scanner) integer() (int64, bool) {
	s.space()
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	text := s.b[start:s.i]
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
func (s *scanner) skip() bool {
	switch c := s.peek(); {
	case c == '"':
		for j := s.i + 1; j < len(s.b); j++ {
			j += run(s.b[j:], false)
			if j >= len(s.b) {
				return false
			}
			switch c := s.b[j]; {
			case c < 0x20:
				return false
			case c == '\\':
				if j+1 >= len(s.b) {
					return false
				}
				switch s.b[j+1] {
				case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
					j++
				case 'u':
					if j+5 >= len(s.b) || !isHex4(s.b[j+2:j+6]) {
						return false
					}
					j += 5
				default:
					return false
				}
			case c == '"':
				s.i = j + 1
				return true
			}
		}
		return false
	case c == '{':
		return s.object(func([]byte) bool { return s.skip() })
	case c == '[':
		return s.array(s.skip)
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	return false
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, JSON's grammar.
func (s *scanner) number() bool {
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if digits() == 0 {
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
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
