package catalog

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
)

// Diagnosis is an ICD-10-CM code of the catalog's list of common diagnoses
// for intrathecal pump therapy. A code outside the list is still recorded,
// with a warning (SPEC §9).
type Diagnosis struct {
	Code        string // as people write it, with its point: "G89.4"
	Description string
}

// Payer finds a payer profile by id. The profile is a copy: changing it does
// not change the catalog.
func (c *Catalog) Payer(id string) (billing.Payer, bool) {
	for _, p := range c.payers {
		if p.ID == id {
			return clonePayer(p), true
		}
	}
	return billing.Payer{}, false
}

// Payers lists the payer profiles in catalog order; a catalog made before
// payer profiles has none.
func (c *Catalog) Payers() []billing.Payer {
	out := make([]billing.Payer, 0, len(c.payers))
	for _, p := range c.payers {
		out = append(out, clonePayer(p))
	}
	return out
}

// PayerIDs lists the payer ids, for messages that say what is allowed.
func (c *Catalog) PayerIDs() []string {
	ids := make([]string, 0, len(c.payers))
	for _, p := range c.payers {
		ids = append(ids, p.ID)
	}
	return ids
}

func clonePayer(p billing.Payer) billing.Payer {
	p.CodeOverrides = maps.Clone(p.CodeOverrides)
	p.MUE = maps.Clone(p.MUE)
	p.PriorAuth = slices.Clone(p.PriorAuth)
	p.Documentation = slices.Clone(p.Documentation)
	return p
}

// Diagnosis finds a code of the list of common diagnoses and returns its
// description. "G89.4", "g89.4" and "G894" (as a claim writes it, without
// the point) find the same code.
func (c *Catalog) Diagnosis(code string) (description string, ok bool) {
	i, ok := c.diagBy[diagKey(code)]
	if !ok {
		return "", false
	}
	return c.diagnoses[i].Description, true
}

// Diagnoses lists the common diagnoses in catalog order.
func (c *Catalog) Diagnoses() []Diagnosis { return slices.Clone(c.diagnoses) }

// DiagnosesSource says where the list of diagnoses comes from.
func (c *Catalog) DiagnosesSource() string { return c.diagSrc }

func diagKey(code string) string {
	return strings.ReplaceAll(strings.ToUpper(strings.TrimSpace(code)), ".", "")
}

// The file's shapes. Required facts are pointers, so that one left out is
// refused rather than read as false or zero: a payer profile decides claims.
type filePayer struct {
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	KDOnPumpDrugs    *bool             `json:"kd_on_pump_drugs"`
	Compounded       string            `json:"compounded"`
	JWJZ             string            `json:"jw_jz"`
	CodeOverrides    map[string]string `json:"code_overrides"`
	PriorAuth        []string          `json:"prior_auth"`
	MUE              map[string]int64  `json:"mue"`
	TimelyFilingDays *int              `json:"timely_filing_days"`
	Documentation    []string          `json:"documentation"`
	Source           string            `json:"source"`
}

type fileDiagnosis struct {
	Code        string `json:"code"`
	Description string `json:"description"`
}

var payerIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// MaxFilingDays bounds timely_filing_days: ten years, past any payer's limit.
const MaxFilingDays = 3650

