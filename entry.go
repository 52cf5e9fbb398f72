package pumpledger

import (
	"fmt"
	"io"

	"github.com/shopspring/decimal"
)

// The entries a clinic records. They are what the user said, checked for shape
// (fields present, numbers positive); the rules that need the catalog or the
// pump's history (refill.Derive) and storage (ledger) come after.

// Patient registers a patient. Name is PHI: it is stored, shown to the user who
// asks for it, and never written to a log.
type Patient struct {
	MRN  string `json:"mrn"`
	Name string `json:"name"`
	// What a claim and an EHR need of the patient (837P loop 2010BA DMG,
	// N3/N4; FHIR Patient). Left out of registrations made before they
	// were asked for, which stay byte for byte as recorded.
	BirthDate string   `json:"birth_date,omitempty"` // YYYY-MM-DD
	Sex       string   `json:"sex,omitempty"`        // F, M or U
	Address   *Address `json:"address,omitempty"`
}

// Address is a postal address as a claim carries it (X12 N3/N4).
type Address struct {
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	State      string `json:"state"`       // two-letter USPS code
	PostalCode string `json:"postal_code"` // ZIP or ZIP+4
}

// Implant registers a pump in a patient on a date.
type Implant struct {
	MRN    string `json:"mrn"`
	Serial string `json:"serial"`
	Model  string `json:"model"`
	Date   string `json:"date"` // YYYY-MM-DD
	// AlarmML overrides the model's low-reservoir threshold when the clinic
	// programmed another (SynchroMed II's alarm is programmable).
	AlarmML decimal.NullDecimal `json:"alarm_ml"`
	// Held names drugs the pump already held before its first fill recorded
	// here (a patient whose therapy began elsewhere): the pump is not naive
	// to them, so no rinse or 14-day first refill is expected.
	Held []string `json:"held,omitempty"`
}

// Explant records that a pump was removed; its chain ends there.
type Explant struct {
	MRN    string `json:"mrn"`
	Serial string `json:"serial"`
	Date   string `json:"date"`
	Reason string `json:"reason"`
}

// CatalogAdoption is the payload of a catalog entry: the catalog in force
// from a date, held in the ledger byte for byte so that the figures derived
// with it can always be derived again, and cannot change unrecorded.
type CatalogAdoption struct {
	SHA256  string `json:"sha256"`  // hex SHA-256 of Content, as sha256sum prints it
	From    string `json:"from"`    // YYYY-MM-DD in force from; "" since the ledger began
	Reason  string `json:"reason"`  // why it was adopted, for the auditor
	Name    string `json:"name"`    // the file's base name
	Content string `json:"content"` // the catalog file
}

// KeyRotation is the payload of a key entry: the ledger's signing key
// replaced. The checkpoint of the tree that ends with it is signed by both
// keys, so the old key vouches for the new one (ledger.DB.RotateKey).
type KeyRotation struct {
	OldKey string `json:"old_key"` // the verifier key replaced, as LEDGER.pub held it
	NewKey string `json:"new_key"` // the verifier key from this entry on
}

// Dose is the programmed daily dose of one drug of the solution; the pump's
// volume rate follows from it and that drug's concentration.
type Dose struct {
	Drug      string          `json:"drug"`
	MCGPerDay decimal.Decimal `json:"mcg_per_day"`
}

// SolutionDrug is one drug of the solution put in the reservoir.
type SolutionDrug struct {
	Drug     string          `json:"drug"`
	MCGPerML decimal.Decimal `json:"mcg_per_ml"`
}

// MaxVialCount bounds one stored vials line's count when an entry is derived
// again (refill.Derive): few enough that deriving them is cheap. Input is held
// to the tighter bounds below.
const MaxVialCount = 1000

