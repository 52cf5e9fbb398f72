// Package fhir exports one patient's record as a FHIR R4 Bundle (type
// collection) that another clinical system can import: the patient, each
// pump, each refill and reprogramming with the drugs placed in the
// reservoir and the drug discarded, the products by NDC and lot, the
// diagnoses, the consents, the coverage, the prior therapies, the trials,
// the assessments, the discrepancy reviews and the prior authorizations.
// docs/fhir.md maps every entry field to its FHIR element.
//
// It reads what the clinic's read use cases return (the patient's history,
// corrections applied, and the catalogs the ledger pins) and writes nothing.
// Every resource's id is derived from the ledger entry it comes from (the
// first entry of a correction chain: a corrected entry keeps its resource's
// id, so an importer updates it rather than adding a second), and the
// Bundle of the same ledger is the same bytes every time.
package fhir

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/google/uuid"
	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/pumpledger/pumpledger/vial"
	"github.com/shopspring/decimal"
)

// Input is what an export reads.
type Input struct {
	MRN string
	// History is the patient's history (clinic.Ledger.History): every entry
	// as recorded, voided ones marked, live refills with their record.
	History []clinic.Item
	// Catalogs are the catalogs the ledger pins, in order of From: a
	// visit's products and devices are named by the one in force on its
	// date, the payer by today's.
	Catalogs []*clinic.Pinned
	// From and To bound the visits exported (dates of service, inclusive);
	// "" leaves that end open. The rest of the record is exported whole.
	From, To string
	// Document returns a stored document's bytes by its hex SHA-256: FHIR
	// R4's Attachment.hash is a SHA-1, computed from them.
	Document func(sha256 string) ([]byte, error)
}

// Export reads a patient's record from db and builds its Bundle.
func Export(ctx context.Context, db clinic.Ledger, mrn, from, to string) (*Bundle, error) {
	if err := checkPeriod(from, to); err != nil {
		return nil, err
	}
	hist, err := db.History(ctx, mrn)
	if err != nil {
		return nil, err
	}
	cats, err := db.Catalogs(ctx)
	if err != nil {
		return nil, err
	}
	return Build(Input{MRN: mrn, History: hist, Catalogs: cats, From: from, To: to,
		Document: func(sha string) ([]byte, error) { return db.Attachment(ctx, sha) }})
}

// checkPeriod refuses a period whose ends are not dates, or reversed; an
// end left out is open.
func checkPeriod(from, to string) error {
	switch {
	case from != "" && to != "":
		return billing.CheckPeriod(from, to)
	case from != "":
		if _, err := pumpledger.ParseDate(from); err != nil {
			return pumpledger.Invalid("from", "from must be a date like 2026-03-01, not %q.", from)
		}
	case to != "":
		if _, err := pumpledger.ParseDate(to); err != nil {
			return pumpledger.Invalid("to", "to must be a date like 2026-03-31, not %q.", to)
		}
	}
	return nil
}

// namespace makes the ids of resources that are not one entry (a drug given
// at a visit, a product's lot) from what they are, as name-based UUIDs.
var namespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/pumpledger/pumpledger/fhir"))

// idOf is a ledger entry id as a FHIR id: entry ids are UUIDs; one that is
// not (none is written so) still gets a stable UUID.
func idOf(entryID string) string {
	if u, err := uuid.Parse(entryID); err == nil {
		return u.String()
	}
	return uuid.NewSHA1(namespace, []byte("entry:"+entryID)).String()
}

func derived(parts ...string) string {
	return uuid.NewSHA1(namespace, []byte(strings.Join(parts, "\x00"))).String()
}

func ref(id string) Reference { return Reference{Reference: "urn:uuid:" + id} }

// entryIdentifier names the ledger entry a resource comes from (the first
// of its correction chain), so that it is matched across exports and
// systems even where an importer assigns its own ids.
func entryIdentifier(id string) []Identifier {
	return []Identifier{{System: SystemEntry, Value: "urn:uuid:" + id}}
}

func number(d decimal.Decimal) json.Number { return json.Number(d.String()) }

func mcg(d decimal.Decimal) *Quantity {
	return &Quantity{Value: number(d), Unit: "mcg", System: SystemUCUM, Code: "ug"}
}

// builder collects the resources of one Bundle, each once, in order.
type builder struct {
	in      Input
	entries []Entry
	seen    map[string]bool
	// root is the first entry of each live entry's correction chain.
	root map[string]string
	// devices are the Device ids by pump serial.
	devices map[string]string
	patient string
	// erred are the entries voided without a replacement, with the
	// correction's reason: each is exported with its resource's
	// entered-in-error status, so that an importer that holds it from an
	// earlier export retracts it.
	erred map[string]string
}

// voided says whether an entry was voided without a replacement, and the
// note its resource carries then.
func (b *builder) voided(e ledger.Entry) ([]Annotation, bool) {
	why, ok := b.erred[e.ID]
	if !ok {
		return nil, false
	}
	if why == "" {
		return []Annotation{{Text: "entered in error"}}, true
	}
	return []Annotation{{Text: "entered in error: " + why}}, true
}

func (b *builder) add(id string, r any) {
	if b.seen[id] {
		return
	}
	b.seen[id] = true
	b.entries = append(b.entries, Entry{FullURL: "urn:uuid:" + id, Resource: r})
}

