package ledger

import (
	"time"

	"github.com/pumpledger/pumpledger"
)

// billed is what a bill reads of a stored refill or dose change: the entry,
// the patient and date of service its lines carry, and key, the bytes of
// every payload field its claim lines depend on.
//
// refill.Lines depends on the procedure, the solution, each vial's NDC and
// count (in order), the fill, rinse and diluent volumes and the dose's drug,
// and on nothing else but the patient, date and entry it copies onto each
// line (refill's TestLinesDependOnBillableFields holds it to that). A
// reprogramming's line depends on its procedure alone. So visits whose
// billable fields are the same bytes have the same lines: a bill derives
// each such shape once (a month of a health system's refills has a few
// dozen), and the rest cost a scan of their bytes. Equal values written
// differently ("20" and "20.0") only miss the memo, never share a wrong one.
type billed struct {
	seq  int64
	id   string
	kind Kind
	mrn  string
	date string // of service, on the clock it was written in
	key  []byte // tagged billable fields' bytes; see scanBilled
}

// scanBilled reads a stored refill or reprogramming for a bill without
// encoding/json, which with refill.Lines was nine tenths of a bill's time.
// It checks every field it does not keep as strictly as decodeEntry and the
// payload's decoding would (the same UnmarshalJSON for times and decimals),
// so that where it answers ok, decoding would succeed too: a memo hit is
// then the lines decoding and deriving would give. The billable fields are
// only kept as bytes: the first visit of a shape is decoded and derived in
// full, and a shape whose derivation fails is never remembered.
// On anything else (another kind, an escape in a string, a field out of
// place) it reports ok false and the bill decodes the entry in full.
// FuzzScanBilled holds the two paths to the same lines.
func scanBilled(data []byte, scr *billScratch) (b billed, ok bool) {
	s := scanner{b: data, scr: scr}
	key := scr.key[:0]
	ok = s.object(func(k []byte) bool {
		switch string(k) {
		case "seq":
			n, ok := s.integer()
			b.seq = n
			return ok
		case "id":
			v, ok := s.plainString()
			b.id = v
			return ok
		case "kind":
			if len(key) > 0 {
				return false // a second kind after the payload was read as the first
			}
			v, ok := s.plainString()
			b.kind = Kind(v)
			return ok
		case "recorded_at", "performed_at":
			return s.time()
		case "recorded_by", "performed_offset":
			return s.text()
		case "late":
			return s.literal("true") || s.literal("false")
		case "warnings":
			return s.strings()
		case "payload":
			// A payload read again replaces the first, as encoding/json's.
			b.mrn, b.date, key = "", zeroDate, key[:0]
			switch b.kind { // encoding/json writes kind before payload
			case KindRefill:
				return s.refillPayload(&b, &key)
			case KindReprogram:
				return s.reprogramPayload(&b, &key)
			}
		}
		return false // decodeEntry refuses unknown fields: its job to say so
	})
	s.space()
	b.key, scr.key = key, key
	return b, ok && s.i == len(s.b) && b.kind != "" && len(key) > 0
}

// zeroDate is the date of service of a payload without performed_at.
var zeroDate = pumpledger.Instant{}.Date()

// refillPayload reads a refill's payload: mrn and date kept, the billable
// fields' bytes appended to key, every other field checked.
//
// A field it does not know sends the entry to encoding/json: a field added
// to Refill, Reprogram, VialUse or Dose must be placed here, as billable
// (in the key, if refill.Lines reads it) or checked, before a bill takes
// this path again; it is never skipped into a shape it may change. Stored
// entries hold every field, so TestScanBilledReadsEveryDemoVisit fails until
// it is placed.
func (s *scanner) refillPayload(b *billed, key *[]byte) bool {
	*key = append(*key, 'F')
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "mrn":
			v, ok := s.plainString()
			b.mrn = v
			return ok
		case "performed_at":
			return s.dateOfService(b)
		case "id", "pump_serial", "nurse", "witness", "note":
			return s.text()
		case "residual_ml":
			return s.decimal()
		case "procedure":
			return s.keep(key, 'p')
		case "rinse_ml":
			return s.keep(key, 'r')
		case "fill_ml":
			return s.keep(key, 'f')
		case "diluent_ml":
			return s.keep(key, 'd')
		case "solution":
			return s.keep(key, 's')
		case "vials":
			*key = append(*key, 'v')
			return s.array(func() bool {
				*key = append(*key, '[')
				return s.object(func(k []byte) bool {
					switch string(k) {
					case "ndc":
						return s.keep(key, 'n')
					case "count":
						return s.keep(key, 'c')
					case "lot", "expires":
						return s.text()
					}
					return false // unknown: see refillPayload
				})
			})
		case "dose":
			return s.dose(key)
		}
		return false // unknown: see refillPayload
	})
}

