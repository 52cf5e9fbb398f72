// Package catalog is the site-editable file of facts the rules run on: drugs
// with their billing codes and label limits, container products with NDCs,
// pump models, pump-service codes, payer profiles and the common diagnoses of
// intrathecal pump therapy. A default, with the source of every fact, is
// embedded in the binary; a site replaces it with --catalog FILE.
package catalog

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/pump"
	"github.com/pumpledger/pumpledger/vial"
	"github.com/shopspring/decimal"
)

//go:embed default.json
var defaultJSON []byte

// DefaultJSON returns the embedded default catalog file, to print or copy.
func DefaultJSON() []byte { return bytes.Clone(defaultJSON) }

// MaxAssessmentEveryDays bounds the site's monitoring interval: a year.
const MaxAssessmentEveryDays = 365

// AssessmentEveryDays is how often the site monitors a ziconotide patient
// (Prialt's boxed warning: "frequently"), in days; 0, the default, means
// at every refill visit.
func (c *Catalog) AssessmentEveryDays() int { return c.assessEvery }

// Catalog is a loaded, checked catalog. It is read-only after Load.
type Catalog struct {
	Drugs    []vial.Drug
	Products []vial.Product
	Pumps    []pump.Model
	Services []billing.Service

	payers    []billing.Payer
	diagnoses []Diagnosis
	diagBy    map[string]int // code without its point, upper-cased
	diagSrc   string
	// assessEvery is the site's monitoring interval in days; 0: at every
	// refill visit.
	assessEvery int
	drugByKey   map[string]int // name, code and aliases, upper-cased
	productBy   map[vial.NDC]int
	name        string // the file it was loaded from, for messages
	data        []byte // the file, byte for byte: what a ledger pins
}

// JSON returns the file the catalog was loaded from, byte for byte: what a
// ledger pins and `pumpledger catalog` prints.
func (c *Catalog) JSON() []byte { return bytes.Clone(c.data) }

// Name is the name the catalog was loaded under (a file path).
func (c *Catalog) Name() string { return c.name }

// Default returns the embedded catalog. It panics if the embedded file is
// broken, which a test catches before any release.
func Default() *Catalog {
	c, err := Load(bytes.NewReader(defaultJSON), "default.json")
	if err != nil {
		panic(err)
	}
	return c
}

// Drug finds a drug by name, HCPCS code or alias, in any case ("J2277" finds
// ziconotide).
func (c *Catalog) Drug(key string) (vial.Drug, bool) {
	i, ok := c.drugByKey[strings.ToUpper(strings.TrimSpace(key))]
	if !ok {
		return vial.Drug{}, false
	}
	return c.Drugs[i], true
}

// Product finds a product by NDC.
func (c *Catalog) Product(n vial.NDC) (vial.Product, bool) {
	i, ok := c.productBy[n]
	if !ok {
		return vial.Product{}, false
	}
	return c.Products[i], true
}

// ProductsOf lists a drug's products in catalog order.
func (c *Catalog) ProductsOf(drug string) []vial.Product {
	var out []vial.Product
	for _, p := range c.Products {
		if p.Drug == drug {
			out = append(out, p)
		}
	}
	return out
}

// Pump finds a pump model by id.
func (c *Catalog) Pump(id string) (pump.Model, bool) {
	for _, m := range c.Pumps {
		if m.ID == id {
			return m, true
		}
	}
	return pump.Model{}, false
}

// PumpIDs lists the model ids, for messages that say what is allowed.
func (c *Catalog) PumpIDs() []string {
	var ids []string
	for _, m := range c.Pumps {
		ids = append(ids, m.ID)
	}
	return ids
}

// Service finds a pump-service code.
func (c *Catalog) Service(code string) (billing.Service, bool) {
	for _, s := range c.Services {
		if s.Code == code {
			return s, true
		}
	}
	return billing.Service{}, false
}

