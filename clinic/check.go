package clinic

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/pumpledger/pumpledger/refill"
	"github.com/pumpledger/pumpledger/vial"
)

// The pre-billing check (SPEC §10): every visit billed in a period, its
// lines as its payer's profile bills them, read beside the patient's
// clinical record, for the reasons payers deny. Each rule is one function
// of checkRules below, with its id, severity and basis; a rule whose source
// is a payer's policy takes its basis from the payer's profile.

// Rule ids, stable: programs and the web app key on them.
const (
	RuleNoCoverage      = "no-coverage"
	RulePayerUnknown    = "payer-unknown"
	RuleNoDiagnosis     = "missing-diagnosis"
	RuleDocumentation   = "documentation-missing"
	RuleAuthMissing     = "auth-missing"
	RuleAuthExpired     = "auth-expired"
	RuleAuthExceeded    = "auth-exceeded"
	RuleMUE             = "mue-exceeded"
	RuleJWUndocumented  = "jw-undocumented"
	RuleJWBetterPlan    = "jw-better-plan"
	RuleJWJZMissing     = "jwjz-missing"
	RuleKDMissing       = "kd-missing"
	RuleServiceMissing  = "service-missing"
	RuleCPTConflict     = "cpt-conflict"
	RuleCPTMismatch     = "cpt-mismatch"
	RuleOffLabel        = "off-label"
	RuleDiscrepancy     = "discrepancy-unreviewed"
	RuleTimelyFiling    = "timely-filing"
	RuleTimelyFilingDue = "timely-filing-soon"
)

// Bases of the rules whose source is not a payer's profile.
const (
	basisJWDoc      = "CMS JW/JZ FAQ and MAC articles: the discarded amount, its time and who witnessed it are documented in the record"
	basisJWPlan     = "Noridian; CGS: payers deny a JW line when a vial combination discarding less was available"
	basisService    = "FCSO L31254; CMS A55239: the refill service and its drugs are billed on the same claim"
	basisCPT        = "CPT: 62367–62370 are not reported with 95990/95991 (FCSO L31254; A55239)"
	basisLabel      = "Prialt US label (DailyMed b025d8ed) and the pump's labelling (SPEC §8)"
	basisReview     = "a residual far from what the pump should have delivered (a pocket fill, a pump fault) is reviewed before the visit is billed"
	basisNoCoverage = "a claim needs a payer; with none the bill uses the catalog's per-drug lines"
)

// soonDays is how near the timely-filing limit a visit gets a warning.
const soonDays = 30

// Check runs the pre-billing check on every visit billed with a date of
// service in [from, to], in the bill's order, as if filed on asOf
// (YYYY-MM-DD; "" is today): the day timely filing counts to.
func (db *Service) Check(ctx context.Context, from, to, asOf string) ([]billing.Finding, error) {
	_, fs, err := db.BillChecked(ctx, from, to, asOf)
	return fs, err
}

// BillChecked is the bill of [from, to] with the pre-billing check of its
// lines as of asOf ("" is today), read in one pass: the check reads what
// it needs of each entry as the bill reads it.
func (db *Service) BillChecked(_ context.Context, from, to, asOf string) ([]billing.Line, []billing.Finding, error) {
	asOf, err := db.asOfDate(asOf)
	if err != nil {
		return nil, nil, err
	}
	lines, facts, err := db.bill(from, to)
	if err != nil {
		return nil, nil, err
	}
	fs, err := db.checkLines(lines, asOf, facts)
	return lines, fs, err
}

// CheckLines is the check of a bill's lines (Bill's), for a caller that
// has them, as if filed on asOf ("" is today).
func (db *Service) CheckLines(_ context.Context, lines []billing.Line, asOf string) ([]billing.Finding, error) {
	asOf, err := db.asOfDate(asOf)
	if err != nil {
		return nil, err
	}
	return db.checkLines(lines, asOf, nil)
}