// What one refill can physically be; input beyond it is refused, never
// recorded with a warning (a 923 KB input once billed 1.3 billion JW units).
// The catalog's largest reservoir holds 40 mL, a naive pump's rinse is 6 mL,
// its smallest container holds 1 mL (ziconotide 100 mcg/1 mL), its strongest
// product is 100 mcg/mL and ziconotide's label maximum is 19.2 mcg/day; site
// catalogs add morphine (at most 25 mg/mL as sold, 50 mg/mL compounded) and
// others dosed in mg/day. Each bound leaves a margin of at least twice that,
// so a larger site pump or a stronger compounded product still fits:
const (
	// MaxML bounds every volume (fill, residual, rinse, diluent): 2.5× the
	// 40 mL reservoir.
	MaxML = 100
	// MaxContainers bounds the containers of all vials lines together:
	// MaxML drawn from 1 mL vials is 100; twice that.
	MaxContainers = 200
	// MaxVialLines bounds the vials lines (one per NDC and lot): a refill
	// lists one to three; an admixture of four drugs of two lots each, 8.
	MaxVialLines = 20
	// MaxMCGPerML bounds a concentration: 100 mg/mL, twice the strongest
	// compounded intrathecal morphine (ziconotide's strongest is 0.1 mg/mL).
	MaxMCGPerML = 100_000
	// MaxMCGPerDay bounds a dose: 100 mg/day, several times any intrathecal
	// consensus maximum (morphine 15 mg/day; ziconotide 19.2 mcg/day).
	MaxMCGPerDay = 100_000
)

// VialUse is one line of containers opened: Count containers of one NDC and lot,
// drawn in the order listed.
type VialUse struct {
	NDC     string `json:"ndc"`
	Count   int    `json:"count"`
	Lot     string `json:"lot"`
	Expires string `json:"expires"` // YYYY-MM-DD; empty when not recorded
}

// Refill is one refill visit as the nurse recorded it.
type Refill struct {
	ID          string          `json:"id"`
	MRN         string          `json:"mrn"`
	PumpSerial  string          `json:"pump_serial"`
	PerformedAt Instant         `json:"performed_at"`
	Nurse       string          `json:"nurse"`
	Witness     string          `json:"witness"`
	ResidualML  decimal.Decimal `json:"residual_ml"`
	RinseML     decimal.Decimal `json:"rinse_ml"`
	FillML      decimal.Decimal `json:"fill_ml"`
	Solution    []SolutionDrug  `json:"solution"`
	Vials       []VialUse       `json:"vials"`
	DiluentML   decimal.Decimal `json:"diluent_ml"`
	// Diluent names what the drug was diluted with; "" (every entry made
	// before it existed) means DefaultDiluent.
	Diluent   string `json:"diluent,omitempty"`
	Dose      Dose   `json:"dose"`
	Procedure string `json:"procedure"`
	Note      string `json:"note"`
	// WitnessSigned: the witness signed in with their own account, on the
	// nurse's screen, to witness the waste (the web app's refill form).
	// Only the server sets it; an input that does is refused.
	WitnessSigned bool `json:"witness_signed,omitempty"`
	// Acknowledged are the warnings the nurse acknowledged, one by one,
	// before saving (the web app requires each; a program may send them).
	Acknowledged []string `json:"acknowledged,omitempty"`
}

// MaxAcknowledged bounds the warnings one refill or dose change acknowledges: a visit
// shows a handful.
const MaxAcknowledged = 50

// DefaultDiluent is the diluent of a refill that names none: the one the
// Prialt label dilutes with.
const DefaultDiluent = "preservative-free 0.9% sodium chloride"

// Reprogram is a dose change between refills.
type Reprogram struct {
	ID          string  `json:"id"`
	MRN         string  `json:"mrn"`
	PumpSerial  string  `json:"pump_serial"`
	PerformedAt Instant `json:"performed_at"`
	Clinician   string  `json:"clinician"`
	Dose        Dose    `json:"dose"`
	Procedure   string  `json:"procedure"`
	Note        string  `json:"note"`
	// Acknowledged are the warnings the clinician acknowledged before
	// saving, as on a refill (the web app's dose-change form requires each).
	Acknowledged []string `json:"acknowledged,omitempty"`
}