// The file's shapes. Quantities are strings (or numbers) parsed exactly.
type fileDrug struct {
	Name     string          `json:"name"`
	Code     string          `json:"code"`
	Aliases  []string        `json:"aliases"`
	UnitMCG  json.RawMessage `json:"unit_mcg"`
	UnitText string          `json:"unit_text"`
	Label    *fileLabel      `json:"label"`
	Source   string          `json:"source"`
}

type fileLabel struct {
	StartMax            json.RawMessage `json:"start_max_mcg_per_day"`
	StepMax             json.RawMessage `json:"step_max_mcg_per_day"`
	MaxIncreasesPerWeek int             `json:"max_increases_per_week"`
	MinHoursBetweenUps  int             `json:"min_hours_between_increases"`
	Max                 json.RawMessage `json:"max_mcg_per_day"`
	NaiveRinseML        json.RawMessage `json:"naive_rinse_ml"`
	NaiveRinseMCGPerML  json.RawMessage `json:"naive_rinse_mcg_per_ml"`
	NaiveRefillDays     int             `json:"naive_refill_days"`
	DilutedRefillDays   int             `json:"diluted_refill_days"`
	UndilutedRefillDays int             `json:"undiluted_refill_days"`
	Source              string          `json:"source"`
	// How the label lets the drug be filled (vial.Label).
	UndilutedOnly            []json.RawMessage `json:"undiluted_only_mcg_per_ml"`
	NaiveFill                json.RawMessage   `json:"naive_fill_mcg_per_ml"`
	UndilutedOnceEstablished []json.RawMessage `json:"undiluted_once_established_mcg_per_ml"`
	EstablishedDays          int               `json:"established_dose_days"`
	Diluents                 []string          `json:"diluents"`
	FillSource               string            `json:"fill_source"`
}

type fileProduct struct {
	NDC        string          `json:"ndc"`
	Drug       string          `json:"drug"`
	MCGPerML   json.RawMessage `json:"mcg_per_ml"`
	ML         json.RawMessage `json:"ml"`
	SingleDose *bool           `json:"single_dose"`
	Labeler    string          `json:"labeler"`
	Verify     bool            `json:"verify"`
	Source     string          `json:"source"`
}

type filePump struct {
	ID            string          `json:"id"`
	Device        string          `json:"device"`
	ReservoirML   json.RawMessage `json:"reservoir_ml"`
	AlarmML       json.RawMessage `json:"alarm_ml"`
	DiscrepancyML json.RawMessage `json:"discrepancy_ml"`
	Source        string          `json:"source"`
	// The device × drug matrix: the drugs the device is labelled for.
	LabelledDrugs  []string `json:"labelled_drugs"`
	LabelledSource string   `json:"labelled_source"`
}

type fileService struct {
	Code        string   `json:"code"`
	Description string   `json:"description"`
	Refill      bool     `json:"refill"`
	Reprogram   bool     `json:"reprogram"`
	Excludes    []string `json:"excludes"`
}

// loader carries the file name and text so every error can name a line.
type loader struct {
	name        string
	data        []byte
	diagSrc     string // the top-level diagnoses_source
	assessEvery int    // the top-level assessment_every_days
}

func (l *loader) errorf(offset int64, format string, args ...any) error {
	line := 1 + bytes.Count(l.data[:min(int(offset), len(l.data))], []byte("\n"))
	return pumpledger.Invalid("catalog", "%s line %d: %s", l.name, line, fmt.Sprintf(format, args...))
}

// item is one element of a section with the offset it starts at.
type item struct {
	offset int64
	raw    json.RawMessage
}

// at is the offset of the key of field ("unit_mcg", or the last part of
// "drug x: label.max_mcg_per_day") inside the item, so that an error names
// the line the field is on, not only the line its entry starts on. It is the
// item's start when the key is not there (a missing field).
func (it item) at(field string) int64 {
	field, _, _ = strings.Cut(field, "[") // "label.diluents[1]": the key is diluents
	if i := strings.LastIndexAny(field, ". "); i >= 0 {
		field = field[i+1:]
	}
	key := []byte(`"` + field + `"`)
	for i := 0; ; {
		j := bytes.Index(it.raw[i:], key)
		if j < 0 || field == "" {
			return it.offset
		}
		i += j + len(key)
		if rest := bytes.TrimLeft(it.raw[i:], " \t\r\n"); len(rest) > 0 && rest[0] == ':' {
			return it.offset + int64(i-len(key))
		}
	}
}

