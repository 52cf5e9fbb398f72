package pumpledger

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/shopspring/decimal"
)

// The clinical record around the refills: what a payer reads before it
// pays for a pump drug (SPEC §8–§9). Each kind is recorded from one JSON
// object (`pumpledger KIND add --file F`), checked here for shape; the
// checks that need the ledger or the catalog (the patient exists, the payer
// is a profile of the catalog, the ICD-10 code is a common one) are the
// clinic's. Every kind may cite a document (an attachment).

// Diagnosis is a diagnosis on file: what makes the therapy medically
// necessary.
type Diagnosis struct {
	ID          string      `json:"id"`
	MRN         string      `json:"mrn"`
	Code        string      `json:"code"` // ICD-10-CM, "G89.4"
	Description string      `json:"description"`
	Onset       string      `json:"onset"` // YYYY-MM-DD
	Clinician   string      `json:"clinician"`
	Document    *Attachment `json:"document,omitempty"`
	Note        string      `json:"note"`
}

// Coverage is a patient's insurance: which payer profile bills for them,
// from when.
type Coverage struct {
	ID       string `json:"id"`
	MRN      string `json:"mrn"`
	Payer    string `json:"payer"` // a payer profile id of the catalog
	MemberID string `json:"member_id"`
	Plan     string `json:"plan"`
	Group    string `json:"group"`    // group number, when the card has one
	Priority string `json:"priority"` // primary, secondary or tertiary
	From     string `json:"from"`
	To       string `json:"to"` // "" while in force
	// Relationship is the patient's to the subscriber, the person who
	// holds the policy: "" (coverage recorded before it was asked) or
	// "self" when the patient holds it, else Subscriber names who does.
	Relationship string      `json:"relationship,omitempty"`
	Subscriber   *Subscriber `json:"subscriber,omitempty"`
	Document     *Attachment `json:"document,omitempty"`
	Note         string      `json:"note"`
}

// Subscriber is the person who holds a policy the patient is covered by
// as a dependent (837P 2010BA; FHIR RelatedPerson).
type Subscriber struct {
	Name      string   `json:"name"`
	BirthDate string   `json:"birth_date,omitempty"`
	Sex       string   `json:"sex,omitempty"`
	Address   *Address `json:"address,omitempty"`
}

// Self says whether the patient is the subscriber.
func (c Coverage) Self() bool { return c.Relationship == "" || c.Relationship == "self" }

// Authorization is a payer's prior authorization: Amount (mcg of Drug, or
// billing units of Codes) from From to To, drawn down by the refills billed
// under it.
type Authorization struct {
	ID     string          `json:"id"`
	MRN    string          `json:"mrn"`
	Payer  string          `json:"payer"`
	Number string          `json:"number"`
	Codes  []string        `json:"codes"` // HCPCS codes it covers, ["J2278"]
	Drug   string          `json:"drug"`
	Amount decimal.Decimal `json:"amount"`
	// UsedBefore is what was used of it before it was recorded here (an
	// authorization received part used, from another clinic or system).
	UsedBefore decimal.Decimal `json:"used_before"`
	Unit       string          `json:"unit"` // mcg or units
	From       string          `json:"from"`
	To         string          `json:"to"`
	ReassessBy string          `json:"reassess_by"` // "" when the payer set none
	Status     string          `json:"status"`      // approved, pending or denied
	Document   *Attachment     `json:"document,omitempty"`
	Note       string          `json:"note"`
}

// Therapy is a therapy tried before the pump, and how it ended: what step
// therapy and medical necessity are judged on.
type Therapy struct {
	ID       string      `json:"id"`
	MRN      string      `json:"mrn"`
	Therapy  string      `json:"therapy"` // "oral opioids", "intrathecal morphine"
	From     string      `json:"from"`
	To       string      `json:"to"`
	Outcome  string      `json:"outcome"` // failed, intolerant or contraindicated
	Details  string      `json:"details"`
	Document *Attachment `json:"document,omitempty"`
	Note     string      `json:"note"`
}