// ParseRefill reads one refill from JSON and checks its shape. It refuses with
// an EINVALID *Error naming the first field at fault.
func ParseRefill(r io.Reader) (Refill, error) {
	data, err := readAll(r)
	if err != nil {
		return Refill{}, err
	}
	o, err := decodeObject("", data)
	if err != nil {
		return Refill{}, err
	}
	var f Refill
	for _, step := range []func() error{
		func() (err error) { f.ID, err = o.id("id"); return },
		func() (err error) { f.MRN, err = o.mrn("mrn"); return },
		func() (err error) { f.PumpSerial, err = o.str("pump_serial", true); return },
		func() (err error) { f.PerformedAt, err = o.instant("performed_at", true); return },
		func() (err error) { f.Nurse, err = o.str("nurse", true); return },
		func() (err error) { f.Witness, err = o.str("witness", false); return },
		func() (err error) { f.ResidualML, err = o.volume("residual_ml", true, true); return },
		func() (err error) { f.RinseML, err = o.volume("rinse_ml", false, true); return },
		func() (err error) { f.FillML, err = o.volume("fill_ml", true, false); return },
		func() (err error) { f.Solution, err = o.solution("solution"); return },
		func() (err error) { f.Vials, err = o.vials("vials"); return },
		func() (err error) { f.DiluentML, err = o.volume("diluent_ml", true, true); return },
		func() (err error) { f.Diluent, err = o.str("diluent", false); return },
		func() (err error) { f.Dose, err = o.dose("dose"); return },
		func() (err error) { f.Procedure, err = o.str("procedure", true); return },
		func() (err error) { f.Note, err = o.str("note", false); return },
		func() error {
			if _, ok := o.get("witness_signed"); ok {
				return Invalid("witness_signed", "witness_signed is set by the server when the witness signs in with their own account; leave it out.")
			}
			return nil
		},
		func() (err error) { f.Acknowledged, err = o.texts("acknowledged", MaxAcknowledged); return },
		o.done,
	} {
		if err := step(); err != nil {
			return Refill{}, err
		}
	}
	return f, nil
}

// ParsePatient reads a patient registration from JSON, {"mrn": ..., "name":
// ..., "birth_date": ..., "sex": ..., "address": {...}}: `patient add
// --file`, and the replacement a correction of a registration gives.
func ParsePatient(r io.Reader) (Patient, error) {
	data, err := readAll(r)
	if err != nil {
		return Patient{}, err
	}
	o, err := decodeObject("", data)
	if err != nil {
		return Patient{}, err
	}
	var p Patient
	for _, step := range []func() error{
		func() (err error) { p.MRN, err = o.mrn("mrn"); return },
		func() (err error) { p.Name, err = o.str("name", true); return },
		func() (err error) { p.BirthDate, err = o.birthDate("birth_date"); return },
		func() (err error) { p.Sex, err = o.enum("sex", false, Sexes); return },
		func() (err error) { p.Address, err = o.address("address"); return },
		o.done,
	} {
		if err := step(); err != nil {
			return Patient{}, err
		}
	}
	return p, nil
}

// ParseReprogram reads one dose change from JSON and checks its shape.
func ParseReprogram(r io.Reader) (Reprogram, error) {
	data, err := readAll(r)
	if err != nil {
		return Reprogram{}, err
	}
	o, err := decodeObject("", data)
	if err != nil {
		return Reprogram{}, err
	}
	var p Reprogram
	for _, step := range []func() error{
		func() (err error) { p.ID, err = o.id("id"); return },
		func() (err error) { p.MRN, err = o.mrn("mrn"); return },
		func() (err error) { p.PumpSerial, err = o.str("pump_serial", true); return },
		func() (err error) { p.PerformedAt, err = o.instant("performed_at", true); return },
		func() (err error) { p.Clinician, err = o.str("clinician", true); return },
		func() (err error) { p.Dose, err = o.dose("dose"); return },
		func() (err error) { p.Procedure, err = o.str("procedure", true); return },
		func() (err error) { p.Note, err = o.str("note", false); return },
		func() (err error) { p.Acknowledged, err = o.texts("acknowledged", MaxAcknowledged); return },
		o.done,
	} {
		if err := step(); err != nil {
			return Reprogram{}, err
		}
	}
	return p, nil
}