// MaxBytes bounds a catalog file: the embedded one is under 20 KB, and a
// ledger holds each catalog it adopts whole.
const MaxBytes = 1 << 20

// Load reads and checks a catalog. name is used in error messages (a file
// path). Every error names the line and the field, and says what to fix.
func Load(r io.Reader, name string) (*Catalog, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, pumpledger.Errorf(pumpledger.EINTERNAL, "read catalog %s: %v", name, err)
	}
	if len(data) > MaxBytes {
		return nil, pumpledger.Invalid("catalog", "The catalog %s is more than %d bytes, the most a catalog may be; check the file.", name, MaxBytes)
	}
	l := &loader{name: name, data: data}
	sections, err := l.sections()
	if err != nil {
		return nil, err
	}
	if err := l.texts(); err != nil {
		return nil, err
	}
	c := &Catalog{drugByKey: map[string]int{}, productBy: map[vial.NDC]int{}, diagBy: map[string]int{}, name: name, data: data}
	for _, it := range sections["drugs"] {
		if err := l.drug(c, it); err != nil {
			return nil, err
		}
	}
	for _, it := range sections["products"] {
		if err := l.product(c, it); err != nil {
			return nil, err
		}
	}
	// Pumps come after drugs: labelled_drugs names drugs of the catalog.
	for i, it := range sections["pumps"] {
		if err := l.pump(c, i, it); err != nil {
			return nil, err
		}
	}
	for _, it := range sections["services"] {
		if err := l.service(c, it); err != nil {
			return nil, err
		}
	}
	// Payers come after drugs: a code override names a drug of the catalog.
	for i, it := range sections["payers"] {
		if err := l.payer(c, i, it); err != nil {
			return nil, err
		}
	}
	for i, it := range sections["diagnoses"] {
		if err := l.diagnosis(c, i, it); err != nil {
			return nil, err
		}
	}
	c.diagSrc = l.diagSrc
	c.assessEvery = l.assessEvery
	for _, s := range []string{"drugs", "pumps", "services"} {
		if len(sections[s]) == 0 {
			return nil, l.errorf(0, "%q is missing or empty; the catalog needs at least one entry there", s)
		}
	}
	return c, nil
}

// texts refuses control and invisible characters in every string of the
// catalog, as in every other text pumpledger stores or prints: a device or
// description holding an escape sequence would rewrite the screen of whoever
// reads a refill, and a name with a zero-width space prints like another.
// It runs after sections, which has refused what is not JSON.
func (l *loader) texts() error {
	dec := json.NewDecoder(bytes.NewReader(l.data))
	key := "{"
	for {
		at := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil // io.EOF; sections reported any syntax error
		}
		s, ok := tok.(string)
		if !ok {
			continue
		}
		if err := pumpledger.CheckText("the text after "+strconv.Quote(key), s, false); err != nil {
			return l.errorf(at, "%s", strings.TrimSuffix(pumpledger.ErrorMessage(err), "."))
		}
		key = s
	}
}

