package ledger

import (
	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/internal/jsonscan"
)

// scanFiled reads what the indexes need of a stored entry (filed) without
// encoding/json, which was two thirds of Verify's time: one pass over the
// bytes, skipping every value it does not need. It handles the entries
// pumpledger writes; on anything else (an escaped string, a number that is
// not a plain integer, malformed JSON) it reports ok false and the caller
// decodes with encoding/json, whose answer is the reference (FuzzScanFiled
// holds them equal wherever this one answers).
func scanFiled(data []byte) (f filed, ok bool) {
	s := scanner{jsonscan.Scanner{B: data}}
	ok = s.Object(func(key []byte) bool {
		switch string(key) { // no allocation: the compiler compares the bytes
		case "seq":
			n, ok := s.Integer()
			f.Seq = n
			return ok
		case "id":
			v, ok := s.PlainString()
			f.ID = v
			return ok
		case "kind":
			v, ok := s.PlainString()
			f.Kind = Kind(v)
			return ok
		case "payload":
			return s.payload(&f)
		}
		return s.Skip()
	})
	s.Space()
	return f, ok && s.I == len(s.B)
}

// payload reads the payload object's filing fields into f.
func (s *scanner) payload(f *filed) bool {
	if s.Peek() == 'n' { // null leaves the payload as it was, as encoding/json does
		return s.Literal("null")
	}
	p := &f.Payload
	return s.Object(func(key []byte) bool {
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
			v, ok := s.PlainString()
			if !ok {
				return false
			}
			in, err := pumpledger.ParseInstant(v)
			p.PerformedAt = in
			return err == nil
		default:
			return s.Skip()
		}
		v, ok := s.PlainString()
		*dst = v
		return ok
	})
}

// scanner is the JSON scanner with the filing's methods.
type scanner struct{ jsonscan.Scanner }