// volume reads a volume in mL: never negative, and zero only where zero means
// something (no residual, no rinse, no diluent).
func (o *object) volume(f string, required, zeroOK bool) (decimal.Decimal, error) {
	d, _, err := o.decimal(f, required)
	if err != nil {
		return d, err
	}
	if d.GreaterThan(decimal.NewFromInt(MaxML)) {
		return d, Invalid(o.name(f), "%s is %s mL, more than one refill can hold (at most %d mL); check the units and the figure.", o.name(f), d, MaxML)
	}
	if d.IsNegative() || (!zeroOK && d.IsZero()) {
		if zeroOK {
			return d, Invalid(o.name(f), "%s must be zero or more mL, not %s.", o.name(f), d)
		}
		return d, Invalid(o.name(f), "%s must be more than zero mL, not %s.", o.name(f), d)
	}
	return d, nil
}

func (o *object) dose(f string) (Dose, error) {
	d, err := o.object(f, true)
	if err != nil {
		return Dose{}, err
	}
	var out Dose
	if out.Drug, err = d.str("drug", true); err != nil {
		return Dose{}, err
	}
	if out.MCGPerDay, _, err = d.decimal("mcg_per_day", true); err != nil {
		return Dose{}, err
	}
	if out.MCGPerDay.IsNegative() {
		return Dose{}, Invalid(d.name("mcg_per_day"), "%s must be zero or more mcg/day, not %s.", d.name("mcg_per_day"), out.MCGPerDay)
	}
	if out.MCGPerDay.GreaterThan(decimal.NewFromInt(MaxMCGPerDay)) {
		return Dose{}, Invalid(d.name("mcg_per_day"), "%s is %s mcg/day, more than any intrathecal dose (at most %d); check the units (mcg, not ng) and the figure.", d.name("mcg_per_day"), out.MCGPerDay, MaxMCGPerDay)
	}
	return out, d.done()
}

func (o *object) solution(f string) ([]SolutionDrug, error) {
	items, err := o.array(f, true)
	if err != nil {
		return nil, err
	}
	out := make([]SolutionDrug, 0, len(items))
	seen := map[string]bool{}
	for i, raw := range items {
		s, err := decodeObject(fmt.Sprintf("%s[%d]", f, i), raw)
		if err != nil {
			return nil, err
		}
		var d SolutionDrug
		if d.Drug, err = s.str("drug", true); err != nil {
			return nil, err
		}
		if seen[d.Drug] {
			return nil, Invalid(s.name("drug"), "%s names %s twice; list each drug of the solution once.", s.name("drug"), d.Drug)
		}
		seen[d.Drug] = true
		if d.MCGPerML, _, err = s.decimal("mcg_per_ml", true); err != nil {
			return nil, err
		}
		if !d.MCGPerML.IsPositive() {
			return nil, Invalid(s.name("mcg_per_ml"), "%s must be more than zero, not %s.", s.name("mcg_per_ml"), d.MCGPerML)
		}
		if d.MCGPerML.GreaterThan(decimal.NewFromInt(MaxMCGPerML)) {
			return nil, Invalid(s.name("mcg_per_ml"), "%s is %s mcg/mL, stronger than any intrathecal solution (at most %d); check the units (mcg, not ng) and the figure.", s.name("mcg_per_ml"), d.MCGPerML, MaxMCGPerML)
		}
		if err := s.done(); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func (o *object) vials(f string) ([]VialUse, error) {
	items, err := o.array(f, true)
	if err != nil {
		return nil, err
	}
	if len(items) > MaxVialLines {
		return nil, Invalid(o.name(f), "%s has %d lines, more than the %d one refill can list; give one line per NDC and lot, with its count.", o.name(f), len(items), MaxVialLines)
	}
	out := make([]VialUse, 0, len(items))
	total := 0
	for i, raw := range items {
		s, err := decodeObject(fmt.Sprintf("%s[%d]", f, i), raw)
		if err != nil {
			return nil, err
		}
		var v VialUse
		if v.NDC, err = s.str("ndc", true); err != nil {
			return nil, err
		}
		if v.Count, err = s.integer("count", true, 1, MaxContainers, "containers"); err != nil {
			return nil, err
		}
		if total += v.Count; total > MaxContainers {
			return nil, Invalid(o.name(f), "%s counts more than the %d containers one refill can use (%d through %s); check each count.", o.name(f), MaxContainers, total, s.name("count"))
		}
		if v.Lot, err = s.str("lot", false); err != nil {
			return nil, err
		}
		if v.Expires, err = s.date("expires", false); err != nil {
			return nil, err
		}
		if err := s.done(); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