// sections walks the top-level object and returns each array's elements with
// their offsets.
func (l *loader) sections() (map[string][]item, error) {
	// Check the syntax of the whole file first: the streaming decoder below
	// reports a syntax error inside an element at an offset counted from the
	// element, not from the file, and does not look past the closing }.
	if err := json.Unmarshal(l.data, new(json.RawMessage)); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) && se.Offset < int64(len(l.data)) {
			return nil, l.errorf(se.Offset, "not valid JSON (%v); fix the syntax", se)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(l.data))
	dec.UseNumber()
	syntax := func(err error) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return l.errorf(se.Offset, "not valid JSON (%v); fix the syntax", se)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return l.errorf(int64(len(l.data)), "the file ends early; close every { and [")
		}
		return l.errorf(dec.InputOffset(), "%v", err)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, syntax(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, l.errorf(0, "the catalog must be one JSON object {\"version\": 1, \"drugs\": [...], ...}")
	}
	out := map[string][]item{}
	seenVersion, seenKeys := false, map[string]bool{}
	for dec.More() {
		at := l.skipSeparators(dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return nil, syntax(err)
		}
		key, _ := tok.(string)
		if key == "version" || key == "about" || key == "diagnoses_source" || key == "assessment_every_days" {
			if seenKeys[key] {
				return nil, l.errorf(at, "%q appears twice; keep only the right one", key)
			}
			seenKeys[key] = true
		}
		switch key {
		case "version":
			var v json.Number
			if err := dec.Decode(&v); err != nil || v.String() != "1" {
				return nil, l.errorf(at, "version must be 1, the only catalog version this program reads")
			}
			seenVersion = true
		case "about":
			var s string
			if err := dec.Decode(&s); err != nil {
				return nil, l.errorf(at, "about must be a string")
			}
		case "diagnoses_source":
			if err := dec.Decode(&l.diagSrc); err != nil {
				return nil, l.errorf(at, "diagnoses_source must be a string saying where the diagnoses list comes from")
			}
		case "assessment_every_days":
			// A number, not a string holding one (json.Number takes both).
			var raw json.RawMessage
			n, err := int64(0), dec.Decode(&raw)
			if err == nil {
				n, err = strconv.ParseInt(string(raw), 10, 64)
			}
			if err != nil || n < 0 || n > MaxAssessmentEveryDays {
				return nil, l.errorf(at, "assessment_every_days must be a whole number of days from 0 (at every refill visit) to %d", MaxAssessmentEveryDays)
			}
			l.assessEvery = int(n)
		case "drugs", "products", "pumps", "services", "payers", "diagnoses":
			if _, dup := out[key]; dup {
				return nil, l.errorf(at, "%q appears twice; merge the lists", key)
			}
			tok, err := dec.Token()
			if err != nil {
				return nil, syntax(err)
			}
			if d, ok := tok.(json.Delim); !ok || d != '[' {
				return nil, l.errorf(at, "%q must be a list [...]", key)
			}
			out[key] = []item{}
			for dec.More() {
				start := l.skipSeparators(dec.InputOffset())
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					return nil, syntax(err)
				}
				out[key] = append(out[key], item{offset: start, raw: raw})
			}
			if _, err := dec.Token(); err != nil {
				return nil, syntax(err)
			}
		default:
			return nil, l.errorf(at, "unknown section %q; the catalog has version, about, drugs, products, pumps, services, payers, diagnoses, diagnoses_source and assessment_every_days", key)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, syntax(err)
	}
	if !seenVersion {
		return nil, l.errorf(0, "version is missing; add \"version\": 1")
	}
	return out, nil
}

// skipSeparators steps from where the decoder's previous token ended (its
// InputOffset) past the comma and blanks to the next token's own line.
func (l *loader) skipSeparators(at int64) int64 {
	for at < int64(len(l.data)) && strings.ContainsRune(", \t\r\n", rune(l.data[at])) {
		at++
	}
	return at
}

// strict decodes one element, refusing unknown fields (a typo must not drop a fact).
func (l *loader) strict(it item, section string, v any) error {
	// encoding/json keeps the last of two equal keys: a fact given twice
	// must not silently lose the first.
	if k, _, ok := pumpledger.DuplicateKey(it.raw); ok {
		return l.errorf(it.at(k), "%s entry: %q is given twice; keep only the right one", section, k)
	}
	dec := json.NewDecoder(bytes.NewReader(it.raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		msg := err.Error()
		msg = strings.TrimPrefix(msg, "json: ")
		at := it.offset
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			at = it.at(te.Field)
			msg = fmt.Sprintf("%s must be %s, not a JSON %s", te.Field, kindWords(te.Type.Kind()), te.Value)
		} else if _, name, ok := strings.Cut(msg, `unknown field "`); ok {
			name, _, _ = strings.Cut(name, `"`)
			at = it.at(name)
		}
		return l.errorf(at, "%s entry: %s", section, msg)
	}
	return nil
}