// Trial is the preliminary trial through a temporary catheter or a bolus
// that must precede an implanted pump (NCD 280.14). Its result is recorded
// when known: relief, function and successful stay empty until then.
type Trial struct {
	ID            string      `json:"id"`
	MRN           string      `json:"mrn"`
	Date          string      `json:"date"`
	Drug          string      `json:"drug"`
	Route         string      `json:"route"` // "intrathecal bolus", "continuous intrathecal catheter"
	Dose          string      `json:"dose"`  // as given, "2.4 mcg/day"
	Clinician     string      `json:"clinician"`
	ReliefPercent *int        `json:"relief_percent"`
	Function      string      `json:"function"` // effect on daily living
	Successful    *bool       `json:"successful"`
	Document      *Attachment `json:"document,omitempty"`
	Note          string      `json:"note"`
}

// Consent is the patient's informed consent to intrathecal therapy.
type Consent struct {
	ID       string      `json:"id"`
	MRN      string      `json:"mrn"`
	Date     string      `json:"date"`
	Therapy  string      `json:"therapy"` // what was consented to
	SignedBy string      `json:"signed_by"`
	Witness  string      `json:"witness"`
	Document *Attachment `json:"document,omitempty"` // the signed form
	Note     string      `json:"note"`
}

// Assessment is a monitoring visit: Prialt's boxed warning asks that every
// patient be monitored frequently for cognitive impairment, hallucinations
// and changes in mood or consciousness, and CK be watched.
type Assessment struct {
	ID            string              `json:"id"`
	MRN           string              `json:"mrn"`
	At            Instant             `json:"at"`
	Clinician     string              `json:"clinician"`
	PainScore     int                 `json:"pain_score"`  // 0–10
	Cognition     string              `json:"cognition"`   // normal or impaired
	Psychiatric   string              `json:"psychiatric"` // none or present
	AdverseEvents string              `json:"adverse_events"`
	CKUL          decimal.NullDecimal `json:"ck_u_l"` // creatine kinase, U/L, when drawn
	Document      *Attachment         `json:"document,omitempty"`
	Note          string              `json:"note"`
}

func (d Diagnosis) Attachments() []*Attachment     { return []*Attachment{d.Document} }
func (c Coverage) Attachments() []*Attachment      { return []*Attachment{c.Document} }
func (a Authorization) Attachments() []*Attachment { return []*Attachment{a.Document} }
func (t Therapy) Attachments() []*Attachment       { return []*Attachment{t.Document} }
func (t Trial) Attachments() []*Attachment         { return []*Attachment{t.Document} }
func (c Consent) Attachments() []*Attachment       { return []*Attachment{c.Document} }
func (a Assessment) Attachments() []*Attachment    { return []*Attachment{a.Document} }
func (r Review) Attachments() []*Attachment        { return []*Attachment{r.Document} }

// Review is a clinician's review of a refill whose residual was flagged as
// far from what the pump should have delivered (a pocket fill, a pump or
// catheter fault, a misread syringe): the discrepancy is not billed past
// until someone has looked at it and said what they found.
type Review struct {
	ID        string      `json:"id"`
	MRN       string      `json:"mrn"`
	Refill    string      `json:"refill"` // the refill entry's id
	At        Instant     `json:"at"`
	Clinician string      `json:"clinician"`
	Finding   string      `json:"finding"` // what was found, and done
	Document  *Attachment `json:"document,omitempty"`
	Note      string      `json:"note"`
}

// ParseReview reads a discrepancy review from JSON.
func ParseReview(r io.Reader) (Review, error) {
	var v Review
	return v, parseSteps(r, func(o *object) []func() error {
		return []func() error{
			func() (err error) { v.ID, err = o.id("id"); return },
			func() (err error) { v.MRN, err = o.mrn("mrn"); return },
			func() (err error) {
				if _, ok := o.get("refill"); !ok {
					return o.missing("refill", "give the id of the refill reviewed (see `pumpledger history`)")
				}
				v.Refill, err = o.id("refill")
				return err
			},
			func() (err error) { v.At, err = o.instant("at", true); return },
			func() (err error) { v.Clinician, err = o.str("clinician", true); return },
			func() (err error) { v.Finding, err = o.text("finding", true); return },
			func() (err error) { v.Document, err = o.document("document"); return },
			func() (err error) { v.Note, err = o.str("note", false); return },
		}
	})
}