// CheckEntry is the check of one recorded visit (a refill or dose change)
// as it would be billed now: what the payer will still need before it can
// be billed, for the nurse at the bedside.
func (db *Service) CheckEntry(ctx context.Context, id string) ([]billing.Finding, error) {
	e, err := db.Entry(id)
	if err != nil {
		return nil, err
	}
	date := e.Performed().Date()
	lines, err := db.Bill(ctx, date, date)
	if err != nil {
		return nil, err
	}
	mrn := ""
	var own []billing.Line
	for _, l := range lines {
		if l.EntryID == id {
			own, mrn = append(own, l), l.MRN
		}
	}
	// The other lines of its claim (the patient's other visits that day)
	// count for the claim-wide rules.
	for _, l := range lines {
		if l.EntryID != id && l.MRN == mrn {
			own = append(own, l)
		}
	}
	fs, err := db.checkLines(own, db.Today(), nil)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(fs, func(f billing.Finding) bool { return f.EntryID != id }), nil
}

// visitLines is one entry's lines in a bill.
type visitLines struct {
	id, mrn, date string
	lines         []billing.Line
	start, end    int // its window of the bill's lines, while it is one
}

// asOfDate is the day a check is as of: asOf, checked, or today.
func (db *Service) asOfDate(asOf string) (string, error) {
	if asOf == "" {
		return db.Today(), nil
	}
	if _, err := pumpledger.ParseDate(asOf); err != nil {
		return "", pumpledger.Invalid("as_of", "as_of must be a date like 2026-03-31, not %q.", asOf)
	}
	return asOf, nil
}

// checkLines checks a bill's lines, visit by visit, as of a date; facts
// are what the bill read of each visit's entry (nil: read here).
func (db *Service) checkLines(lines []billing.Line, asOf string, facts map[string]visitFacts) ([]billing.Finding, error) {
	// A bill's lines come an entry's together, and a claim's (patient and
	// date) together: each visit and claim is a window of lines, not a
	// copy (a month's check copied every line twice). Lines in another
	// order are copied.
	var visits []visitLines
	at := map[string]int{}
	claims := map[[2]string][]billing.Line{}
	for i, l := range lines {
		if n := len(visits); n > 0 && visits[n-1].id == l.EntryID && visits[n-1].end == i {
			visits[n-1].lines, visits[n-1].end = lines[visits[n-1].start:i+1], i+1
		} else if j, seen := at[l.EntryID]; seen {
			visits[j].lines = append(slices.Clip(visits[j].lines), l)
		} else {
			at[l.EntryID] = len(visits)
			visits = append(visits, visitLines{id: l.EntryID, mrn: l.MRN, date: l.DateOfService, lines: lines[i : i+1], start: i, end: i + 1})
		}
		k := [2]string{l.MRN, l.DateOfService}
		switch c, ok := claims[k]; {
		case !ok:
			claims[k] = lines[i : i+1]
		case i > 0 && len(c) > 0 && &c[len(c)-1] == &lines[i-1]: // a window ending here
			claims[k] = lines[i-len(c) : i+1]
		default:
			claims[k] = append(slices.Clip(c), l)
		}
	}
	var out []billing.Finding
	err := db.View(func(tx *ledger.Tx) error {
		cats, err := db.catalogsIn(tx)
		if err != nil {
			return err
		}
		b, err := db.bookIn(tx, pumpledger.KindCoverage, pumpledger.KindDiagnosis, pumpledger.KindAuthorization, pumpledger.KindTherapy,
			pumpledger.KindTrial, pumpledger.KindConsent, pumpledger.KindAssessment, pumpledger.KindReview)
		if err != nil {
			return err
		}
		c := &checker{db: db, tx: tx, cats: cats, book: b, today: asOf, facts: facts, draws: map[string]*drawdown{}, claims: claims}
		for _, v := range visits {
			fs, err := c.visit(v)
			if err != nil {
				return err
			}
			out = append(out, fs...)
		}
		return nil
	})
	return out, err
}

// checker holds what the check of a period reads once.
type checker struct {
	db     *Service
	tx     *ledger.Tx
	cats   *catalogSet
	book   book
	today  string
	draws  map[string]*drawdown         // by MRN, read when first needed
	claims map[[2]string][]billing.Line // a claim's lines, by MRN and date
	facts  map[string]visitFacts        // by entry id, as the bill read them; nil: read each
}

// visitFacts is what the check reads of a visit's entry: whether its
// refill's witness is empty, and the warnings recorded with it when one
// may be one the check reads (else none: most entries are not decoded).
type visitFacts struct {
	unwitnessed bool
	decoded     *ledger.Entry
}