func kindWords(k reflect.Kind) string {
	switch k {
	case reflect.Int, reflect.Int64:
		return "a whole number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list [...]"
	case reflect.String:
		return "a string"
	}
	return "an object {...}"
}

// quantity parses a decimal field; required fields must be present and > 0.
func (l *loader) quantity(it item, field string, raw json.RawMessage, required bool) (decimal.Decimal, error) {
	if len(raw) == 0 || string(raw) == "null" {
		if required {
			return decimal.Zero, l.errorf(it.offset, "%s is missing; add it as a number such as \"2.5\"", field)
		}
		return decimal.Zero, nil
	}
	s := strings.Trim(string(raw), `"`)
	d, err := pumpledger.ParseQuantity(s)
	if err != nil {
		return decimal.Zero, l.errorf(it.at(field), "%s %v", field, err)
	}
	if !d.IsPositive() {
		return decimal.Zero, l.errorf(it.at(field), "%s must be more than zero, not %s", field, d)
	}
	return d, nil
}

var hcpcsRE = regexp.MustCompile(`^[A-Z][0-9]{4}$|^[0-9]{5}$`)

func (l *loader) drug(c *Catalog, it item) error {
	var f fileDrug
	if err := l.strict(it, "drugs", &f); err != nil {
		return err
	}
	if f.Name == "" || f.Name != strings.ToLower(strings.TrimSpace(f.Name)) {
		return l.errorf(it.at("name"), "drugs: name %q must be given, in lower case", f.Name)
	}
	if !hcpcsRE.MatchString(f.Code) {
		return l.errorf(it.at("code"), "drug %s: code %q is not a HCPCS code like \"J2278\"", f.Name, f.Code)
	}
	unit, err := l.quantity(it, "drug "+f.Name+": unit_mcg", f.UnitMCG, true)
	if err != nil {
		return err
	}
	d := vial.Drug{Name: f.Name, Code: f.Code, Aliases: f.Aliases, UnitMCG: unit, UnitText: f.UnitText, Source: f.Source}
	if f.Label != nil {
		lb := f.Label
		p := "drug " + f.Name + ": label."
		var errs [5]error
		d.Label.StartMaxMCGPerDay, errs[0] = l.quantity(it, p+"start_max_mcg_per_day", lb.StartMax, false)
		d.Label.StepMaxMCGPerDay, errs[1] = l.quantity(it, p+"step_max_mcg_per_day", lb.StepMax, false)
		d.Label.MaxMCGPerDay, errs[2] = l.quantity(it, p+"max_mcg_per_day", lb.Max, false)
		d.Label.NaiveRinseML, errs[3] = l.quantity(it, p+"naive_rinse_ml", lb.NaiveRinseML, false)
		d.Label.NaiveRinseMCGPerML, errs[4] = l.quantity(it, p+"naive_rinse_mcg_per_ml", lb.NaiveRinseMCGPerML, false)
		if err := firstErr(errs[:]); err != nil {
			return err
		}
		for name, v := range map[string]int{"max_increases_per_week": lb.MaxIncreasesPerWeek, "min_hours_between_increases": lb.MinHoursBetweenUps,
			"naive_refill_days": lb.NaiveRefillDays, "diluted_refill_days": lb.DilutedRefillDays, "undiluted_refill_days": lb.UndilutedRefillDays} {
			if v < 0 || v > 3650 {
				return l.errorf(it.at(name), "%s%s must be between 0 and 3650, not %d", p, name, v)
			}
		}
		d.Label.MaxIncreasesPerWeek, d.Label.MinHoursBetweenUps = lb.MaxIncreasesPerWeek, lb.MinHoursBetweenUps
		d.Label.NaiveRefillDays, d.Label.DilutedRefillDays, d.Label.UndilutedRefillDays = lb.NaiveRefillDays, lb.DilutedRefillDays, lb.UndilutedRefillDays
		d.Label.Source = lb.Source
		if err := l.fillRules(it, p, lb, &d.Label); err != nil {
			return err
		}
	}
	i := len(c.Drugs)
	for _, k := range append([]string{f.Name, f.Code}, f.Aliases...) {
		key := strings.ToUpper(strings.TrimSpace(k))
		if key == "" {
			return l.errorf(it.at("aliases"), "drug %s: an alias is empty; remove it", f.Name)
		}
		if j, dup := c.drugByKey[key]; dup && j != i {
			return l.errorf(it.offset, "drug %s: %q already names drug %s; each name, code and alias must name one drug", f.Name, k, c.Drugs[j].Name)
		}
		c.drugByKey[key] = i
	}
	c.Drugs = append(c.Drugs, d)
	return nil
}