// The words each enumerated field takes.
var (
	Priorities         = []string{"primary", "secondary", "tertiary"}
	AuthorizationUnits = []string{"mcg", "units"}
	AuthorizationState = []string{"approved", "pending", "denied"}
	TherapyOutcomes    = []string{"failed", "intolerant", "contraindicated"}
	CognitionFindings  = []string{"normal", "impaired"}
	PsychiatricFinding = []string{"none", "present"}
	Sexes              = []string{"F", "M", "U"} // X12 DMG03 and FHIR's female, male, unknown
	// Relationships are the patient's to a coverage's subscriber: the
	// codes of FHIR's subscriber-relationship that X12's PAT01 and 2320
	// SBR02 carry (RelationshipCodes).
	Relationships = []string{"self", "spouse", "child", "other"}
)

// RelationshipCodes are the X12 individual relationship codes (element
// 1069) of Relationships, as 005010X222A1 lists them for 2000C PAT01 and
// 2320 SBR02: 18 self (2320 only), 01 spouse, 19 child, G8 other.
var RelationshipCodes = map[string]string{"self": "18", "spouse": "01", "child": "19", "other": "G8"}

// icd10RE is the shape of an ICD-10-CM code as billed: a letter (U too:
// U07.1, U09.9), a digit, a digit or letter, then optionally a point and one
// to four characters ("G89.4", "M54.16", "T85.610A"). Claims drop the point;
// people write it.
var icd10RE = regexp.MustCompile(`^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$`)

// undottedRE is a code as a claim or an export carries it, without its point.
var undottedRE = regexp.MustCompile(`^[A-Z][0-9][0-9A-Z][0-9A-Z]{1,4}$`)

// DotICD10 writes a code given without its point ("G894", copied from a
// claim) as people and the chart read it ("G89.4"); any other as it is.
func DotICD10(code string) string {
	if undottedRE.MatchString(code) {
		return code[:3] + "." + code[3:]
	}
	return code
}

// CheckICD10 refuses a code that is not shaped like an ICD-10-CM code.
func CheckICD10(field, code string) error {
	if !icd10RE.MatchString(code) {
		return Invalid(field, "%s %q is not an ICD-10-CM code; write it like G89.4 or M54.16 (a letter, two characters, a point, up to four more).", field, clip(code))
	}
	return nil
}

// MaxDocumentPath bounds a document's path on input.
const MaxDocumentPath = 4096

// ParseDiagnosis reads a diagnosis from JSON.
func ParseDiagnosis(r io.Reader) (Diagnosis, error) {
	var d Diagnosis
	return d, parseSteps(r, func(o *object) []func() error {
		return []func() error{
			func() (err error) { d.ID, err = o.id("id"); return },
			func() (err error) { d.MRN, err = o.mrn("mrn"); return },
			func() (err error) {
				if d.Code, err = o.str("code", true); err != nil {
					return err
				}
				d.Code = DotICD10(strings.ToUpper(d.Code))
				return CheckICD10("code", d.Code)
			},
			func() (err error) { d.Description, err = o.str("description", true); return },
			func() (err error) { d.Onset, err = o.date("onset", false); return },
			func() (err error) { d.Clinician, err = o.str("clinician", true); return },
			func() (err error) { d.Document, err = o.document("document"); return },
			func() (err error) { d.Note, err = o.str("note", false); return },
		}
	})
}