// reprogramPayload reads a dose change's payload; only its procedure bills.
func (s *scanner) reprogramPayload(b *billed, key *[]byte) bool {
	*key = append(*key, 'R')
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "mrn":
			v, ok := s.plainString()
			b.mrn = v
			return ok
		case "performed_at":
			return s.dateOfService(b)
		case "id", "pump_serial", "clinician", "note":
			return s.text()
		case "procedure":
			return s.keep(key, 'p')
		case "dose":
			start := len(*key)
			ok := s.dose(key)
			*key = (*key)[:start] // a dose change's line does not depend on it
			return ok
		}
		return false // unknown: see refillPayload
	})
}

// dose reads {"drug": ..., "mcg_per_day": ...}: the drug's bytes kept.
func (s *scanner) dose(key *[]byte) bool {
	*key = append(*key, 'D')
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "drug":
			return s.keep(key, 'g')
		case "mcg_per_day":
			return s.decimal()
		}
		return false // unknown: see refillPayload
	})
}

// keep appends tag, the next value's bytes and a 0 byte (which no JSON
// value holds, so the key is unambiguous) to key.
func (s *scanner) keep(key *[]byte, tag byte) bool {
	s.space()
	start := s.i
	if !s.skip() {
		return false
	}
	*key = append(append(append(*key, tag), s.b[start:s.i]...), 0)
	return true
}

// raw is the next value's bytes, syntax checked.
func (s *scanner) raw() ([]byte, bool) {
	s.space()
	start := s.i
	if !s.skip() {
		return nil, false
	}
	return s.b[start:s.i], true
}

// time checks a time as time.Time's UnmarshalJSON and decodeEntry do.
func (s *scanner) time() bool {
	v, ok := s.raw()
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
func (s *scanner) decimal() bool {
	v, ok := s.plainBytes()
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

// dateOfService reads an Instant and keeps its date on its own clock: the
// date as written, since an Instant keeps the offset it was written in
// (FuzzScanBilled holds it to Instant.Date).
func (s *scanner) dateOfService(b *billed) bool {
	v, ok := s.plainBytes()
	if !ok || len(v) < len(time.DateOnly) {
		return false
	}
	if _, err := pumpledger.ParseInstant(string(v)); err != nil {
		return false
	}
	d := v[:len(time.DateOnly)]
	if b.date, ok = s.scr.dates[string(d)]; !ok {
		b.date = string(d)
		s.scr.dates[b.date] = b.date
	}
	return true
}

// billScratch is what one bill worker's scans reuse: the key's buffer, and
// the dates of service seen (a month has 31: one string each, not one per
// visit).
type billScratch struct {
	key   []byte
	dates map[string]string
}

func newBillScratch() *billScratch { return &billScratch{dates: map[string]string{}} }

// text checks a string field that is not kept: a string (escapes and all,
// as strictly as encoding/json reads one) or null, which leaves it empty.
func (s *scanner) text() bool {
	switch s.peek() {
	case '"':
		return s.skip()
	case 'n':
		return s.literal("null")
	}
	return false
}

// strings checks an array of strings (or null).
func (s *scanner) strings() bool {
	if s.peek() == 'n' {
		return s.literal("null")
	}
	return s.array(s.text)
}

// array reads [value, ...], calling elem with the scanner at each value.
func (s *scanner) array(elem func() bool) bool {
	if s.peek() != '[' || s.depth >= maxScanDepth {
		return false
	}
	s.depth++
	ok := s.elements(elem)
	s.depth--
	return ok
}

func (s *scanner) elements(elem func() bool) bool {
	s.i++
	if s.peek() == ']' {
		s.i++
		return true
	}
	for {
		if !elem() {
			return false
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return true
		default:
			return false
		}
	}
}