// factsOfStored reads a visit's facts from its entry's stored bytes.
func factsOfStored(raw []byte) (visitFacts, error) {
	// The refill's witness is empty iff its canonical payload says
	// "witness":"" (inside a string the quotes would be escaped).
	f := visitFacts{unwitnessed: bytes.Contains(raw, []byte(`"witness":""`))}
	if mayHaveCheckedWarning(raw) {
		e, err := ledger.DecodeEntry(raw)
		if err != nil {
			return f, err
		}
		f.decoded = &e
	}
	return f, nil
}

// visit is the findings of one visit.
func (c *checker) visit(v visitLines) ([]billing.Finding, error) {
	// Most visits need only a few of their entry's facts, found in its
	// stored bytes (as the bill read them): it is decoded only when a
	// warning the check reads was recorded with it.
	f, ok := c.facts[v.id]
	if !ok {
		raw, err := c.tx.StoredByID(v.id)
		if err != nil {
			return nil, err
		}
		if f, err = factsOfStored(raw); err != nil {
			return nil, err
		}
	}
	e := ledger.Entry{ID: v.id}
	if f.decoded != nil {
		e = *f.decoded
	}
	cat := c.cats.at(v.date).Catalog
	var out []billing.Finding
	add := func(rule, severity, code, message, fix, basis string) {
		out = append(out, billing.Finding{Rule: rule, Severity: severity, EntryID: v.id, MRN: v.mrn, DateOfService: v.date,
			Code: code, Message: message, Fix: fix, Basis: basis})
	}
	cov, _, covered := c.book.coverageOn(v.mrn, v.date)
	var payer *billing.Payer
	switch {
	case !covered:
		// Concatenated, not formatted: a ledger without coverage has this
		// finding on every visit of a month.
		add(RuleNoCoverage, billing.Warning, "", "No coverage is recorded for "+v.mrn+" on "+v.date+"; the visit is billed with the catalog's per-drug lines.",
			"Record the patient's insurance with `pumpledger coverage add`.", basisNoCoverage)
	default:
		if p, ok := cat.Payer(cov.Payer); ok {
			payer = &p
		} else {
			add(RulePayerUnknown, billing.Error, "", fmt.Sprintf("The coverage names payer %q, which is not a profile of the catalog in force on %s.", cov.Payer, v.date),
				"Adopt a catalog that has the payer's profile, or correct the coverage.", "the catalog's payer profiles")
		}
	}
	drugLines := slices.ContainsFunc(v.lines, func(l billing.Line) bool { return l.Drug != "" || l.Narrative != "" })
	// A refill bills a refill service code (recording refuses another); a
	// dose change bills a reprogramming one.
	refillVisit := slices.ContainsFunc(v.lines, func(l billing.Line) bool {
		s, ok := cat.Service(l.Code)
		return ok && s.Refill && l.EntryID == v.id
	})

	// The clinical record a payer reads.
	if drugLines || refillVisit {
		if !c.has(pumpledger.KindDiagnosis, v.mrn, func(x any) bool {
			d := x.(pumpledger.Diagnosis)
			return d.Onset == "" || d.Onset <= v.date
		}) {
			add(RuleNoDiagnosis, billing.Error, "", "No diagnosis is on file for "+v.mrn+" by "+v.date+"; the claim carries none.",
				"Record the diagnosis with `pumpledger diagnosis add`.", "a claim carries the ICD-10-CM diagnosis that makes the drug medically necessary (837P HI)")
		}
	}
	if payer != nil && (drugLines || refillVisit) {
		out = append(out, c.documentation(v, *payer)...)
	}

	// Prior authorization, by the catalog's code of each drug billed.
	if payer != nil && refillVisit {
		fs, err := c.authorizations(v, e, *payer, cat)
		if err != nil {
			return nil, err
		}
		out = append(out, fs...)
	}

	// The lines as the profile bills them.
	units := map[string]int64{}
	for _, l := range v.lines {
		if l.Drug == "" && l.Narrative == "" {
			continue
		}
		units[l.Code] += l.Units
		if payer == nil {
			continue
		}
		if payer.KDOnPumpDrugs && !slices.Contains(l.Modifiers, billing.KD) {
			add(RuleKDMissing, billing.Error, l.Code, fmt.Sprintf("%s is a drug given through an implanted pump but has no KD modifier, which %s requires.", l.Code, payer.Name),
				"Bill it with KD (the profile adds it: check the coverage's payer).", payer.Source)
		}
		// An administered line whose drug has a JW line needs no JZ.
		wasted := slices.ContainsFunc(v.lines, func(o billing.Line) bool { return o.Drug == l.Drug && slices.Contains(o.Modifiers, billing.JW) })
		if payer.JWJZ == billing.JWJZRequired && l.NDC != "" && singleDose(cat, l.NDC) && !wasted && !slices.Contains(l.Modifiers, billing.JZ) {
			add(RuleJWJZMissing, billing.Error, l.Code, fmt.Sprintf("%s from the single-dose container %s carries neither JW nor JZ, which %s requires.", l.Code, l.NDC, payer.Name),
				"Bill the discarded amount on a JW line, or JZ when nothing was discarded.", payer.Source)
		}
	}
	if payer != nil {
		for code, n := range units {
			if limit, ok := payer.MUEUnits(code); ok && n > limit {
				add(RuleMUE, billing.Warning, code, fmt.Sprintf("%d units of %s on %s are above %s's limit of %d a day (MUE).", n, code, v.date, payer.Name, limit),
					"Document the expected days of therapy on pump (the days until this fill's next refill) in the claim's narrative.", payer.Source)
			}
		}
	}

	// The waste's documentation, and the visit's own warnings.
	if refillVisit {
		unwitnessed := f.unwitnessed
		for _, l := range v.lines {
			// A JW line, or a compounded line whose constituents were
			// partly discarded (its description says how much).
			wasted := slices.Contains(l.Modifiers, billing.JW) || (l.Narrative != "" && strings.Contains(l.Description, "discarded"))
			if wasted && unwitnessed {
				msg := fmt.Sprintf("The JW line of %d units of %s has no witness recorded for the discarded drug.", l.Units, l.Code)
				if !slices.Contains(l.Modifiers, billing.JW) {
					msg = fmt.Sprintf("The compounded %s line's drug discarded from single-dose containers has no witness recorded.", l.Code)
				}
				add(RuleJWUndocumented, billing.Error, l.Code, msg,
					"Record who witnessed the waste: correct the refill with its witness.", basisJWDoc)
				break
			}
		}
		if slices.ContainsFunc(e.Warnings, func(w string) bool { return strings.Contains(w, BetterPlanWarning) }) && slices.ContainsFunc(v.lines, func(l billing.Line) bool { return slices.Contains(l.Modifiers, billing.JW) }) {
			add(RuleJWBetterPlan, billing.Warning, "", "The containers opened discarded more than the best vial plan would have; the payer may deny the JW line.",
				"Check the refill's warning and `pumpledger plan`; explain the choice in the record if it was needed.", basisJWPlan)
		}
		if Flagged(e.Warnings) && !c.has(pumpledger.KindReview, v.mrn, func(x any) bool { return x.(pumpledger.Review).Refill == v.id }) {
			add(RuleDiscrepancy, billing.Warning, "", "The refill's residual was flagged as a discrepancy and no review is recorded.",
				"Record the review (what was found) with `pumpledger review add`.", basisReview)
		}
	}
	for _, w := range e.Warnings {
		switch {
		case refill.IsLabelWarning(w):
			add(RuleOffLabel, billing.Warning, "", w, "Check the fill against the label; document why if it was meant.", basisLabel)
		case billing.IsCPTMismatch(w):
			add(RuleCPTMismatch, billing.Warning, "", w, "Correct the entry's procedure code if the warning is right.", billing.CPTBasis)
		}
	}

	// The claim: the refill service with its drugs, no conflicting codes.
	claim := c.claims[[2]string{v.mrn, v.date}]
	if drugLines && !slices.ContainsFunc(claim, func(l billing.Line) bool {
		s, ok := cat.Service(l.Code)
		return ok && s.Refill
	}) {
		add(RuleServiceMissing, billing.Error, "", "The visit bills drugs without a refill service code (95990, 95991, 62369 or 62370) on the same claim.",
			"Correct the refill's procedure to the refill code that fits.", basisService)
	}
	// A conflict is the claim's (a dose change and a refill of one day):
	// told once, on the visit it names first.
	for _, msg := range billing.Conflicts(claim, cat.Service) {
		if strings.Contains(msg, "(entry "+v.id+") is not reported") {
			add(RuleCPTConflict, billing.Error, "", msg, "Bill the visit as one code, or correct one entry.", basisCPT)
		}
	}

	// Timely filing, counted from the date of service.
	if payer != nil && payer.TimelyFilingDays > 0 {
		dos, _ := time.Parse(time.DateOnly, v.date)
		last := dos.AddDate(0, 0, payer.TimelyFilingDays).Format(time.DateOnly)
		soon := dos.AddDate(0, 0, payer.TimelyFilingDays-soonDays).Format(time.DateOnly)
		switch {
		case c.today > last:
			add(RuleTimelyFiling, billing.Error, "", fmt.Sprintf("The visit of %s is past %s's timely filing limit of %d days (the last day was %s).", v.date, payer.Name, payer.TimelyFilingDays, last),
				"File an appeal with proof of a timely first filing, if there was one; the payer will otherwise deny it.", payer.Source)
		case c.today >= soon:
			add(RuleTimelyFilingDue, billing.Warning, "", fmt.Sprintf("The visit of %s must be filed with %s by %s (timely filing, %d days).", v.date, payer.Name, last, payer.TimelyFilingDays),
				"File the claim now.", payer.Source)
		}
	}
	// Without coverage the visit is billed as before the profiles: what is
	// found is told, and holds nothing back.
	if !covered {
		for i := range out {
			out[i].Severity = billing.Warning
		}
	}
	return out, nil
}