// ParseCoverage reads a coverage from JSON.
func ParseCoverage(r io.Reader) (Coverage, error) {
	var c Coverage
	return c, parseSteps(r, func(o *object) []func() error {
		return []func() error{
			func() (err error) { c.ID, err = o.id("id"); return },
			func() (err error) { c.MRN, err = o.mrn("mrn"); return },
			func() (err error) { c.Payer, err = o.str("payer", true); return },
			func() (err error) { c.MemberID, err = o.ident("member_id", true); return },
			func() (err error) { c.Plan, err = o.str("plan", false); return },
			func() (err error) { c.Group, err = o.ident("group", false); return },
			func() (err error) { c.Priority, err = o.enum("priority", false, Priorities); return },
			func() (err error) { c.From, err = o.date("from", true); return },
			func() (err error) { c.To, err = o.date("to", false); return },
			func() error { return o.period("from", c.From, "to", c.To) },
			func() (err error) { c.Relationship, err = o.enum("relationship", false, Relationships); return },
			func() (err error) { c.Subscriber, err = o.subscriber("subscriber", c.Self()); return },
			func() (err error) { c.Document, err = o.document("document"); return },
			func() (err error) { c.Note, err = o.str("note", false); return },
		}
	}, func() {
		if c.Priority == "" {
			c.Priority = "primary"
		}
	})
}

// ParseAuthorization reads a prior authorization from JSON.
func ParseAuthorization(r io.Reader) (Authorization, error) {
	var a Authorization
	return a, parseSteps(r, func(o *object) []func() error {
		return []func() error{
			func() (err error) { a.ID, err = o.id("id"); return },
			func() (err error) { a.MRN, err = o.mrn("mrn"); return },
			func() (err error) { a.Payer, err = o.str("payer", true); return },
			func() (err error) { a.Number, err = o.ident("number", true); return },
			func() (err error) { a.Codes, err = o.codes("codes"); return },
			func() (err error) { a.Drug, err = o.str("drug", true); return },
			func() (err error) {
				d, _, err := o.decimal("amount", true)
				if err != nil {
					return err
				}
				if !d.IsPositive() {
					return Invalid("amount", "amount must be more than zero, not %s; give what the payer authorized.", d)
				}
				a.Amount = d
				return nil
			},
			func() error {
				d, _, err := o.decimal("used_before", false)
				if err != nil {
					return err
				}
				if d.IsNegative() || d.GreaterThan(a.Amount) {
					return Invalid("used_before", "used_before must be from 0 to the amount authorized (%s), not %s; give what was already used of it.", a.Amount, d)
				}
				a.UsedBefore = d
				return nil
			},
			func() (err error) { a.Unit, err = o.enum("unit", true, AuthorizationUnits); return },
			func() (err error) { a.From, err = o.date("from", true); return },
			func() (err error) { a.To, err = o.date("to", true); return },
			func() error { return o.period("from", a.From, "to", a.To) },
			func() (err error) { a.ReassessBy, err = o.date("reassess_by", false); return },
			func() error { return o.period("from", a.From, "reassess_by", a.ReassessBy) },
			func() (err error) { a.Status, err = o.enum("status", true, AuthorizationState); return },
			func() (err error) { a.Document, err = o.document("document"); return },
			func() (err error) { a.Note, err = o.str("note", false); return },
		}
	})
}

// ParseTherapy reads a prior therapy from JSON.
func ParseTherapy(r io.Reader) (Therapy, error) {
	var t Therapy
	return t, parseSteps(r, func(o *object) []func() error {
		return []func() error{
			func() (err error) { t.ID, err = o.id("id"); return },
			func() (err error) { t.MRN, err = o.mrn("mrn"); return },
			func() (err error) { t.Therapy, err = o.str("therapy", true); return },
			func() (err error) { t.From, err = o.date("from", true); return },
			func() (err error) { t.To, err = o.date("to", false); return },
			func() error { return o.period("from", t.From, "to", t.To) },
			func() (err error) { t.Outcome, err = o.enum("outcome", true, TherapyOutcomes); return },
			func() (err error) { t.Details, err = o.text("details", false); return },
			func() (err error) { t.Document, err = o.document("document"); return },
			func() (err error) { t.Note, err = o.str("note", false); return },
		}
	})
}

