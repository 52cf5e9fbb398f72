package pumpledger

import (
	"io"
)

// Kind is what an entry records.
type Kind string

const (
	KindPatient    Kind = "patient"    // a patient registered
	KindImplant    Kind = "implant"    // a pump implanted in a patient
	KindExplant    Kind = "explant"    // a pump removed
	KindRefill     Kind = "refill"     // a refill visit
	KindReprogram  Kind = "reprogram"  // a dose change between refills
	KindCorrection Kind = "correction" // voids an earlier entry, with a reason
	KindCatalog    Kind = "catalog"    // the catalog in force from a date
	KindKey        Kind = "key"        // the ledger's signing key replaced by another

	// The clinical record around the refills (SPEC §9).
	KindDiagnosis     Kind = "diagnosis"     // a diagnosis on file
	KindCoverage      Kind = "coverage"      // a patient's insurance
	KindAuthorization Kind = "authorization" // a payer's prior authorization
	KindTherapy       Kind = "therapy"       // a therapy tried before the pump
	KindTrial         Kind = "trial"         // the preliminary trial
	KindConsent       Kind = "consent"       // informed consent
	KindAssessment    Kind = "assessment"    // a monitoring visit
	KindReview        Kind = "review"        // a refill's residual discrepancy reviewed

	KindSite       Kind = "site"       // the practice that bills: provider, ids, fee schedule
	KindSubmission Kind = "submission" // a claim sent in an 837P interchange
)

// KindSpec declares one kind of entry, once, with what the store and the
// inputs need of it: its payload, how a user gives one, and where the store
// files it. The use cases that record and derive each kind are package
// clinic's (its kinds table says what each bills and what it tells a
// pump's history); how the command line prints each is cmd's (printers).
// A kind missing here is one a newer pumpledger wrote.
type KindSpec struct {
	Kind Kind
	// Payload is a new zero payload of the kind, to decode a stored one.
	Payload func() any
	// Parse reads the payload from a user's JSON input and checks its
	// shape; nil where the kind is not given as a file (a correction names
	// what it voids on the command line).
	Parse func(io.Reader) (any, error)
	// Where the store files an entry of the kind: under its payload's mrn
	// (Patient), its pump's serial (Pump: "serial" or "pump_serial"), its
	// date of service (Dated: what a bill reads), its kind (ByKind: every
	// entry of the kind can be listed).
	Patient, Pump, Dated, ByKind bool
	// Corrects: the entry voids the one its payload names (Correction), and
	// is filed where that one and its replacement are.
	Corrects bool
	// Attaches: the payload may cite documents (Attaching), whose bytes the
	// store holds beside the entries and verify checks.
	Attaches bool
	// Clinical: one of the clinical record's kinds, recorded with
	// `pumpledger KIND add` and shown in a patient's chart.
	Clinical bool
}

// kinds is every kind this release knows.
var kinds = []KindSpec{
	{Kind: KindPatient, Payload: func() any { return new(Patient) }, Parse: parse(ParsePatient), Patient: true},
	{Kind: KindImplant, Payload: func() any { return new(Implant) }, Patient: true, Pump: true},
	{Kind: KindExplant, Payload: func() any { return new(Explant) }, Patient: true, Pump: true},
	{Kind: KindRefill, Payload: func() any { return new(Refill) }, Parse: parse(ParseRefill), Patient: true, Pump: true, Dated: true},
	{Kind: KindReprogram, Payload: func() any { return new(Reprogram) }, Parse: parse(ParseReprogram), Patient: true, Pump: true, Dated: true},
	{Kind: KindCorrection, Payload: func() any { return new(Correction) }, Corrects: true},
	{Kind: KindCatalog, Payload: func() any { return new(CatalogAdoption) }, ByKind: true},
	{Kind: KindKey, Payload: func() any { return new(KeyRotation) }, ByKind: true},
	clinical(KindDiagnosis, ParseDiagnosis),
	clinical(KindCoverage, ParseCoverage),
	clinical(KindAuthorization, ParseAuthorization),
	clinical(KindTherapy, ParseTherapy),
	clinical(KindTrial, ParseTrial),
	clinical(KindConsent, ParseConsent),
	clinical(KindAssessment, ParseAssessment),
	clinical(KindReview, ParseReview),
	// The practice that bills (SPEC §13): listed by kind, the one in force
	// chosen by its fee schedule's effective date.
	{Kind: KindSite, Payload: func() any { return new(Site) }, Parse: parse(ParseSite), ByKind: true},
	// A claim as sent: in its patient's history, and listed by kind for
	// the next export to find what it replaces or voids.
	{Kind: KindSubmission, Payload: func() any { return new(Submission) }, Patient: true, ByKind: true},
}

// clinical is the spec of a clinical record kind: filed under its patient,
// and by kind (the bill and the pre-billing check read every coverage,
// authorization and document of a period's patients at once, not each
// patient's whole history), each citing a document if any.
func clinical[T any](k Kind, fn func(io.Reader) (T, error)) KindSpec {
	return KindSpec{Kind: k, Payload: func() any { return new(T) }, Parse: parse(fn), Patient: true, ByKind: true, Attaches: true, Clinical: true}
}

// KindOf is the spec of kind k; false for a kind this release does not
// know (written by a newer one).
func KindOf(k Kind) (KindSpec, bool) {
	for _, s := range kinds {
		if s.Kind == k {
			return s, true
		}
	}
	return KindSpec{}, false
}

// Kinds lists every kind this release knows.
func Kinds() []KindSpec { return append([]KindSpec(nil), kinds...) }

// ParseInput reads a user's JSON input of kind k (a correction's
// replacement is of the voided entry's kind).
func ParseInput(k Kind, r io.Reader) (any, error) {
	s, ok := KindOf(k)
	if !ok || s.Parse == nil {
		return nil, Invalid("file", "An entry of kind %s can be voided but not replaced from a file; void it, then record the right one.", k)
	}
	return s.Parse(r)
}

func parse[T any](fn func(io.Reader) (T, error)) func(io.Reader) (any, error) {
	return func(r io.Reader) (any, error) {
		v, err := fn(r)
		if err != nil {
			return nil, err
		}
		return &v, nil
	}
}

// Correction is the payload of a correction entry.
type Correction struct {
	Voids       string `json:"voids"`       // id of the entry voided
	Reason      string `json:"reason"`      // why, in the corrector's words
	Replacement string `json:"replacement"` // id of the entry recorded in its place, or ""
}