// documentation is what the payer's profile needs on file, beside the
// diagnosis (its own rule) and the authorization (the prior-auth rules).
func (c *checker) documentation(v visitLines, p billing.Payer) []billing.Finding {
	var out []billing.Finding
	need := func(what, fix string) {
		out = append(out, billing.Finding{Rule: RuleDocumentation, Severity: billing.Error, EntryID: v.id, MRN: v.mrn, DateOfService: v.date,
			Message: fmt.Sprintf("%s needs %s on file, and there is none for %s.", p.Name, what, v.mrn), Fix: fix, Basis: p.Source})
	}
	for _, k := range p.Documentation {
		switch k {
		case pumpledger.KindTherapy:
			if !c.has(k, v.mrn, func(x any) bool { return x.(pumpledger.Therapy).From <= v.date }) {
				need("a failed less invasive therapy", "Record what was tried and how it ended with `pumpledger therapy add`.")
			}
		case pumpledger.KindTrial:
			if !c.has(k, v.mrn, func(x any) bool {
				t := x.(pumpledger.Trial)
				return t.Successful != nil && *t.Successful && t.Date <= v.date
			}) {
				need("a successful preliminary trial", "Record the trial and its result with `pumpledger trial add` (or correct it with its result).")
			}
		case pumpledger.KindConsent:
			if !c.has(k, v.mrn, func(x any) bool { cs := x.(pumpledger.Consent); return cs.Document != nil && cs.Date <= v.date }) {
				need("the signed consent form", "Record the consent with its signed form with `pumpledger consent add` (or attach the form by correcting it).")
			}
		case pumpledger.KindAssessment:
			if !c.has(k, v.mrn, func(x any) bool { return x.(pumpledger.Assessment).At.Date() == v.date }) {
				need("a monitoring assessment at the visit", "Record the assessment of the visit with `pumpledger assessment add`.")
			}
		}
	}
	return out
}