func firstErr(errs []error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func (l *loader) product(c *Catalog, it item) error {
	var f fileProduct
	if err := l.strict(it, "products", &f); err != nil {
		return err
	}
	n, err := vial.ParseNDC(f.NDC)
	if err != nil {
		return l.errorf(it.at("ndc"), "products: ndc %v", err)
	}
	if !strings.Contains(f.NDC, "-") || len(strings.ReplaceAll(f.NDC, "-", "")) != 10 {
		return l.errorf(it.at("ndc"), "product %s: ndc must be written as printed on the label, 10 digits with hyphens (70720-720-10)", f.NDC)
	}
	d, ok := c.Drug(f.Drug)
	if !ok || d.Name != f.Drug {
		return l.errorf(it.at("drug"), "product %s: drug %q is not a drug name of this catalog; add it under \"drugs\" first", f.NDC, f.Drug)
	}
	conc, err := l.quantity(it, "product "+f.NDC+": mcg_per_ml", f.MCGPerML, true)
	if err != nil {
		return err
	}
	ml, err := l.quantity(it, "product "+f.NDC+": ml", f.ML, true)
	if err != nil {
		return err
	}
	if f.SingleDose == nil {
		return l.errorf(it.offset, "product %s: single_dose is missing; say true (single-dose vial, JW/JZ apply) or false (multi-dose)", f.NDC)
	}
	if _, dup := c.productBy[n]; dup {
		return l.errorf(it.at("ndc"), "product %s: NDC %s is listed twice; keep one", f.NDC, n)
	}
	c.productBy[n] = len(c.Products)
	c.Products = append(c.Products, vial.Product{NDC: n, Printed: f.NDC, Drug: f.Drug, MCGPerML: conc, ML: ml,
		SingleDose: *f.SingleDose, Labeler: f.Labeler, Verify: f.Verify, Source: f.Source})
	return nil
}

// fillRules reads how the label lets the drug be filled. p is the path
// prefix of its fields ("drug ziconotide: label.").
func (l *loader) fillRules(it item, p string, lb *fileLabel, out *vial.Label) error {
	strengths := func(field string, raws []json.RawMessage) ([]decimal.Decimal, error) {
		var ds []decimal.Decimal
		for j, raw := range raws {
			d, err := l.quantity(it, fmt.Sprintf("%s%s[%d]", p, field, j), raw, true)
			if err != nil {
				return nil, err
			}
			ds = append(ds, d)
		}
		return ds, nil
	}
	var err error
	if out.UndilutedOnly, err = strengths("undiluted_only_mcg_per_ml", lb.UndilutedOnly); err != nil {
		return err
	}
	if out.UndilutedOnceEstablished, err = strengths("undiluted_once_established_mcg_per_ml", lb.UndilutedOnceEstablished); err != nil {
		return err
	}
	if out.NaiveFillMCGPerML, err = l.quantity(it, p+"naive_fill_mcg_per_ml", lb.NaiveFill, false); err != nil {
		return err
	}
	if lb.EstablishedDays < 0 || lb.EstablishedDays > 365 || (len(lb.UndilutedOnceEstablished) > 0 && lb.EstablishedDays == 0) {
		return l.errorf(it.at("established_dose_days"), "%sestablished_dose_days must be a whole number of days from 1 to 365 (no dose change in that many days makes a dose established), not %d", p, lb.EstablishedDays)
	}
	for j, name := range lb.Diluents {
		if strings.TrimSpace(name) == "" {
			return l.errorf(it.at("diluents"), "%sdiluents[%d] is empty; write the diluent's name, such as \"preservative-free 0.9%% sodium chloride\"", p, j)
		}
	}
	out.EstablishedDays, out.Diluents, out.FillSource = lb.EstablishedDays, lb.Diluents, lb.FillSource
	return nil
}

// Saline is the name labelled_drugs gives preservative-free saline, which a
// pump may be labelled for but which is no catalog drug (nothing is billed).
const Saline = "saline"

func (l *loader) pump(c *Catalog, i int, it item) error {
	var f filePump
	if err := l.strict(it, "pumps", &f); err != nil {
		return err
	}
	if f.ID == "" {
		return l.errorf(it.offset, "pumps: id is missing; add one such as \"synchromed-ii-20\"")
	}
	if _, dup := c.Pump(f.ID); dup {
		return l.errorf(it.at("id"), "pump %s is listed twice; keep one", f.ID)
	}
	res, err := l.quantity(it, "pump "+f.ID+": reservoir_ml", f.ReservoirML, true)
	if err != nil {
		return err
	}
	alarm, err := l.quantity(it, "pump "+f.ID+": alarm_ml", f.AlarmML, true)
	if err != nil {
		return err
	}
	disc, err := l.quantity(it, "pump "+f.ID+": discrepancy_ml", f.DiscrepancyML, true)
	if err != nil {
		return err
	}
	if alarm.GreaterThanOrEqual(res) {
		return l.errorf(it.at("alarm_ml"), "pump %s: alarm_ml %s must be less than reservoir_ml %s", f.ID, alarm, res)
	}
	at := fmt.Sprintf("pumps[%d]", i)
	if f.LabelledDrugs != nil && len(f.LabelledDrugs) == 0 {
		return l.errorf(it.at("labelled_drugs"), "%s.labelled_drugs is empty; list the drugs the device is labelled for, or leave the field out", at)
	}
	for j, name := range f.LabelledDrugs {
		if d, ok := c.Drug(name); name != Saline && (!ok || d.Name != name) {
			return l.errorf(it.at("labelled_drugs"), "%s.labelled_drugs[%d] %q is not a drug name of this catalog; name the drug as under \"drugs\" (ziconotide), or saline", at, j, clip(name))
		}
		if slices.Index(f.LabelledDrugs, name) < j {
			return l.errorf(it.at("labelled_drugs"), "%s.labelled_drugs[%d] %q is listed twice; keep one", at, j, name)
		}
	}
	if f.LabelledDrugs != nil && strings.TrimSpace(f.LabelledSource) == "" {
		return l.errorf(it.at("labelled_drugs"), "%s.labelled_source is missing; say where the device's drug labelling comes from", at)
	}
	c.Pumps = append(c.Pumps, pump.Model{ID: f.ID, Device: f.Device, ReservoirML: res, AlarmML: alarm, DiscrepancyML: disc, Source: f.Source,
		LabelledDrugs: f.LabelledDrugs, LabelledSource: f.LabelledSource})
	return nil
}

func (l *loader) service(c *Catalog, it item) error {
	var f fileService
	if err := l.strict(it, "services", &f); err != nil {
		return err
	}
	if !hcpcsRE.MatchString(f.Code) {
		return l.errorf(it.at("code"), "services: code %q is not a CPT code like \"95990\"", f.Code)
	}
	if _, dup := c.Service(f.Code); dup {
		return l.errorf(it.at("code"), "service %s is listed twice; keep one", f.Code)
	}
	if !f.Refill && !f.Reprogram {
		return l.errorf(it.offset, "service %s: say what it covers, \"refill\": true, \"reprogram\": true, or both", f.Code)
	}
	c.Services = append(c.Services, billing.Service{Code: f.Code, Description: f.Description, Refill: f.Refill, Reprogram: f.Reprogram, Excludes: f.Excludes})
	return nil
}