// ParseTrial reads a trial from JSON.
func ParseTrial(r io.Reader) (Trial, error) {
	var t Trial
	return t, parseSteps(r, func(o *object) []func() error {
		return []func() error{
			func() (err error) { t.ID, err = o.id("id"); return },
			func() (err error) { t.MRN, err = o.mrn("mrn"); return },
			func() (err error) { t.Date, err = o.date("date", true); return },
			func() (err error) { t.Drug, err = o.str("drug", true); return },
			func() (err error) { t.Route, err = o.str("route", true); return },
			func() (err error) { t.Dose, err = o.str("dose", true); return },
			func() (err error) { t.Clinician, err = o.str("clinician", false); return },
			func() error {
				if _, ok := o.get("relief_percent"); !ok {
					return nil
				}
				n, err := o.integer("relief_percent", true, 0, 100, "percent")
				t.ReliefPercent = &n
				return err
			},
			func() (err error) { t.Function, err = o.text("function", false); return },
			func() (err error) { t.Successful, err = o.boolean("successful"); return },
			func() (err error) { t.Document, err = o.document("document"); return },
			func() (err error) { t.Note, err = o.str("note", false); return },
		}
	})
}

// ParseConsent reads a consent from JSON.
func ParseConsent(r io.Reader) (Consent, error) {
	var c Consent
	return c, parseSteps(r, func(o *object) []func() error {
		return []func() error{
			func() (err error) { c.ID, err = o.id("id"); return },
			func() (err error) { c.MRN, err = o.mrn("mrn"); return },
			func() (err error) { c.Date, err = o.date("date", true); return },
			func() (err error) { c.Therapy, err = o.str("therapy", false); return },
			func() (err error) { c.SignedBy, err = o.str("signed_by", true); return },
			func() (err error) { c.Witness, err = o.str("witness", false); return },
			func() (err error) { c.Document, err = o.document("document"); return },
			func() (err error) { c.Note, err = o.str("note", false); return },
		}
	})
}

// MaxCKUL bounds a creatine kinase result: 1,000,000 U/L, past the most
// severe rhabdomyolysis reported; more is a typing slip.
const MaxCKUL = 1_000_000

// ParseAssessment reads a monitoring assessment from JSON.
func ParseAssessment(r io.Reader) (Assessment, error) {
	var a Assessment
	return a, parseSteps(r, func(o *object) []func() error {
		return []func() error{
			func() (err error) { a.ID, err = o.id("id"); return },
			func() (err error) { a.MRN, err = o.mrn("mrn"); return },
			func() (err error) { a.At, err = o.instant("at", true); return },
			func() (err error) { a.Clinician, err = o.str("clinician", true); return },
			func() (err error) {
				a.PainScore, err = o.integer("pain_score", true, 0, 10, "(the 0–10 numeric rating scale)")
				return
			},
			func() (err error) { a.Cognition, err = o.enum("cognition", true, CognitionFindings); return },
			func() (err error) { a.Psychiatric, err = o.enum("psychiatric", true, PsychiatricFinding); return },
			func() (err error) { a.AdverseEvents, err = o.text("adverse_events", false); return },
			func() error {
				d, ok, err := o.decimal("ck_u_l", false)
				if err != nil || !ok {
					return err
				}
				if d.IsNegative() || d.GreaterThan(decimal.NewFromInt(MaxCKUL)) {
					return Invalid("ck_u_l", "ck_u_l must be from 0 to %d U/L, not %s; check the units (U/L) and the figure.", MaxCKUL, d)
				}
				a.CKUL = decimal.NullDecimal{Decimal: d, Valid: true}
				return nil
			},
			func() (err error) { a.Document, err = o.document("document"); return },
			func() (err error) { a.Note, err = o.str("note", false); return },
		}
	})
}

// parseSteps reads one JSON object and runs steps over it, then refuses
// fields no step asked for; after run once all steps passed.
func parseSteps(r io.Reader, steps func(o *object) []func() error, after ...func()) error {
	data, err := readAll(r)
	if err != nil {
		return err
	}
	o, err := decodeObject("", data)
	if err != nil {
		return err
	}
	for _, step := range append(steps(o), o.done) {
		if err := step(); err != nil {
			return err
		}
	}
	for _, fn := range after {
		fn()
	}
	return nil
}

