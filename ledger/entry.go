package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/pumpledger/pumpledger"
)

// Kind is what an entry records (pumpledger.Kind). The names below are the
// root package's, not a second list: the ledger's code spells them unqualified.
type Kind = pumpledger.Kind

const (
	KindPatient    = pumpledger.KindPatient
	KindImplant    = pumpledger.KindImplant
	KindExplant    = pumpledger.KindExplant
	KindRefill     = pumpledger.KindRefill
	KindReprogram  = pumpledger.KindReprogram
	KindCorrection = pumpledger.KindCorrection
	KindCatalog    = pumpledger.KindCatalog
	KindKey        = pumpledger.KindKey
)

// LateAfter is how long after the clinical time an entry may be recorded
// before it is marked late (policy): a refill charted the next morning is
// normal; one charted days later is worth an auditor's look.
const LateAfter = 24 * time.Hour

// Entry is the envelope of one recorded fact. Its canonical encoding
// (Encode) is the leaf of the tree: the same entry always hashes the same.
type Entry struct {
	Seq  int64  `json:"seq"` // position in the ledger and tlog record index, from 0
	ID   string `json:"id"`  // UUID; the idempotency key
	Kind Kind   `json:"kind"`
	// RecordedAt is the ledger clock at append, in UTC.
	RecordedAt time.Time `json:"recorded_at"`
	RecordedBy string    `json:"recorded_by"`
	// PerformedAt is the clinical time in UTC, PerformedOffset the offset it
	// was written in (display only). For patients and implants without a time
	// of day, the date at 00:00 UTC and offset "+00:00".
	PerformedAt     time.Time `json:"performed_at"`
	PerformedOffset string    `json:"performed_offset"`
	Late            bool      `json:"late"` // recorded more than LateAfter after performed
	// Warnings are the clinical warnings shown when the entry was recorded:
	// kept as evidence of what the clinician saw, even if a later catalog or
	// correction would derive others.
	Warnings []string `json:"warnings,omitempty"`
	// Payload is the entry's content in canonical JSON (see canonical).
	Payload json.RawMessage `json:"payload"`
}

// Correction is the payload of a correction entry.
type Correction = pumpledger.Correction

// Encode is the canonical bytes of the entry: encoding/json of the struct in
// field order, times in UTC RFC 3339 with nanoseconds, payload as stored.
func (e Entry) Encode() []byte {
	e.RecordedAt = e.RecordedAt.UTC()
	e.PerformedAt = e.PerformedAt.UTC()
	b, err := json.Marshal(e)
	if err != nil {
		panic(fmt.Sprintf("encode entry: %v", err)) // only plain types: cannot fail
	}
	return b
}

// decodeEntry parses stored bytes.
func decodeEntry(b []byte) (Entry, error) {
	var e Entry
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return Entry{}, fmt.Errorf("decode entry: %w", err)
	}
	// A time that parses with its offset but leaves years 0000-9999 in UTC
	// ("0000-01-01T00:00:00+01:00") cannot be encoded again: Encode would
	// panic, and verify re-encodes every stored entry.
	for _, t := range []time.Time{e.RecordedAt, e.PerformedAt} {
		if y := t.UTC().Year(); y < 0 || y > 9999 {
			return Entry{}, fmt.Errorf("decode entry: time %s is outside the years 0000 to 9999 in UTC", t.Format(time.RFC3339Nano))
		}
	}
	return e, nil
}

// Performed is the clinical time with its original offset.
func (e Entry) Performed() pumpledger.Instant {
	t, err := time.Parse("-07:00", e.PerformedOffset)
	off := 0
	if err == nil {
		_, off = t.Zone()
	}
	return pumpledger.Instant{UTC: e.PerformedAt, Offset: off}
}

// canonical encodes a payload. encoding/json is deterministic for structs
// (field order) and maps (sorted keys); decimals print as their shortest
// exact string; so equal content gives equal bytes.
func canonical(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encode payload: %v", err))
	}
	return b
}

// decodePayload reads a stored payload into v.
func (e Entry) DecodePayload(v any) error {
	if err := json.Unmarshal(e.Payload, v); err != nil {
		return fmt.Errorf("entry %d (%s): decode %s payload: %w", e.Seq, e.ID, e.Kind, err)
	}
	return nil
}

// Refill decodes a refill entry's payload.
func (e Entry) Refill() (pumpledger.Refill, error) {
	var r pumpledger.Refill
	if err := e.DecodePayload(&r); err != nil {
		return r, err
	}
	return r, e.quantities(r.CheckQuantities())
}

// quantities words a stored payload's out-of-bounds quantity: pumpledger
// writes only parsed ones, so the file was altered.
func (e Entry) quantities(err error) error {
	if err != nil {
		return fmt.Errorf("entry %d (%s): stored %s payload: %s", e.Seq, e.ID, e.Kind, strings.TrimSuffix(pumpledger.ErrorMessage(err), "."))
	}
	return nil
}

// Reprogram decodes a reprogram entry's payload.
func (e Entry) Reprogram() (pumpledger.Reprogram, error) {
	var r pumpledger.Reprogram
	if err := e.DecodePayload(&r); err != nil {
		return r, err
	}
	return r, e.quantities(r.CheckQuantities())
}

// Correction decodes a correction entry's payload.
func (e Entry) Correction() (Correction, error) {
	var c Correction
	return c, e.DecodePayload(&c)
}

// Patient decodes a patient entry's payload.
func (e Entry) Patient() (pumpledger.Patient, error) {
	var p pumpledger.Patient
	return p, e.DecodePayload(&p)
}

// Implant decodes an implant entry's payload.
func (e Entry) Implant() (pumpledger.Implant, error) {
	var p pumpledger.Implant
	if err := e.DecodePayload(&p); err != nil {
		return p, err
	}
	return p, e.quantities(p.CheckQuantities())
}

// Explant decodes an explant entry's payload.
func (e Entry) Explant() (pumpledger.Explant, error) {
	var p pumpledger.Explant
	return p, e.DecodePayload(&p)
}
