package clinic

import (
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/internal/jsonscan"
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
	kind pumpledger.Kind
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
	s := scanner{Scanner: jsonscan.Scanner{B: data}, scr: scr}
	key := scr.key[:0]
	ok = s.Object(func(k []byte) bool {
		switch string(k) {
		case "seq":
			n, ok := s.Integer()
			b.seq = n
			return ok
		case "id":
			v, ok := s.PlainString()
			b.id = v
			return ok
		case "kind":
			if len(key) > 0 {
				return false // a second kind after the payload was read as the first
			}
			v, ok := s.PlainString()
			b.kind = pumpledger.Kind(v)
			return ok
		case "recorded_at", "performed_at":
			return s.Time()
		case "recorded_by", "performed_offset":
			return s.Text()
		case "late":
			return s.Literal("true") || s.Literal("false")
		case "warnings":
			return s.Strings()
		case "payload":
			// A payload read again replaces the first, as encoding/json's.
			b.mrn, b.date, key = "", zeroDate, key[:0]
			switch b.kind { // encoding/json writes kind before payload
			case pumpledger.KindRefill:
				return s.refillPayload(&b, &key)
			case pumpledger.KindReprogram:
				return s.reprogramPayload(&b, &key)
			}
		}
		return false // decodeEntry refuses unknown fields: its job to say so
	})
	s.Space()
	b.key, scr.key = key, key
	return b, ok && s.I == len(s.B) && b.kind != "" && len(key) > 0
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
	return s.Object(func(k []byte) bool {
		switch string(k) {
		case "mrn":
			v, ok := s.PlainString()
			b.mrn = v
			return ok
		case "performed_at":
			return s.dateOfService(b)
		case "id", "pump_serial", "nurse", "witness", "note":
			return s.Text()
		case "residual_ml":
			return s.Decimal()
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
			return s.Array(func() bool {
				*key = append(*key, '[')
				return s.Object(func(k []byte) bool {
					switch string(k) {
					case "ndc":
						return s.keep(key, 'n')
					case "count":
						return s.keep(key, 'c')
					case "lot", "expires":
						return s.Text()
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
	return s.Object(func(k []byte) bool {
		switch string(k) {
		case "mrn":
			v, ok := s.PlainString()
			b.mrn = v
			return ok
		case "performed_at":
			return s.dateOfService(b)
		case "id", "pump_serial", "clinician", "note":
			return s.Text()
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
	return s.Object(func(k []byte) bool {
		switch string(k) {
		case "drug":
			return s.keep(key, 'g')
		case "mcg_per_day":
			return s.Decimal()
		}
		return false // unknown: see refillPayload
	})
}

// keep appends tag, the next value's bytes and a 0 byte (which no JSON
// value holds, so the key is unambiguous) to key.
func (s *scanner) keep(key *[]byte, tag byte) bool {
	s.Space()
	start := s.I
	if !s.Skip() {
		return false
	}
	*key = append(append(append(*key, tag), s.B[start:s.I]...), 0)
	return true
}

// dateOfService reads an Instant and keeps its date on its own clock: the
// date as written, since an Instant keeps the offset it was written in
// (FuzzScanBilled holds it to Instant.Date).
func (s *scanner) dateOfService(b *billed) bool {
	v, ok := s.PlainBytes()
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

// scanner is the JSON scanner with the bill's methods and scratch.
type scanner struct {
	jsonscan.Scanner
	scr *billScratch
}