// text reads free text: a string that may hold line breaks.
func (o *object) text(f string, required bool) (string, error) {
	v, ok := o.get(f)
	if !ok {
		if required {
			return "", o.missing(f, "add it")
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", Invalid(o.name(f), "%s must be a string; put it in double quotes.", o.name(f))
	}
	s = strings.TrimSpace(s)
	if required && s == "" {
		return "", Invalid(o.name(f), "%s is empty; fill it in.", o.name(f))
	}
	return s, CheckText(o.name(f), s, true)
}

// ident reads an identifier a claim carries (a member id, an authorization
// number): no X12 delimiters, at most 50 characters (X12 REF02, NM109).
func (o *object) ident(f string, required bool) (string, error) {
	s, err := o.str(f, required)
	if err != nil || s == "" {
		return s, err
	}
	if i := strings.IndexAny(s, X12Delimiters); i >= 0 {
		return "", Invalid(o.name(f), "%s %q holds %q, which an X12 claim uses as a delimiter; write it without * : ~ ^.", o.name(f), clip(s), s[i:i+1])
	}
	// X12's character sets are ASCII: a dash or space pasted from a PDF
	// (U+2013, U+00A0) reads the same here and fails at the payer.
	for _, r := range s {
		if r < ' ' || r > '~' {
			return "", Invalid(o.name(f), "%s %q holds %q (U+%04X), which a claim cannot carry; retype it with plain letters, digits and hyphens.", o.name(f), clip(s), string(r), r)
		}
	}
	if n := len([]rune(s)); n > 50 {
		return "", Invalid(o.name(f), "%s is %d characters long, more than the 50 a claim carries; check it against the card or letter.", o.name(f), n)
	}
	return s, nil
}

// enum reads one of words (matched in any case, stored as listed).
func (o *object) enum(f string, required bool, words []string) (string, error) {
	if _, ok := o.get(f); !ok && required {
		return "", o.missing(f, "add it: "+oneOf(words))
	}
	s, err := o.str(f, required)
	if err != nil || s == "" {
		return s, err
	}
	for _, w := range words {
		if strings.EqualFold(s, w) {
			return w, nil
		}
	}
	return "", Invalid(o.name(f), "%s must be %s, not %q.", o.name(f), oneOf(words), clip(s))
}

func oneOf(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = fmt.Sprintf("%q", w)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// period refuses a period whose end is before its start.
func (o *object) period(fromField, from, toField, to string) error {
	if from != "" && to != "" && to < from {
		return Invalid(o.name(toField), "%s %s is before %s %s; check both dates.", o.name(toField), to, o.name(fromField), from)
	}
	return nil
}

// boolean reads true or false; nil when not given.
func (o *object) boolean(f string) (*bool, error) {
	v, ok := o.get(f)
	if !ok {
		return nil, nil
	}
	var b bool
	if err := json.Unmarshal(v, &b); err != nil {
		return nil, Invalid(o.name(f), "%s must be true or false, without quotes.", o.name(f))
	}
	return &b, nil
}

var hcpcsRE = regexp.MustCompile(`^[A-Z][0-9]{4}$|^[0-9]{5}$`)

// codes reads a list of HCPCS or CPT codes.
func (o *object) codes(f string) ([]string, error) {
	items, err := o.array(f, true)
	if err != nil {
		return nil, err
	}
	if len(items) > 20 {
		return nil, Invalid(o.name(f), "%s lists %d codes; an authorization covers a few, list those on the letter.", o.name(f), len(items))
	}
	out := make([]string, 0, len(items))
	for i, raw := range items {
		name := fmt.Sprintf("%s[%d]", o.name(f), i)
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, Invalid(name, "%s must be a code in double quotes, like \"J2278\".", name)
		}
		s = strings.ToUpper(strings.TrimSpace(s))
		if !hcpcsRE.MatchString(s) {
			return nil, Invalid(name, "%s %q is not a HCPCS or CPT code; write it like J2278 or 95990.", name, clip(s))
		}
		out = append(out, s)
	}
	return out, nil
}

// maxListText bounds one text of a list (a warning is a sentence or two).
const maxListText = 2000

// texts reads an optional list of at most max one-line texts.
func (o *object) texts(f string, max int) ([]string, error) {
	items, err := o.array(f, false)
	if err != nil || len(items) == 0 {
		return nil, err
	}
	if len(items) > max {
		return nil, Invalid(o.name(f), "%s lists %d texts; at most %d.", o.name(f), len(items), max)
	}
	out := make([]string, 0, len(items))
	for i, raw := range items {
		name := fmt.Sprintf("%s[%d]", o.name(f), i)
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, Invalid(name, "%s must be a text in double quotes.", name)
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, Invalid(name, "%s is empty; leave it out.", name)
		}
		if len(s) > maxListText {
			return nil, Invalid(name, "%s is longer than %d bytes; shorten it.", name, maxListText)
		}
		if err := CheckText(name, s, false); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// document reads a document: a file's path (a string), or a stored
// document cited by its hash ({"sha256": ...}, as a stored entry holds it).
func (o *object) document(f string) (*Attachment, error) {
	v, ok := o.get(f)
	if !ok {
		return nil, nil
	}
	var path string
	if err := json.Unmarshal(v, &path); err == nil {
		path = strings.TrimSpace(path)
		if path == "" {
			return nil, Invalid(o.name(f), "%s is empty; give the document's file path, or leave the field out.", o.name(f))
		}
		if len(path) > MaxDocumentPath {
			return nil, Invalid(o.name(f), "%s is a path of %d bytes; give a shorter path to the document.", o.name(f), len(path))
		}
		if err := CheckText(o.name(f), path, false); err != nil {
			return nil, err
		}
		// The name is kept trimmed, as a stored entry's name reads back.
		return &Attachment{Path: path, Name: strings.TrimSpace(filepath.Base(path))}, nil
	}
	d, err := decodeObject(o.name(f), v)
	if err != nil {
		return nil, Invalid(o.name(f), "%s must be the document's file path in double quotes, or {\"sha256\": ...} for one already stored.", o.name(f))
	}
	var a Attachment
	if a.SHA256, err = d.str("sha256", true); err != nil {
		return nil, err
	}
	// Hex is hex in either case; Windows' tools print it in upper case.
	a.SHA256 = strings.ToLower(a.SHA256)
	if err := CheckSHA256(d.name("sha256"), a.SHA256); err != nil {
		return nil, err
	}
	// Only what SniffDocument gives: a reader that trusts the recorded kind
	// must not be told a stored PDF is HTML.
	if a.MediaType, err = d.enum("media_type", false, DocumentTypes); err != nil {
		return nil, err
	}
	if a.Name, err = d.str("name", false); err != nil {
		return nil, err
	}
	// A size of 0 is one not known, as an entry citing a document by its
	// hash alone records it (no document is empty).
	if _, ok := d.get("size"); ok {
		n, err := d.integer("size", true, 0, MaxAttachmentBytes, "bytes")
		if err != nil {
			return nil, err
		}
		a.Size = int64(n)
	}
	return &a, d.done()
}

// subscriber reads a coverage's subscriber: required unless the patient
// is the subscriber (self), and refused then, since the patient's own
// registration is what a claim carries.
func (o *object) subscriber(f string, self bool) (*Subscriber, error) {
	_, given := o.get(f)
	switch {
	case self && given:
		return nil, Invalid(o.name(f), "%s is given but relationship is self; remove it, or set relationship to the patient's relationship to the subscriber (spouse, child or other).", o.name(f))
	case self:
		return nil, nil
	case !given:
		return nil, Invalid(o.name(f), "%s is missing; a coverage whose relationship is not self names the person who holds the policy: add {\"name\": ...} with their birth_date, sex and address when known.", o.name(f))
	}
	d, err := o.object(f, true)
	if err != nil {
		return nil, err
	}
	var s Subscriber
	for _, step := range []func() error{
		func() (err error) { s.Name, err = d.str("name", true); return },
		func() (err error) { s.BirthDate, err = d.birthDate("birth_date"); return },
		func() (err error) { s.Sex, err = d.enum("sex", false, Sexes); return },
		func() (err error) { s.Address, err = d.address("address"); return },
		d.done,
	} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return &s, nil
}

// birthDate reads a date of birth: a date not before 1900 (the clinic
// refuses one in the future, by its clock).
func (o *object) birthDate(f string) (string, error) {
	s, err := o.date(f, false)
	if err != nil || s == "" {
		return s, err
	}
	if s < "1900-01-01" {
		return "", Invalid(o.name(f), "%s %s is before 1900; check the year.", o.name(f), s)
	}
	return s, nil
}

var zipRE = regexp.MustCompile(`^[0-9]{5}(-?[0-9]{4})?$`)

// USPSStates are the two-letter codes USPS delivers to: the states, DC, the
// territories and freely associated states, and the military's AA, AE, AP
// (USPS Publication 28, appendix B).
var USPSStates = strings.Fields(`AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD
	MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY
	DC AS GU MP PR VI UM FM MH PW AA AE AP`)

// address reads a postal address.
func (o *object) address(f string) (*Address, error) {
	d, err := o.object(f, false)
	if err != nil || d == nil {
		return nil, err
	}
	var a Address
	for _, step := range []func() error{
		func() (err error) { a.Line1, err = d.ident("line1", true); return },
		func() (err error) { a.Line2, err = d.ident("line2", false); return },
		func() (err error) { a.City, err = d.ident("city", true); return },
		func() (err error) {
			s, err := d.str("state", true)
			if err != nil {
				return err
			}
			if a.State = strings.ToUpper(s); !slices.Contains(USPSStates, a.State) {
				return Invalid(d.name("state"), "%s must be the two-letter USPS code, like \"OH\", not %q.", d.name("state"), clip(s))
			}
			return nil
		},
		func() (err error) {
			if a.PostalCode, err = d.str("postal_code", true); err != nil {
				return err
			}
			if !zipRE.MatchString(a.PostalCode) {
				return Invalid(d.name("postal_code"), "%s must be a ZIP code like \"43215\" or \"43215-1234\", not %q.", d.name("postal_code"), clip(a.PostalCode))
			}
			return nil
		},
		d.done,
	} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return &a, nil
}

// Record is a payload of one of the clinical record's kinds: what the use
// cases, the printers and the demo ask of any of them.
type Record interface {
	Attaching
	RecordKind() Kind   // its kind
	PatientMRN() string // whose record it is
}

func (Diagnosis) RecordKind() Kind     { return KindDiagnosis }
func (Coverage) RecordKind() Kind      { return KindCoverage }
func (Authorization) RecordKind() Kind { return KindAuthorization }
func (Therapy) RecordKind() Kind       { return KindTherapy }
func (Trial) RecordKind() Kind         { return KindTrial }
func (Consent) RecordKind() Kind       { return KindConsent }
func (Assessment) RecordKind() Kind    { return KindAssessment }
func (Review) RecordKind() Kind        { return KindReview }

func (d Diagnosis) PatientMRN() string     { return d.MRN }
func (c Coverage) PatientMRN() string      { return c.MRN }
func (a Authorization) PatientMRN() string { return a.MRN }
func (t Therapy) PatientMRN() string       { return t.MRN }
func (t Trial) PatientMRN() string         { return t.MRN }
func (c Consent) PatientMRN() string       { return c.MRN }
func (a Assessment) PatientMRN() string    { return a.MRN }
func (r Review) PatientMRN() string        { return r.MRN }

// SetID gives a record its id (the demo's, made from its seed).
func (d *Diagnosis) SetID(id string)     { d.ID = id }
func (c *Coverage) SetID(id string)      { c.ID = id }
func (a *Authorization) SetID(id string) { a.ID = id }
func (t *Therapy) SetID(id string)       { t.ID = id }
func (t *Trial) SetID(id string)         { t.ID = id }
func (c *Consent) SetID(id string)       { c.ID = id }
func (a *Assessment) SetID(id string)    { a.ID = id }
func (r *Review) SetID(id string)        { r.ID = id }