// authorizations are the prior-authorization findings of a refill: for
// each code the payer authorizes, one in force, with enough left.
func (c *checker) authorizations(v visitLines, e ledger.Entry, p billing.Payer, cat *catalog.Catalog) ([]billing.Finding, error) {
	var out []billing.Finding
	add := func(rule, code, message, fix string) {
		out = append(out, billing.Finding{Rule: rule, Severity: billing.Error, EntryID: v.id, MRN: v.mrn, DateOfService: v.date,
			Code: code, Message: message, Fix: fix, Basis: p.Source})
	}
	var drugs []vial.Drug // each drug billed
	for _, l := range v.lines {
		if l.Drug != "" {
			if d, ok := cat.Drug(l.Drug); ok && !slices.ContainsFunc(drugs, func(x vial.Drug) bool { return x.Name == d.Name }) {
				drugs = append(drugs, d)
			}
		}
	}
	if len(drugs) == 0 {
		if e.Payload == nil { // not decoded by visit
			full, err := c.tx.EntryByID(v.id)
			if err != nil {
				return nil, err
			}
			e = full
		}
		r, err := e.Refill()
		if err != nil {
			return nil, err
		}
		for _, s := range r.Solution { // an admixture billed as one NOC line
			if d, ok := cat.Drug(s.Drug); ok && !slices.ContainsFunc(drugs, func(x vial.Drug) bool { return x.Name == d.Name }) {
				drugs = append(drugs, d)
			}
		}
	}
	for _, d := range drugs {
		// The drawdown is by the catalog's code; the payer lists, and the
		// finding names, the code it bills (J2277 by override).
		code, billed := d.Code, p.Code(d.Name, d.Code)
		if !p.NeedsPriorAuth(code) && !p.NeedsPriorAuth(billed) {
			continue
		}
		dd := c.draws[v.mrn]
		if dd == nil {
			var err error
			if dd, err = c.db.drawdownOf(c.tx, v.mrn, nil, -1); err != nil {
				return nil, err
			}
			c.draws[v.mrn] = dd
		}
		var covering []AuthorizationUse
		for _, a := range dd.auths {
			if a.Status == "approved" && coversCode(cat, a.Codes, code) {
				covering = append(covering, a)
			}
		}
		drew := slices.IndexFunc(dd.byRefill[v.id], func(r RefillAuthorization) bool { return r.Code == code })
		switch {
		case len(covering) == 0:
			add(RuleAuthMissing, billed, fmt.Sprintf("%s needs a prior authorization for %s, and none approved is on file for %s.", p.Name, billed, v.mrn),
				"Record the payer's authorization with `pumpledger authorization add`, or get one before billing.")
		case drew < 0:
			last := covering[len(covering)-1]
			add(RuleAuthExpired, billed, fmt.Sprintf("No authorization for %s covers %s: the last, %s, runs %s to %s.", billed, v.date, last.Number, last.From, last.To),
				"Ask the payer for an authorization that covers the date (a retroactive one), or hold the claim.")
		default:
			r := dd.byRefill[v.id][drew]
			if r.Left.IsNegative() {
				add(RuleAuthExceeded, billed, fmt.Sprintf("This refill bills %s %s of %s under authorization %s, %s %s more than was left.", r.Amount, r.Unit, billed, r.Number, r.Left.Neg(), r.Unit),
					"Ask the payer to raise the authorization before billing.")
			}
		}
	}
	return out, nil
}