// rootOf is the resource id of a live entry: its chain's first entry's.
func (b *builder) rootOf(entryID string) string {
	for i := 0; i < len(b.root)+1; i++ { // a chain is never longer than the corrections
		r, ok := b.root[entryID]
		if !ok {
			break
		}
		entryID = r
	}
	return idOf(entryID)
}

// catalogAt is the catalog in force on a date.
func (b *builder) catalogAt(date string) *catalog.Catalog {
	cs := b.in.Catalogs
	i := sort.Search(len(cs), func(i int) bool { return cs[i].From > date })
	if i == 0 {
		return cs[0].Catalog
	}
	return cs[i-1].Catalog
}

func (b *builder) inPeriod(date string) bool {
	return (b.in.From == "" || date >= b.in.From) && (b.in.To == "" || date <= b.in.To)
}

// Build makes the Bundle of a patient's record: the patient first, then
// the pumps, then each entry as recorded (a visit followed by its drugs and
// products), corrections applied.
func Build(in Input) (*Bundle, error) {
	if len(in.Catalogs) == 0 {
		return nil, pumpledger.Errorf(pumpledger.EINTERNAL, "no catalog is pinned in the ledger")
	}
	b := &builder{in: in, seen: map[string]bool{}, root: map[string]string{}, devices: map[string]string{}, erred: map[string]string{}}
	corrections := map[string]*ledger.Correction{}
	for _, it := range in.History {
		if c := it.Correction; c != nil {
			corrections[it.Entry.ID] = c
			if c.Replacement != "" {
				b.root[c.Replacement] = c.Voids
			}
		}
	}
	// live are the entries that stand; out those and the ones voided
	// without a replacement (but a registration: a patient without one is
	// not exported).
	var live, out []clinic.Item
	for _, it := range in.History {
		switch c := corrections[it.VoidedBy]; {
		case it.Entry.Kind == pumpledger.KindCorrection:
		case it.VoidedBy == "":
			live, out = append(live, it), append(out, it)
		case c != nil && c.Replacement == "" && it.Entry.Kind != pumpledger.KindPatient:
			b.erred[it.Entry.ID] = it.VoidReason
			out = append(out, it)
		}
	}
	// The patient and the pumps first: every other resource refers to them.
	for _, k := range []pumpledger.Kind{pumpledger.KindPatient, pumpledger.KindImplant} {
		for _, it := range out {
			if it.Entry.Kind != k {
				continue
			}
			var err error
			if k == pumpledger.KindPatient {
				err = b.patientOf(it.Entry)
			} else {
				err = b.device(it.Entry, live)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	if b.patient == "" {
		return nil, pumpledger.Errorf(pumpledger.ENOTFOUND, "Patient %s has no registration on file; record it with `pumpledger patient add`.", in.MRN)
	}
	for _, it := range out {
		e := it.Entry
		_, erred := b.erred[e.ID]
		var err error
		switch e.Kind {
		case pumpledger.KindRefill:
			if (it.Record != nil || erred) && b.inPeriod(e.Performed().Date()) {
				err = b.refill(it)
			}
		case pumpledger.KindReprogram:
			if b.inPeriod(e.Performed().Date()) {
				err = b.reprogram(e)
			}
		case pumpledger.KindDiagnosis:
			err = b.condition(e)
		case pumpledger.KindConsent:
			err = b.consent(e)
		case pumpledger.KindCoverage:
			err = b.coverage(e)
		case pumpledger.KindAuthorization:
			err = b.authorization(e)
		case pumpledger.KindTherapy:
			err = b.therapy(e)
		case pumpledger.KindTrial:
			err = b.trial(e)
		case pumpledger.KindAssessment:
			err = b.assessment(e)
		case pumpledger.KindReview:
			err = b.review(e)
		}
		if err != nil {
			return nil, err
		}
	}
	return &Bundle{ResourceType: "Bundle", Type: "collection", Entry: b.entries}, nil
}

func (b *builder) patientOf(e ledger.Entry) error {
	p, err := e.Patient()
	if err != nil {
		return err
	}
	id := b.rootOf(e.ID)
	b.patient = id
	r := Patient{ResourceType: "Patient", ID: id,
		Identifier: append([]Identifier{{Type: &CodeableConcept{Coding: []Coding{{System: SystemV2_0203, Code: "MR", Display: "Medical record number"}}}, Value: p.MRN}}, entryIdentifier(id)...),
		Gender:     genders[p.Sex], BirthDate: p.BirthDate}
	if p.Name != "" {
		r.Name = []HumanName{{Text: p.Name}}
	}
	r.Address = address(p.Address)
	b.add(id, r)
	return nil
}

// genders are FHIR's administrative genders of pumpledger.Sexes.
var genders = map[string]string{"F": "female", "M": "male", "U": "unknown"}

func address(a *pumpledger.Address) []Address {
	if a == nil {
		return nil
	}
	return []Address{{Line: nonEmpty(a.Line1, a.Line2), City: a.City, State: a.State, PostalCode: a.PostalCode, Country: "US"}}
}

// subscriberRoles are the subscriber's relationship to the patient (v3
// RoleCode) for the patient's to the subscriber: a spouse's spouse, a
// child's parent; "other" says nothing more.
var subscriberRoles = map[string]Coding{
	"spouse": {System: SystemRoleCode, Code: "SPS", Display: "spouse"},
	"child":  {System: SystemRoleCode, Code: "PRN", Display: "parent"},
}

// subscriber is the RelatedPerson who holds a coverage the patient is a
// dependent on: one per coverage (its id derived from the coverage's, so
// stable across exports), since the ledger names the person only there.
func (b *builder) subscriber(coverageID string, c pumpledger.Coverage) Reference {
	s := c.Subscriber
	id := derived("subscriber", coverageID)
	r := RelatedPerson{ResourceType: "RelatedPerson", ID: id, Patient: ref(b.patient), Name: []HumanName{{Text: s.Name}},
		Gender: genders[s.Sex], BirthDate: s.BirthDate, Address: address(s.Address)}
	if role, ok := subscriberRoles[c.Relationship]; ok {
		r.Relationship = []CodeableConcept{{Coding: []Coding{role}}}
	}
	b.add(id, r)
	return Reference{Reference: "urn:uuid:" + id, Display: s.Name}
}

// device is a pump: explanted (a live explant of its serial) it is inactive.
func (b *builder) device(e ledger.Entry, live []clinic.Item) error {
	im, err := e.Implant()
	if err != nil {
		return err
	}
	id := b.rootOf(e.ID)
	note, erred := b.voided(e)
	if !erred || b.devices[im.Serial] == "" { // a pump recorded again stands for its serial
		b.devices[im.Serial] = id
	}
	d := Device{ResourceType: "Device", ID: id, Identifier: entryIdentifier(id), Status: "active", SerialNumber: im.Serial,
		ModelNumber: im.Model, Type: &CodeableConcept{Coding: []Coding{{System: SystemSNOMED, Code: "430033006", Display: "Infusion pump"}}, Text: "implanted intrathecal drug infusion pump"},
		Patient: &Reference{Reference: "urn:uuid:" + b.patient}, Note: []Annotation{{Text: "implanted " + im.Date}}}
	if m, ok := b.catalogAt(im.Date).Pump(im.Model); ok {
		d.DeviceName = []DeviceName{{Name: m.Device, Type: "user-friendly-name"}}
	}
	for _, it := range live {
		if it.Entry.Kind != pumpledger.KindExplant {
			continue
		}
		if ex, err := it.Entry.Explant(); err == nil && ex.Serial == im.Serial {
			d.Status = "inactive"
			d.Note = append(d.Note, Annotation{Text: fmt.Sprintf("explanted %s: %s", ex.Date, ex.Reason)})
		}
	}
	if erred {
		d.Status, d.Note = "entered-in-error", append(note, d.Note...)
	}
	b.add(id, d)
	return nil
}

// procedure is the visit's Procedure: its CPT code on the focal device.
func (b *builder) procedure(e ledger.Entry, code, serial, note string, who []Performer) Procedure {
	id := b.rootOf(e.ID)
	cat := b.catalogAt(e.Performed().Date())
	c := Coding{System: SystemCPT, Code: code}
	if s, ok := cat.Service(code); ok {
		c.Display = s.Description
	}
	p := Procedure{ResourceType: "Procedure", ID: id, Identifier: entryIdentifier(id), Status: "completed",
		Code: CodeableConcept{Coding: []Coding{c}}, Subject: ref(b.patient), PerformedDateTime: e.Performed().String(), Performer: who}
	if note != "" {
		p.Note = []Annotation{{Text: note}}
	}
	if why, erred := b.voided(e); erred {
		p.Status, p.Note = "entered-in-error", append(why, p.Note...)
	}
	if dev, ok := b.devices[serial]; ok {
		p.FocalDevice = []FocalDevice{{Manipulated: ref(dev)}}
	}
	return p
}

func (b *builder) performers(roles ...string) []Performer {
	var out []Performer
	for i := 0; i+1 < len(roles); i += 2 {
		if roles[i+1] != "" {
			out = append(out, Performer{Function: &CodeableConcept{Text: roles[i]}, Actor: b.practitioner(roles[i+1])})
		}
	}
	return out
}

func (b *builder) reprogram(e ledger.Entry) error {
	r, err := e.Reprogram()
	if err != nil {
		return err
	}
	cat := b.catalogAt(e.Performed().Date())
	note := fmt.Sprintf("dose reprogrammed to %s mcg/day of %s", r.Dose.MCGPerDay, drugName(cat, r.Dose.Drug))
	if r.Note != "" {
		note += "; " + r.Note
	}
	p := b.procedure(e, r.Procedure, r.PumpSerial, note, b.performers("clinician", r.Clinician))
	b.add(p.ID, p)
	return nil
}

func drugName(cat *catalog.Catalog, key string) string {
	if d, ok := cat.Drug(key); ok {
		return d.Name
	}
	return key
}

// refill is a refill visit: its Procedure, then per drug of the solution
// what was placed in the reservoir and what was discarded, each with the
// products it was drawn from.
func (b *builder) refill(it clinic.Item) error {
	e, rec := it.Entry, it.Record
	r, err := e.Refill()
	if err != nil {
		return err
	}
	date := e.Performed().Date()
	cat := b.catalogAt(date)
	p := b.procedure(e, r.Procedure, r.PumpSerial, r.Note, b.performers("nurse", r.Nurse, "witness", r.Witness))
	b.add(p.ID, p)

	// The products by drug, in the order drawn.
	meds := map[string][]string{}
	for _, v := range r.Vials {
		id, drug, err := b.medication(cat, v)
		if err != nil {
			return err
		}
		meds[drug] = append(meds[drug], id)
	}
	dose := r.Dose
	dose.Drug = drugName(cat, dose.Drug)
	var doseConc decimal.Decimal
	for _, s := range r.Solution {
		if drugName(cat, s.Drug) == dose.Drug {
			doseConc = s.MCGPerML
		}
	}
	var device []Reference
	if dev, ok := b.devices[r.PumpSerial]; ok {
		device = []Reference{ref(dev)}
	}
	if why, erred := b.voided(e); erred {
		return b.erredDrugs(p, r, cat, meds, why)
	}
	for _, d := range rec.Drugs {
		med := b.drugMedication(p.ID, d.Drug, d.MCGPerML, meds[d.Drug])
		dosage := Dosage{
			Text:  fmt.Sprintf("%s %s mcg placed in the reservoir: %s mcg/mL × %s mL fill", d.Drug, d.DispensedMCG, d.MCGPerML, r.FillML),
			Route: &CodeableConcept{Coding: []Coding{{System: SystemSNOMED, Code: "72607000", Display: "Intrathecal route"}}},
			Dose:  mcg(d.DispensedMCG),
		}
		dosage.RateQuantity, dosage.RateRatio = rate(dose, doseConc, d.Drug, d.MCGPerML)
		if dosage.RateQuantity != nil || dosage.RateRatio != nil {
			dosage.Text += fmt.Sprintf(", programmed %s mcg/day of %s", dose.MCGPerDay, dose.Drug)
		}
		ma := MedicationAdministration{ResourceType: "MedicationAdministration", ID: derived(p.ID, "placed", d.Drug),
			PartOf: []Reference{ref(p.ID)}, Status: "completed", MedicationReference: ref(med), Subject: ref(b.patient),
			EffectiveDateTime: p.PerformedDateTime, Performer: b.performers("nurse", r.Nurse), Device: device, Dosage: &dosage}
		ma.Identifier = []Identifier{{System: SystemEntry, Value: "urn:uuid:" + ma.ID}}
		b.add(ma.ID, ma)
		discarded := d.WasteMCG.Add(d.RinseMCG)
		if !discarded.IsPositive() {
			continue
		}
		why := fmt.Sprintf("discarded, not given: %s mcg left in single-dose containers", d.WasteMCG)
		if d.RinseMCG.IsPositive() {
			why += fmt.Sprintf(" and %s mcg rinsed through a naive pump", d.RinseMCG)
		}
		if d.WasteUnits > 0 {
			why += fmt.Sprintf(", billed as %d %s-JW units", d.WasteUnits, d.Code)
		} else {
			why += ", less than one billing unit: no JW line"
		}
		w := MedicationAdministration{ResourceType: "MedicationAdministration", ID: derived(p.ID, "discarded", d.Drug),
			PartOf: []Reference{ref(p.ID)}, Status: "not-done", StatusReason: []CodeableConcept{{Text: why}},
			MedicationReference: ref(med), Subject: ref(b.patient), EffectiveDateTime: p.PerformedDateTime,
			Performer: b.performers("nurse", r.Nurse, "witness", r.Witness),
			Dosage:    &Dosage{Text: fmt.Sprintf("%s %s mcg discarded", d.Drug, discarded), Dose: mcg(discarded)}}
		w.Identifier = []Identifier{{System: SystemEntry, Value: "urn:uuid:" + w.ID}}
		b.add(w.ID, w)
	}
	return nil
}

// erredDrugs are the MedicationAdministrations of a refill voided without a
// replacement, entered-in-error: what was placed and what was discarded of
// each drug of its solution, by the ids a live refill gives them. Its
// record is not derived once voided, so whether drug was discarded is not
// known: both are retracted (an importer that never held one holds it
// entered-in-error).
func (b *builder) erredDrugs(p Procedure, r pumpledger.Refill, cat *catalog.Catalog, meds map[string][]string, why []Annotation) error {
	for _, s := range r.Solution {
		drug := drugName(cat, s.Drug)
		med := b.drugMedication(p.ID, drug, s.MCGPerML, meds[drug])
		for _, what := range []string{"placed", "discarded"} {
			ma := MedicationAdministration{ResourceType: "MedicationAdministration", ID: derived(p.ID, what, drug),
				PartOf: []Reference{ref(p.ID)}, Status: "entered-in-error", MedicationReference: ref(med), Subject: ref(b.patient),
				EffectiveDateTime: p.PerformedDateTime, Performer: b.performers("nurse", r.Nurse), Note: why}
			ma.Identifier = []Identifier{{System: SystemEntry, Value: "urn:uuid:" + ma.ID}}
			b.add(ma.ID, ma)
		}
	}
	return nil
}

// rate is the programmed rate of one drug of the solution: the dose's own,
// or for another drug of an admixture the same mL/day at its concentration
// (dose × its concentration ÷ the dose drug's), as a Ratio when that
// quotient has no exact decimal.
func rate(dose pumpledger.Dose, doseConc decimal.Decimal, drug string, conc decimal.Decimal) (*Quantity, *Ratio) {
	perDay := func(v decimal.Decimal) *Quantity {
		return &Quantity{Value: number(v), Unit: "mcg/day", System: SystemUCUM, Code: "ug/d"}
	}
	if drug == dose.Drug {
		return perDay(dose.MCGPerDay), nil
	}
	if !doseConc.IsPositive() {
		return nil, nil
	}
	num := dose.MCGPerDay.Mul(conc)
	if q := num.DivRound(doseConc, 16); q.Mul(doseConc).Equal(num) {
		return perDay(q), nil
	}
	return nil, &Ratio{Numerator: &Quantity{Value: number(num), Unit: "mcg", System: SystemUCUM, Code: "ug"},
		Denominator: &Quantity{Value: number(doseConc), Unit: "day", System: SystemUCUM, Code: "d"}}
}

// medication is the Medication of one vials line: its product by NDC, lot
// and expiry, the same resource wherever that lot is used.
func (b *builder) medication(cat *catalog.Catalog, v pumpledger.VialUse) (id, drug string, err error) {
	n, err := vial.ParseNDC(v.NDC)
	if err != nil {
		return "", "", pumpledger.Errorf(pumpledger.EINTERNAL, "stored NDC %q: %s", v.NDC, pumpledger.ErrorMessage(err))
	}
	id = derived("medication", n.Digits(), v.Lot, v.Expires)
	m := Medication{ResourceType: "Medication", ID: id,
		Code: CodeableConcept{Coding: []Coding{{System: SystemNDC, Code: n.Digits()}}}}
	if v.Lot != "" || v.Expires != "" {
		m.Batch = &Batch{LotNumber: v.Lot, ExpirationDate: v.Expires}
	}
	if pr, ok := cat.Product(n); ok {
		drug = pr.Drug
		kind := "multi-dose"
		if pr.SingleDose {
			kind = "single-dose"
		}
		m.Code.Text = fmt.Sprintf("%s %s mcg/mL, %s mL %s container (NDC %s)", pr.Drug, pr.MCGPerML, pr.ML, kind, pr.Printed)
		m.Code.Coding[0].Display = m.Code.Text
		m.Amount = &Ratio{Numerator: &Quantity{Value: number(pr.ML), Unit: "mL", System: SystemUCUM, Code: "mL"},
			Denominator: &Quantity{Value: "1", Unit: "container"}}
		m.Ingredient = []Ingredient{{ItemCodeableConcept: &CodeableConcept{Text: pr.Drug}, IsActive: ptr(true),
			Strength: &Ratio{Numerator: mcg(pr.MCGPerML), Denominator: &Quantity{Value: "1", Unit: "mL", System: SystemUCUM, Code: "mL"}}}}
	}
	b.add(id, m)
	return id, drug, nil
}

// drugMedication is what a MedicationAdministration gives: the product it
// was drawn from when one, else the drug as placed in the reservoir with
// each product it was drawn from as an ingredient.
func (b *builder) drugMedication(proc, drug string, conc decimal.Decimal, products []string) string {
	products = slices.Compact(slices.Clone(products))
	if len(products) == 1 {
		return products[0]
	}
	id := derived(proc, "solution", drug)
	m := Medication{ResourceType: "Medication", ID: id, Code: CodeableConcept{Text: fmt.Sprintf("%s %s mcg/mL as placed in the reservoir", drug, conc)}}
	for _, p := range products {
		m.Ingredient = append(m.Ingredient, Ingredient{ItemReference: &Reference{Reference: "urn:uuid:" + p}, IsActive: ptr(true)})
	}
	b.add(id, m)
	return id
}

func ptr[T any](v T) *T { return &v }

func (b *builder) condition(e ledger.Entry) error {
	var d pumpledger.Diagnosis
	if err := e.DecodePayload(&d); err != nil {
		return err
	}
	id := b.rootOf(e.ID)
	c := Condition{ResourceType: "Condition", ID: id, Identifier: entryIdentifier(id),
		ClinicalStatus:     &CodeableConcept{Coding: []Coding{{System: SystemCondClin, Code: "active"}}},
		VerificationStatus: CodeableConcept{Coding: []Coding{{System: SystemCondVer, Code: "confirmed"}}},
		Category:           []CodeableConcept{{Coding: []Coding{{System: SystemCondCat, Code: "problem-list-item", Display: "Problem List Item"}}}},
		Code:               CodeableConcept{Coding: []Coding{{System: SystemICD10CM, Code: d.Code, Display: d.Description}}, Text: d.Description},
		Subject:            ref(b.patient), OnsetDateTime: d.Onset, RecordedDate: e.RecordedAt.UTC().Format("2006-01-02T15:04:05Z07:00")}
	if d.Clinician != "" {
		c.Asserter = ptr(b.practitioner(d.Clinician))
	}
	if d.Note != "" {
		c.Note = []Annotation{{Text: d.Note}}
	}
	if why, erred := b.voided(e); erred { // con-5: no clinical status then
		c.ClinicalStatus, c.Note = nil, append(why, c.Note...)
		c.VerificationStatus.Coding[0].Code = "entered-in-error"
	}
	b.add(id, c)
	return nil
}

// consent is a Consent to treatment; its signed form is named by its
// SHA-256 (an RFC 6920 ni URI, the hash the ledger's tree covers) and
// carries the SHA-1 R4 defines Attachment.hash as, both of the same bytes.
func (b *builder) consent(e ledger.Entry) error {
	var c pumpledger.Consent
	if err := e.DecodePayload(&c); err != nil {
		return err
	}
	id := b.rootOf(e.ID)
	therapy := c.Therapy
	if therapy == "" {
		therapy = "intrathecal drug therapy by implanted pump"
	}
	r := Consent{ResourceType: "Consent", ID: id, Identifier: entryIdentifier(id), Status: "active",
		Scope:    CodeableConcept{Coding: []Coding{{System: SystemConsScope, Code: "treatment", Display: "Treatment"}}},
		Category: []CodeableConcept{{Coding: []Coding{{System: SystemLOINC, Code: "59284-0", Display: "Patient Consent"}}}},
		Patient:  ref(b.patient), DateTime: c.Date,
		PolicyRule: CodeableConcept{Coding: []Coding{{System: SystemActCode, Code: "OPTIN", Display: "opt-in"}}, Text: "informed consent to " + therapy},
		Provision:  &ConsentProvision{Type: "permit", Code: []CodeableConcept{{Text: therapy}}}}
	if c.SignedBy != "" {
		r.Performer = []Reference{{Display: c.SignedBy}}
	}
	if doc := c.Document; doc != nil {
		a, err := b.attachment(doc)
		if err != nil {
			return err
		}
		r.SourceAttachment = a
	}
	if _, erred := b.voided(e); erred {
		r.Status = "entered-in-error" // R4's Consent has no note
	}
	b.add(id, r)
	return nil
}

func (b *builder) attachment(doc *pumpledger.Attachment) (*Attachment, error) {
	raw, err := hex.DecodeString(doc.SHA256)
	if err != nil {
		return nil, pumpledger.Errorf(pumpledger.EINTERNAL, "stored document hash %q: %v", doc.SHA256, err)
	}
	a := &Attachment{ContentType: doc.MediaType, URL: "ni:///sha-256;" + base64.RawURLEncoding.EncodeToString(raw), Size: doc.Size, Title: doc.Name}
	if b.in.Document != nil {
		data, err := b.in.Document(doc.SHA256)
		if err != nil {
			return nil, err
		}
		sum := sha1.Sum(data)
		a.Hash, a.Size = base64.StdEncoding.EncodeToString(sum[:]), int64(len(data))
	}
	return a, nil
}

func (b *builder) coverage(e ledger.Entry) error {
	var c pumpledger.Coverage
	if err := e.DecodePayload(&c); err != nil {
		return err
	}
	id := b.rootOf(e.ID)
	payer := b.payer(c.Payer)
	r := Coverage{ResourceType: "Coverage", ID: id, Identifier: append([]Identifier{{
		Type: &CodeableConcept{Coding: []Coding{{System: SystemV2_0203, Code: "MB", Display: "Member Number"}}}, Value: c.MemberID}}, entryIdentifier(id)...),
		Status: "active", SubscriberID: c.MemberID, Beneficiary: ref(b.patient),
		Relationship: CodeableConcept{Coding: []Coding{{System: SystemSubRel, Code: "self"}}},
		Period:       &Period{Start: c.From, End: c.To}, Payor: []Reference{payer},
		Order: slices.Index(pumpledger.Priorities, c.Priority) + 1}
	if !c.Self() {
		r.Relationship.Coding[0].Code = c.Relationship
		if c.Subscriber != nil {
			r.Subscriber = ptr(b.subscriber(id, c))
		}
	}
	if c.Plan != "" {
		r.Class = append(r.Class, CoverageClass{Type: CodeableConcept{Coding: []Coding{{System: SystemCovClass, Code: "plan"}}}, Value: c.Plan})
	}
	if c.Group != "" {
		r.Class = append(r.Class, CoverageClass{Type: CodeableConcept{Coding: []Coding{{System: SystemCovClass, Code: "group"}}}, Value: c.Group})
	}
	if _, erred := b.voided(e); erred {
		r.Status = "entered-in-error" // R4's Coverage has no note
	}
	b.add(id, r)
	return nil
}

// notes are the notes of a resource: why it was entered in error first,
// then each text given.
func notes(why []Annotation, texts ...string) []Annotation {
	for _, t := range texts {
		if t != "" {
			why = append(why, Annotation{Text: t})
		}
	}
	return why
}

// drugWords are drugs and drug classes a prior therapy is written with. The
// therapy is free text ("oral opioids", "gabapentin", "spinal cord
// stimulator"): one that names one of these, or a drug of the catalog, is
// a drug therapy (a MedicationStatement); any other is a Procedure.
var drugWords = []string{"opioid", "opiate", "nsaid", "gabapentin", "pregabalin", "duloxetine", "amitriptyline",
	"nortriptyline", "antidepressant", "anticonvulsant", "baclofen", "clonidine", "bupivacaine", "ketamine",
	"morphine", "hydromorphone", "oxycodone", "fentanyl", "methadone", "buprenorphine", "tramadol", "tapentadol",
	"ziconotide", "medication"}

// isDrug says whether a prior therapy, as written, names a drug.
func isDrug(cat *catalog.Catalog, therapy string) bool {
	words := strings.FieldsFunc(strings.ToLower(therapy), func(r rune) bool { return (r < 'a' || r > 'z') && r != '-' })
	for _, w := range words {
		if _, ok := cat.Drug(w); ok {
			return true
		}
		for _, d := range drugWords {
			if strings.HasPrefix(w, d) {
				return true
			}
		}
	}
	return false
}

// therapy is a therapy tried before the pump: a MedicationStatement when it
// names a drug, else a Procedure; contraindicated, it was never given.
func (b *builder) therapy(e ledger.Entry) error {
	var t pumpledger.Therapy
	if err := e.DecodePayload(&t); err != nil {
		return err
	}
	id := b.rootOf(e.ID)
	why, erred := b.voided(e)
	outcome := CodeableConcept{Text: t.Outcome}
	period := &Period{Start: t.From, End: t.To}
	if isDrug(b.catalogAt(t.From), t.Therapy) {
		m := MedicationStatement{ResourceType: "MedicationStatement", ID: id, Identifier: entryIdentifier(id), Status: "stopped",
			StatusReason: []CodeableConcept{outcome}, MedicationCodeableConcept: CodeableConcept{Text: t.Therapy},
			Subject: ref(b.patient), EffectivePeriod: period, Note: notes(why, t.Details, t.Note)}
		switch {
		case erred:
			m.Status = "entered-in-error"
		case t.Outcome == "contraindicated":
			m.Status = "not-taken"
		}
		b.add(id, m)
		return nil
	}
	p := Procedure{ResourceType: "Procedure", ID: id, Identifier: entryIdentifier(id), Status: "completed",
		Code: CodeableConcept{Text: t.Therapy}, Subject: ref(b.patient), PerformedPeriod: period, Outcome: &outcome,
		Note: notes(why, t.Details, t.Note)}
	switch {
	case erred:
		p.Status = "entered-in-error"
	case t.Outcome == "contraindicated":
		p.Status, p.StatusReason, p.Outcome, p.PerformedPeriod = "not-done", &outcome, nil, nil
	}
	b.add(id, p)
	return nil
}

// trial is the preliminary trial: a Procedure whose outcome is its result
// (successful or not, and the relief), none while the result is not known.
func (b *builder) trial(e ledger.Entry) error {
	var t pumpledger.Trial
	if err := e.DecodePayload(&t); err != nil {
		return err
	}
	id := b.rootOf(e.ID)
	why, erred := b.voided(e)
	drug := drugName(b.catalogAt(t.Date), t.Drug)
	p := Procedure{ResourceType: "Procedure", ID: id, Identifier: entryIdentifier(id), Status: "completed",
		Code: CodeableConcept{Text: fmt.Sprintf("trial of %s, %s", drug, t.Route)}, Subject: ref(b.patient),
		PerformedDateTime: t.Date, Performer: b.performers("clinician", t.Clinician), UsedCode: []CodeableConcept{{Text: drug}}}
	if erred {
		p.Status = "entered-in-error"
	}
	var result []string
	o := &CodeableConcept{}
	if t.Successful != nil {
		c := Coding{System: SystemSNOMED, Code: "385669000", Display: "Successful"}
		if !*t.Successful {
			c = Coding{System: SystemSNOMED, Code: "385671000", Display: "Unsuccessful"}
		}
		o.Coding = []Coding{c}
		result = append(result, strings.ToLower(c.Display))
	}
	if t.ReliefPercent != nil {
		result = append(result, fmt.Sprintf("%d %% pain relief", *t.ReliefPercent))
	}
	if len(result) > 0 {
		o.Text, p.Outcome = strings.Join(result, ", "), o
	}
	function := ""
	if t.Function != "" {
		function = "function: " + t.Function
	}
	if len(result) == 0 && t.Function == "" {
		function = "result not yet recorded"
	}
	p.Note = notes(why, "dose as given: "+t.Dose, function, t.Note)
	b.add(id, p)
	return nil
}

// assessment is a monitoring visit: the pain score, the findings the
// boxed warning asks to watch and, when drawn, the CK, each an Observation.
func (b *builder) assessment(e ledger.Entry) error {
	var a pumpledger.Assessment
	if err := e.DecodePayload(&a); err != nil {
		return err
	}
	id := b.rootOf(e.ID)
	why, erred := b.voided(e)
	status := "final"
	if erred {
		status = "entered-in-error"
	}
	obs := func(id, category string, code CodeableConcept) Observation {
		return Observation{ResourceType: "Observation", ID: id, Identifier: entryIdentifier(id), Status: status,
			Category: []CodeableConcept{{Coding: []Coding{{System: SystemObsCat, Code: category}}}}, Code: code,
			Subject: ref(b.patient), EffectiveDateTime: a.At.String(), Performer: b.practitioners(a.Clinician), Note: why}
	}
	pain := obs(id, "survey", CodeableConcept{Coding: []Coding{{System: SystemLOINC, Code: "72514-3", Display: "Pain severity - 0-10 verbal numeric rating [Score] - Reported"}}})
	pain.ValueInteger, pain.Note = ptr(a.PainScore), notes(why, a.Note)
	b.add(id, pain)
	f := obs(derived(id, "findings"), "exam", CodeableConcept{Text: "monitoring for cognitive impairment, psychiatric symptoms and adverse events"})
	f.Component = []ObservationComponent{
		{Code: CodeableConcept{Text: "cognition"}, ValueString: a.Cognition},
		{Code: CodeableConcept{Text: "psychiatric symptoms"}, ValueString: a.Psychiatric}}
	if a.AdverseEvents != "" {
		f.Component = append(f.Component, ObservationComponent{Code: CodeableConcept{Text: "adverse events"}, ValueString: a.AdverseEvents})
	}
	b.add(f.ID, f)
	if a.CKUL.Valid {
		ck := obs(derived(id, "ck"), "laboratory", CodeableConcept{Coding: []Coding{{System: SystemLOINC, Code: "2157-6", Display: "Creatine kinase [Enzymatic activity/volume] in Serum or Plasma"}}})
		ck.ValueQuantity = &Quantity{Value: number(a.CKUL.Decimal), Unit: "U/L", System: SystemUCUM, Code: "U/L"}
		b.add(ck.ID, ck)
	}
	return nil
}

// review is a clinician's review of a refill's residual discrepancy: an
// Observation whose focus is the refill's Procedure when the bundle has it.
func (b *builder) review(e ledger.Entry) error {
	var r pumpledger.Review
	if err := e.DecodePayload(&r); err != nil {
		return err
	}
	id := b.rootOf(e.ID)
	why, erred := b.voided(e)
	o := Observation{ResourceType: "Observation", ID: id, Identifier: entryIdentifier(id), Status: "final",
		Code: CodeableConcept{Text: "review of a refill's residual discrepancy"}, Subject: ref(b.patient),
		EffectiveDateTime: r.At.String(), Performer: b.practitioners(r.Clinician), ValueString: r.Finding, Note: notes(why, r.Note)}
	if erred {
		o.Status = "entered-in-error"
	}
	if proc := b.rootOf(r.Refill); b.seen[proc] {
		o.Focus = []Reference{ref(proc)}
	}
	b.add(id, o)
	return nil
}

// payer is a reference to the Organization of a payer profile, named by
// its name in today's catalog (by its id when the catalog has none); its id
// a name-based UUID of the profile's id.
func (b *builder) payer(profile string) Reference {
	name := profile
	if p, ok := b.in.Catalogs[len(b.in.Catalogs)-1].Catalog.Payer(profile); ok && p.Name != "" {
		name = p.Name
	}
	id := derived("payer", profile)
	b.add(id, Organization{ResourceType: "Organization", ID: id, Identifier: []Identifier{{System: SystemPayerProfile, Value: profile}},
		Type: []CodeableConcept{{Coding: []Coding{{System: SystemOrgType, Code: "pay", Display: "Payer"}}}}, Name: name})
	return Reference{Reference: "urn:uuid:" + id, Display: name}
}

// authorization is a payer's prior authorization: the answer to a
// preauthorization request, a ClaimResponse whose preAuthRef is its number.
// Approved, what it authorizes is its one added item: the drug by its
// HCPCS codes, the amount as the quantity (and as the adjudication's
// value, which R4 requires an item to have).
func (b *builder) authorization(e ledger.Entry) error {
	var a pumpledger.Authorization
	if err := e.DecodePayload(&a); err != nil {
		return err
	}
	id := b.rootOf(e.ID)
	why, erred := b.voided(e)
	unit := &Quantity{Value: number(a.Amount), Unit: "units"}
	if a.Unit == "mcg" {
		unit = mcg(a.Amount)
	}
	asked := fmt.Sprintf("%s %s of %s", a.Amount, a.Unit, a.Drug)
	if len(a.Codes) > 0 {
		asked += " (" + strings.Join(a.Codes, ", ") + ")"
	}
	r := ClaimResponse{ResourceType: "ClaimResponse", ID: id, Identifier: entryIdentifier(id), Status: "active",
		Type: CodeableConcept{Coding: []Coding{{System: SystemClaimType, Code: "professional", Display: "Professional"}}},
		Use:  "preauthorization", Patient: ref(b.patient), Created: e.RecordedAt.UTC().Format("2006-01-02T15:04:05Z07:00"),
		Insurer: b.payer(a.Payer), Outcome: "complete", Disposition: a.Status + ": " + asked,
		PreAuthRef: a.Number, PreAuthPeriod: &Period{Start: a.From, End: a.To}}
	switch a.Status {
	case "pending":
		r.Outcome = "queued"
	case "approved":
		item := ClaimResponseItem{ProductOrService: CodeableConcept{Text: a.Drug}, Quantity: unit,
			Adjudication: []Adjudication{{Category: CodeableConcept{Text: "authorized"}, Value: number(a.Amount)}}}
		for _, c := range a.Codes {
			item.ProductOrService.Coding = append(item.ProductOrService.Coding, Coding{System: SystemHCPCS, Code: c})
		}
		r.AddItem = []ClaimResponseItem{item}
	}
	if a.UsedBefore.IsPositive() {
		r.Disposition += fmt.Sprintf("; %s %s used before it was recorded here", a.UsedBefore, a.Unit)
	}
	if a.ReassessBy != "" {
		r.Disposition += "; reassess by " + a.ReassessBy
	}
	if erred {
		r.Status = "entered-in-error"
	}
	for _, n := range notes(why, a.Note) {
		r.ProcessNote = append(r.ProcessNote, ProcessNote(n))
	}
	b.add(id, r)
	return nil
}

func (b *builder) practitioners(names ...string) []Reference {
	var out []Reference
	for _, n := range nonEmpty(names...) {
		out = append(out, b.practitioner(n))
	}
	return out
}

// practitioner is a reference to the Practitioner of a name as the ledger
// writes it (a user name, "jdoe", or a name, "Dr. A. Ruiz"): one resource
// per name, its id a name-based UUID of it, so the same name is the same
// resource in every export.
func (b *builder) practitioner(name string) Reference {
	id := derived("practitioner", name)
	b.add(id, Practitioner{ResourceType: "Practitioner", ID: id, Name: []HumanName{{Text: name}}})
	return Reference{Reference: "urn:uuid:" + id, Display: name}
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Write writes a Bundle as indented JSON (application/fhir+json).
func Write(w io.Writer, b *Bundle) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(b)
}