func (l *loader) payer(c *Catalog, i int, it item) error {
	at := fmt.Sprintf("payers[%d]", i)
	var f filePayer
	if err := l.strict(it, at, &f); err != nil {
		return err
	}
	if !payerIDRE.MatchString(f.ID) {
		return l.errorf(it.at("id"), "%s.id %q must be lower-case letters, digits and hyphens, like \"medicare-part-b\"", at, clip(f.ID))
	}
	for _, p := range c.payers {
		if p.ID == f.ID {
			return l.errorf(it.at("id"), "%s.id %q is listed twice; keep one profile per payer", at, f.ID)
		}
	}
	if strings.TrimSpace(f.Name) == "" {
		return l.errorf(it.at("name"), "%s.name is missing; add the payer's name as the biller knows it", at)
	}
	if f.KDOnPumpDrugs == nil {
		return l.errorf(it.offset, "%s.kd_on_pump_drugs is missing; say true (KD on every drug given through a pump, as Medicare contractors ask) or false", at)
	}
	if !slices.Contains(billing.Compoundings, billing.Compounding(f.Compounded)) {
		return l.errorf(it.at("compounded"), "%s.compounded %q is not one of per-drug, J7799 or J3490; say how the payer wants a compounded fill billed", at, clip(f.Compounded))
	}
	if !slices.Contains(billing.JWJZs, billing.JWJZ(f.JWJZ)) {
		return l.errorf(it.at("jw_jz"), "%s.jw_jz %q is not required or not-used; say whether the payer wants JW/JZ on drugs from single-dose containers", at, clip(f.JWJZ))
	}
	// Map keys are checked in sorted order, so a file with two faults
	// always names the same one; the line is the object's, as a key may
	// also appear in another.
	for _, drug := range slices.Sorted(maps.Keys(f.CodeOverrides)) {
		if d, ok := c.Drug(drug); !ok || d.Name != drug {
			return l.errorf(it.at("code_overrides"), "%s.code_overrides: %q is not a drug name of this catalog; name the drug as under \"drugs\" (ziconotide)", at, clip(drug))
		}
		if code := f.CodeOverrides[drug]; !hcpcsRE.MatchString(code) {
			return l.errorf(it.at("code_overrides"), "%s.code_overrides.%s %q is not a HCPCS code; write it like \"J2277\"", at, drug, clip(code))
		}
	}
	for j, code := range f.PriorAuth {
		if !hcpcsRE.MatchString(code) {
			return l.errorf(it.at("prior_auth"), "%s.prior_auth[%d] %q is not a HCPCS or CPT code; write it like \"J2278\"", at, j, clip(code))
		}
		if slices.Index(f.PriorAuth, code) < j {
			return l.errorf(it.at("prior_auth"), "%s.prior_auth[%d] %q is listed twice; keep one", at, j, code)
		}
	}
	for _, code := range slices.Sorted(maps.Keys(f.MUE)) {
		if !hcpcsRE.MatchString(code) {
			return l.errorf(it.at("mue"), "%s.mue: %q is not a HCPCS code; key each limit by a code like \"J2278\"", at, clip(code))
		}
		if u := f.MUE[code]; u <= 0 {
			return l.errorf(it.at("mue"), "%s.mue.%s must be more than zero units a day, not %d; remove it if the payer sets no limit", at, code, u)
		}
	}
	if f.TimelyFilingDays == nil {
		return l.errorf(it.offset, "%s.timely_filing_days is missing; add the payer's filing limit in days, such as 365", at)
	}
	if d := *f.TimelyFilingDays; d < 1 || d > MaxFilingDays {
		return l.errorf(it.at("timely_filing_days"), "%s.timely_filing_days must be between 1 and %d, not %d", at, MaxFilingDays, d)
	}
	var docs []pumpledger.Kind
	for j, k := range f.Documentation {
		if !slices.Contains(billing.DocumentationKinds, pumpledger.Kind(k)) {
			return l.errorf(it.at("documentation"), "%s.documentation[%d] %q is not a clinical record kind; use diagnosis, therapy, trial, consent, assessment or authorization", at, j, clip(k))
		}
		if slices.Contains(docs, pumpledger.Kind(k)) {
			return l.errorf(it.at("documentation"), "%s.documentation[%d] %q is listed twice; keep one", at, j, k)
		}
		docs = append(docs, pumpledger.Kind(k))
	}
	c.payers = append(c.payers, billing.Payer{ID: f.ID, Name: f.Name, KDOnPumpDrugs: *f.KDOnPumpDrugs,
		Compounded: billing.Compounding(f.Compounded), JWJZ: billing.JWJZ(f.JWJZ), CodeOverrides: f.CodeOverrides,
		PriorAuth: f.PriorAuth, MUE: f.MUE, TimelyFilingDays: *f.TimelyFilingDays, Documentation: docs, Source: f.Source})
	return nil
}

func (l *loader) diagnosis(c *Catalog, i int, it item) error {
	at := fmt.Sprintf("diagnoses[%d]", i)
	var f fileDiagnosis
	if err := l.strict(it, at, &f); err != nil {
		return err
	}
	if err := pumpledger.CheckICD10(at+".code", f.Code); err != nil {
		return l.errorf(it.at("code"), "%s", strings.TrimSuffix(pumpledger.ErrorMessage(err), "."))
	}
	if j, dup := c.diagBy[diagKey(f.Code)]; dup {
		return l.errorf(it.at("code"), "%s.code %s is listed twice (also as diagnoses[%d]); keep one", at, f.Code, j)
	}
	if strings.TrimSpace(f.Description) == "" {
		return l.errorf(it.at("description"), "%s.description is missing; add the code's title from the ICD-10-CM list", at)
	}
	c.diagBy[diagKey(f.Code)] = len(c.diagnoses)
	c.diagnoses = append(c.diagnoses, Diagnosis{Code: f.Code, Description: f.Description})
	return nil
}

// clip shortens a value quoted in a message: a refusal is one line.
func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