// has says whether the patient has a live record of kind k that ok takes.
func (c *checker) has(k pumpledger.Kind, mrn string, ok func(any) bool) bool {
	for _, e := range c.book[k][mrn] {
		v, err := DecodeClinical(e)
		if err == nil && ok(v) {
			return true
		}
	}
	return false
}

// singleDose says whether the catalog's product of an 11-digit NDC is a
// single-dose container.
func singleDose(cat *catalog.Catalog, ndc11 string) bool {
	for _, p := range cat.Products {
		if p.NDC.Digits() == ndc11 {
			return p.SingleDose
		}
	}
	return false
}

// mayHaveCheckedWarning says whether an entry's stored bytes may hold a
// warning the check reads (a discrepancy, a better vial plan, the label's,
// a code mismatch): only those entries are decoded.
func mayHaveCheckedWarning(raw []byte) bool {
	for _, m := range []string{DiscrepancyWarning, BetterPlanWarning, refill.OffLabelPrefix, refill.LabelPrefix, "Procedure "} {
		if bytes.Contains(raw, []byte(m)) {
			return true
		}
	}
	return false
}

// What the check recognises in a visit's recorded warnings (each held to
// the derivation's wording by a test).
const (
	// BetterPlanWarning is in refill.Derive's warning of containers that
	// discard more than the best plan.
	BetterPlanWarning = "Payers may deny the JW line when a better vial combination existed"
)
