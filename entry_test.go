package pumpledger_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/shopspring/decimal"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// specRefill is the refill input of SPEC §7, with a real UUID.
const specRefill = `{
  "id": "5F0C6B1E-8D2A-4C1E-9A57-0B6F1D2E3C4A",
  "mrn": "MRN-1001",
  "pump_serial": "NGV123456",
  "performed_at": "2026-03-02T09:30:00-05:00",
  "nurse": "jdoe",
  "witness": "asmith",
  "residual_ml": "3.1",
  "rinse_ml": "0",
  "fill_ml": "20",
  "solution": [{"drug": "ziconotide", "mcg_per_ml": "5"}],
  "vials": [{"ndc": "70720-0720-10", "count": 1, "lot": "A123", "expires": "2027-06-30"}],
  "diluent_ml": "19",
  "dose": {"drug": "ziconotide", "mcg_per_day": "2.4"},
  "procedure": "95990",
  "note": ""
}`

func parse(t *testing.T, text string) pumpledger.Refill {
	t.Helper()
	r, err := pumpledger.ParseRefill(strings.NewReader(text))
	if err != nil {
		t.Fatalf("ParseRefill: %v", err)
	}
	return r
}

func TestParseRefillSPEC(t *testing.T) {
	r := parse(t, specRefill)
	if r.ID != "5f0c6b1e-8d2a-4c1e-9a57-0b6f1d2e3c4a" {
		t.Errorf("ID = %q, want the UUID in lower case", r.ID)
	}
	if r.MRN != "MRN-1001" || r.PumpSerial != "NGV123456" || r.Nurse != "jdoe" || r.Witness != "asmith" || r.Procedure != "95990" || r.Note != "" {
		t.Errorf("strings = %+v", r)
	}
	if want := time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC); !r.PerformedAt.UTC.Equal(want) || r.PerformedAt.UTC.Location() != time.UTC || r.PerformedAt.Offset != -5*3600 {
		t.Errorf("PerformedAt = %+v, want %s at offset -05:00", r.PerformedAt, want)
	}
	if r.PerformedAt.String() != "2026-03-02T09:30:00-05:00" || r.PerformedAt.Date() != "2026-03-02" {
		t.Errorf("PerformedAt prints %s, date %s", r.PerformedAt, r.PerformedAt.Date())
	}
	for _, q := range []struct {
		name string
		got  decimal.Decimal
		want string
	}{{"residual_ml", r.ResidualML, "3.1"}, {"rinse_ml", r.RinseML, "0"}, {"fill_ml", r.FillML, "20"}, {"diluent_ml", r.DiluentML, "19"},
		{"mcg_per_ml", r.Solution[0].MCGPerML, "5"}, {"mcg_per_day", r.Dose.MCGPerDay, "2.4"}} {
		if !q.got.Equal(dec(q.want)) {
			t.Errorf("%s = %s, want %s", q.name, q.got, q.want)
		}
	}
	if len(r.Solution) != 1 || r.Solution[0].Drug != "ziconotide" || r.Dose.Drug != "ziconotide" {
		t.Errorf("Solution %+v, Dose %+v", r.Solution, r.Dose)
	}
	if len(r.Vials) != 1 || r.Vials[0] != (pumpledger.VialUse{NDC: "70720-0720-10", Count: 1, Lot: "A123", Expires: "2027-06-30"}) {
		t.Errorf("Vials = %+v", r.Vials)
	}
}

// edit returns specRefill with one field replaced (raw JSON text) or, when
// raw is "", removed. path is "field" or "field.sub" or "list[0].sub".
func edit(path, raw string) string {
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(specRefill))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		panic(err)
	}
	var parent map[string]any = m
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		name, idx, isList := strings.Cut(p, "[")
		if isList {
			i, _ := strconv.Atoi(strings.TrimSuffix(idx, "]"))
			parent = parent[name].([]any)[i].(map[string]any)
		} else {
			parent = parent[name].(map[string]any)
		}
	}
	last := parts[len(parts)-1]
	if raw == "" {
		delete(parent, last)
	} else {
		parent[last] = json.RawMessage(raw)
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestParseRefillExactNumbers(t *testing.T) {
	tests := []struct{ raw, want string }{
		{`3.1`, "3.1"}, {`"3.1"`, "3.1"}, {`" 3.1 "`, "3.1"}, {`0.1`, "0.1"}, {`1e1`, "10"}, {`"1E+1"`, "10"}, {`2.50`, "2.5"},
		{`0.000000001`, "0.000000001"}, {`99.999999999`, "99.999999999"}, {`1.10000000000`, "1.1"},
		{`0`, "0"}, {`null`, "0"}, // null is absent; a residual absent is refused below, so rinse_ml here
	}
	for _, tt := range tests {
		field := "residual_ml"
		if tt.raw == "null" {
			field = "rinse_ml"
		}
		r := parse(t, edit(field, tt.raw))
		got := r.ResidualML
		if field == "rinse_ml" {
			got = r.RinseML
		}
		// Exact: the same rational number as the text, not a float64 near it.
		if got.Rat().Cmp(dec(tt.want).Rat()) != 0 {
			t.Errorf("%s %s = %s, want exactly %s", field, tt.raw, got, tt.want)
		}
	}
}

func TestParseRefillOptional(t *testing.T) {
	r := parse(t, edit("id", ""))
	if r.ID != "" {
		t.Errorf("ID = %q, want empty (made later)", r.ID)
	}
	r = parse(t, edit("witness", "null"))
	if r.Witness != "" {
		t.Errorf("Witness = %q", r.Witness)
	}
	r = parse(t, edit("rinse_ml", ""))
	if !r.RinseML.IsZero() {
		t.Errorf("RinseML = %s, want 0 when absent", r.RinseML)
	}
	r = parse(t, edit("vials[0].expires", ""))
	if r.Vials[0].Expires != "" {
		t.Errorf("Expires = %q", r.Vials[0].Expires)
	}
	r = parse(t, edit("dose.mcg_per_day", `"0"`))
	if !r.Dose.MCGPerDay.IsZero() {
		t.Errorf("zero dose = %s", r.Dose.MCGPerDay)
	}
	r = parse(t, edit("performed_at", `"2026-03-02T23:30:00-05:00"`))
	if r.PerformedAt.Date() != "2026-03-02" || r.PerformedAt.UTC.Format(time.DateOnly) != "2026-03-03" {
		t.Errorf("date of service %s (UTC %s), want the wall-clock date 2026-03-02", r.PerformedAt.Date(), r.PerformedAt.UTC)
	}
}

func TestParseRefillRefused(t *testing.T) {
	tests := []struct {
		name, text, field, want string
	}{
		{"mrn missing", edit("mrn", ""), "mrn", "mrn is missing"},
		{"mrn empty", edit("mrn", `"  "`), "mrn", "mrn is empty"},
		{"mrn a number", edit("mrn", `1001`), "mrn", "mrn must be a string"},
		{"mrn with an X12 segment terminator", edit("mrn", `"MRN~1001"`), "mrn", `mrn "MRN~1001" holds "~", which an X12 claim uses as a delimiter`},
		{"mrn with an X12 element separator", edit("mrn", `"MRN*1001"`), "mrn", `holds "*"`},
		{"mrn with an X12 component separator", edit("mrn", `"MRN:1001"`), "mrn", `holds ":"`},
		{"mrn with an X12 repetition separator", edit("mrn", `"MRN^1001"`), "mrn", `holds "^"`},
		{"mrn of 30 characters", edit("mrn", `"`+strings.Repeat("M", 30)+`"`), "mrn", "mrn is 30 characters long, more than the 29 an X12 claim identifier leaves"},
		{"nurse missing", edit("nurse", ""), "nurse", "nurse is missing"},
		{"witness_signed sent", edit("witness_signed", `true`), "witness_signed", "witness_signed is set by the server"},
		{"acknowledged not a list", edit("acknowledged", `"ok"`), "acknowledged", "acknowledged must be a list"},
		{"acknowledged with an empty text", edit("acknowledged", `["seen", " "]`), "acknowledged[1]", "acknowledged[1] is empty"},
		{"acknowledged with an escape", edit("acknowledged", `["seen\u001b[2J"]`), "acknowledged[0]", "acknowledged[0]"},
		{"pump_serial missing", edit("pump_serial", ""), "pump_serial", "pump_serial is missing"},
		{"procedure missing", edit("procedure", ""), "procedure", "procedure is missing"},
		{"id not a UUID", edit("id", `"refill-1"`), "id", "id must be a UUID"},
		{"performed_at without offset", edit("performed_at", `"2026-03-02T09:30:00"`), "performed_at", "performed_at must be a date and time with its UTC offset"},
		{"performed_at a date", edit("performed_at", `"2026-03-02"`), "performed_at", "performed_at must be"},
		{"performed_at long ago", edit("performed_at", `"1800-03-02T09:30:00Z"`), "performed_at", "performed_at must be"},
		{"performed_at missing", edit("performed_at", ""), "performed_at", "performed_at is missing"},
		{"residual negative", edit("residual_ml", `"-1"`), "residual_ml", "residual_ml must be zero or more mL, not -1"},
		{"residual missing", edit("residual_ml", ""), "residual_ml", "residual_ml is missing"},
		{"residual not a number", edit("residual_ml", `"3,1"`), "residual_ml", `residual_ml must be a decimal number such as "2.5", not "3,1"`},
		{"residual a boolean", edit("residual_ml", `true`), "residual_ml", "residual_ml must be a decimal number"},
		{"residual huge", edit("residual_ml", `1e999`), "residual_ml", "residual_ml is too large"},
		{"residual too fine", edit("residual_ml", `"0.0000000001"`), "residual_ml", "residual_ml has more than 9 decimal places"},
		{"rinse negative", edit("rinse_ml", `-6`), "rinse_ml", "rinse_ml must be zero or more mL, not -6"},
		{"fill zero", edit("fill_ml", `0`), "fill_ml", "fill_ml must be more than zero mL, not 0"},
		{"fill negative", edit("fill_ml", `"-20"`), "fill_ml", "fill_ml must be more than zero mL, not -20"},
		{"fill missing", edit("fill_ml", ""), "fill_ml", "fill_ml is missing"},
		{"diluent negative", edit("diluent_ml", `-1`), "diluent_ml", "diluent_ml must be zero or more mL, not -1"},
		{"diluent missing", edit("diluent_ml", ""), "diluent_ml", "diluent_ml is missing"},
		{"solution empty", edit("solution", `[]`), "solution", "solution is empty"},
		{"solution not a list", edit("solution", `{"drug": "ziconotide"}`), "solution", "solution must be a list"},
		{"concentration zero", edit("solution[0].mcg_per_ml", `"0"`), "solution[0].mcg_per_ml", "solution[0].mcg_per_ml must be more than zero, not 0"},
		{"concentration negative", edit("solution[0].mcg_per_ml", `-5`), "solution[0].mcg_per_ml", "solution[0].mcg_per_ml must be more than zero, not -5"},
		{"concentration missing", edit("solution[0].mcg_per_ml", ""), "solution[0].mcg_per_ml", "solution[0].mcg_per_ml is missing"},
		{"solution drug twice", edit("solution", `[{"drug": "ziconotide", "mcg_per_ml": "5"}, {"drug": "ziconotide", "mcg_per_ml": "25"}]`),
			"solution[1].drug", "solution[1].drug names ziconotide twice"},
		{"solution unknown field", edit("solution[0].mcg_per_mL", `"5"`), "solution[0].mcg_per_mL", `Unknown field "solution[0].mcg_per_mL"`},
		{"vials missing", edit("vials", ""), "vials", "vials is missing"},
		{"vial count zero", edit("vials[0].count", `0`), "vials[0].count", "vials[0].count must be between 1 and 200 containers, not 0"},
		{"vial count negative", edit("vials[0].count", `-1`), "vials[0].count", "vials[0].count must be between 1 and 200"},
		{"vial count fractional", edit("vials[0].count", `1.5`), "vials[0].count", "vials[0].count must be a whole number, not 1.5"},
		{"vial count huge", edit("vials[0].count", `201`), "vials[0].count", "vials[0].count must be between 1 and 200"},
		{"vial ndc missing", edit("vials[0].ndc", ""), "vials[0].ndc", "vials[0].ndc is missing"},
		{"vial expires not a date", edit("vials[0].expires", `"06/2027"`), "vials[0].expires", `vials[0].expires must be a date like "2027-06-30", not "06/2027"`},
		{"vial expires impossible", edit("vials[0].expires", `"2027-02-30"`), "vials[0].expires", "vials[0].expires must be a date"},
		{"dose missing", edit("dose", ""), "dose", "dose is missing"},
		{"dose negative", edit("dose.mcg_per_day", `"-2.4"`), "dose.mcg_per_day", "dose.mcg_per_day must be zero or more mcg/day, not -2.4"},
		{"dose amount missing", edit("dose.mcg_per_day", ""), "dose.mcg_per_day", "dose.mcg_per_day is missing"},
		{"dose drug missing", edit("dose.drug", ""), "dose.drug", "dose.drug is missing"},
		{"dose unknown field", edit("dose.mcg_per_hour", `0.1`), "dose.mcg_per_hour", `Unknown field "dose.mcg_per_hour"`},
		{"dose not an object", edit("dose", `"2.4"`), "dose", "dose must be a JSON object"},
		{"misspelt field", edit("residual", `"3.1"`), "residual", `Unknown field "residual"`},
		{"not JSON", `{"mrn": "MRN-1001",`, "", "The input is not valid JSON"},
		{"null", `null`, "", "must be a JSON object"},
		{"two objects", specRefill + specRefill, "", "more than one JSON value"},
		{"too large", `{"note": "` + strings.Repeat("x", pumpledger.MaxInputBytes) + `"}`, "", "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := pumpledger.ParseRefill(strings.NewReader(tt.text))
			if err == nil {
				t.Fatalf("ParseRefill accepted it: %+v", r)
			}
			var e *pumpledger.Error
			if !errors.As(err, &e) || e.Code != pumpledger.EINVALID {
				t.Fatalf("err = %#v, want an EINVALID *Error", err)
			}
			if e.Field != tt.field {
				t.Errorf("Field = %q, want %q", e.Field, tt.field)
			}
			if !strings.Contains(e.Message, tt.want) {
				t.Errorf("Message = %q, want it to contain %q", e.Message, tt.want)
			}
			if tt.field != "" && !strings.Contains(e.Message, tt.field) {
				t.Errorf("Message %q does not name the field %s", e.Message, tt.field)
			}
		})
	}
}

// manyVials is a vials list of n lines of count containers each.
func manyVials(n, count int) string {
	line := fmt.Sprintf(`{"ndc": "70720-0720-10", "count": %d, "lot": "A123", "expires": "2027-06-30"}`, count)
	return "[" + strings.Repeat(line+",", n-1) + line + "]"
}

// TestParseRefillBounds: what one refill cannot physically be is refused
// when parsed, naming the field, and fast. Before these bounds, a 923 KB
// input of 12,500 lines of 1,000 vials took 15.6 GB and 70 s to derive and
// billed 1.3 billion JW units with only a warning.
func TestParseRefillBounds(t *testing.T) {
	pathological := edit("vials", manyVials(12500, 1000))
	if len(pathological) < 900_000 || len(pathological) > pumpledger.MaxInputBytes {
		t.Fatalf("the pathological input is %d bytes", len(pathological))
	}
	// Its refusal costs a bounded amount of work: counted in allocations
	// (the same on every machine, unlike a time limit), about 0.83 million
	// today, where checking each of its lines before counting them took
	// 70 s. The bound leaves room for another Go release's decoder.
	if n := testing.AllocsPerRun(1, func() { pumpledger.ParseRefill(strings.NewReader(pathological)) }); n > 3_000_000 {
		t.Errorf("refusing 12,500 vials lines took %.0f allocations; it should stop at the count", n)
	}
	tests := []struct {
		name, text, field, want string // want "" : accepted
	}{
		{"12,500 vials lines of 1,000", pathological, "vials", "vials has 12500 lines, more than the 20 one refill can list"},
		{"21 vials lines", edit("vials", manyVials(21, 1)), "vials", "vials has 21 lines"},
		{"20 vials lines (accepted)", edit("vials", manyVials(20, 10)), "", ""},
		{"201 containers on one line", edit("vials", manyVials(1, 201)), "vials[0].count", "vials[0].count must be between 1 and 200 containers, not 201"},
		{"201 containers over three lines", edit("vials", manyVials(3, 67)), "vials", "vials counts more than the 200 containers one refill can use (201 through vials[2].count)"},
		{"200 containers (accepted)", edit("vials", manyVials(2, 100)), "", ""},
		{"fill 100.1 mL", edit("fill_ml", `"100.1"`), "fill_ml", "fill_ml is 100.1 mL, more than one refill can hold (at most 100 mL)"},
		{"fill 100 mL (accepted)", edit("fill_ml", `100`), "", ""},
		{"residual 500 mL", edit("residual_ml", `500`), "residual_ml", "residual_ml is 500 mL"},
		{"rinse 1000 mL", edit("rinse_ml", `1000`), "rinse_ml", "rinse_ml is 1000 mL"},
		{"diluent 101 mL", edit("diluent_ml", `101`), "diluent_ml", "diluent_ml is 101 mL"},
		{"concentration 100,001 mcg/mL", edit("solution[0].mcg_per_ml", `100001`), "solution[0].mcg_per_ml", "solution[0].mcg_per_ml is 100001 mcg/mL, stronger than any intrathecal solution (at most 100000)"},
		{"concentration 50 mg/mL (accepted)", edit("solution[0].mcg_per_ml", `50000`), "", ""},
		{"dose 100,001 mcg/day", edit("dose.mcg_per_day", `"100001"`), "dose.mcg_per_day", "dose.mcg_per_day is 100001 mcg/day, more than any intrathecal dose (at most 100000)"},
		{"dose 15 mg/day (accepted)", edit("dose.mcg_per_day", `15000`), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := pumpledger.ParseRefill(strings.NewReader(tt.text))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseRefill accepted it: %d vials lines", len(r.Vials))
			}
			var e *pumpledger.Error
			if !errors.As(err, &e) || e.Code != pumpledger.EINVALID || e.Field != tt.field {
				t.Fatalf("err = %#v, want an EINVALID *Error of field %q", err, tt.field)
			}
			if !strings.Contains(e.Message, tt.want) || !strings.Contains(e.Message, "; ") {
				t.Errorf("Message = %q, want it to contain %q and say what to do", e.Message, tt.want)
			}
		})
	}
	// The dose bound holds for a dose change too.
	_, err := pumpledger.ParseReprogram(strings.NewReader(strings.Replace(specReprogram, `"mcg_per_day": 2.4`, `"mcg_per_day": 1e6`, 1)))
	if e := (*pumpledger.Error)(nil); !errors.As(err, &e) || e.Field != "dose.mcg_per_day" {
		t.Errorf("a dose change of 1e6 mcg/day: %v", err)
	}
}

const specReprogram = `{"id": "0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5", "mrn": "MRN-1001", "pump_serial": "NGV123456",
 "performed_at": "2026-03-11T09:00:00Z", "clinician": "drsmith", "dose": {"drug": "J2277", "mcg_per_day": 2.4},
 "procedure": "62368", "note": "titration"}`

func TestParseReprogram(t *testing.T) {
	p, err := pumpledger.ParseReprogram(strings.NewReader(specReprogram))
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != "0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5" || p.MRN != "MRN-1001" || p.PumpSerial != "NGV123456" || p.Clinician != "drsmith" ||
		p.Procedure != "62368" || p.Note != "titration" || p.Dose.Drug != "J2277" || !p.Dose.MCGPerDay.Equal(dec("2.4")) ||
		p.PerformedAt.String() != "2026-03-11T09:00:00Z" {
		t.Errorf("ParseReprogram = %+v", p)
	}
	acked, err := pumpledger.ParseReprogram(strings.NewReader(strings.Replace(specReprogram, `"note": "titration"`, `"acknowledged": ["Dose above the label maximum."]`, 1)))
	if err != nil || len(acked.Acknowledged) != 1 || acked.Acknowledged[0] != "Dose above the label maximum." {
		t.Errorf("acknowledged: %q, %v", acked.Acknowledged, err)
	}
	for _, tt := range []struct{ name, text, field string }{
		{"clinician missing", strings.Replace(specReprogram, `"clinician": "drsmith", `, "", 1), "clinician"},
		{"negative dose", strings.Replace(specReprogram, `"mcg_per_day": 2.4`, `"mcg_per_day": -2.4`, 1), "dose.mcg_per_day"},
		{"a refill's field", strings.Replace(specReprogram, `"note": "titration"`, `"fill_ml": "20"`, 1), "fill_ml"},
		{"performed_at garbled", strings.Replace(specReprogram, `2026-03-11T09:00:00Z`, `2026-03-11T09:00Z`, 1), "performed_at"},
		{"acknowledged not a list", strings.Replace(specReprogram, `"note": "titration"`, `"acknowledged": "ok"`, 1), "acknowledged"},
		{"acknowledged with an escape", strings.Replace(specReprogram, `"note": "titration"`, `"acknowledged": ["seen\u001b[2J"]`, 1), "acknowledged[0]"},
	} {
		_, err := pumpledger.ParseReprogram(strings.NewReader(tt.text))
		var e *pumpledger.Error
		if !errors.As(err, &e) || e.Code != pumpledger.EINVALID || e.Field != tt.field || !strings.Contains(e.Message, tt.field) {
			t.Errorf("%s: err = %v, want EINVALID naming %s", tt.name, err, tt.field)
		}
	}
}

func TestParseQuantity(t *testing.T) {
	for _, s := range []string{"2.4", "20", "0", "-1", "1e1", "1E+2", "25e-1", "0.000000001", "999999999.999999999", "1.0000000000", "007"} {
		d, err := pumpledger.ParseQuantity(s)
		if err != nil {
			t.Errorf("ParseQuantity(%q): %v", s, err)
			continue
		}
		want, ok := new(big.Rat).SetString(s)
		if !ok || d.Rat().Cmp(want) != 0 {
			t.Errorf("ParseQuantity(%q) = %s, not exactly %s", s, d, want.RatString())
		}
	}
	for _, s := range []string{"", " 2", "2.", ".5", "+1", "1,5", "0x10", "NaN", "Inf", "1e1000", "1e9", "1000000000", "-1000000000",
		"0.0000000001", "1.0000000001", "١", "2.4 mcg", "1/2", "1e", "--1"} {
		if d, err := pumpledger.ParseQuantity(s); err == nil {
			t.Errorf("ParseQuantity(%q) = %s, want an error", s, d)
		}
	}
}

func TestInstant(t *testing.T) {
	a, err := pumpledger.ParseInstant("2026-03-01T09:00:00-05:00")
	if err != nil {
		t.Fatal(err)
	}
	b, err := pumpledger.ParseInstant("2026-03-31T09:00:00-04:00")
	if err != nil {
		t.Fatal(err)
	}
	// Across the DST change the wall clocks show 30 days; 29 days 23 hours passed.
	if d := b.UTC.Sub(a.UTC); d != 29*24*time.Hour+23*time.Hour {
		t.Errorf("elapsed %s, want 719h", d)
	}
	if a.String() != "2026-03-01T09:00:00-05:00" || b.Date() != "2026-03-31" || a.Local().Hour() != 9 {
		t.Errorf("a = %s, b date %s", a, b.Date())
	}
	j, err := json.Marshal(a)
	if err != nil || string(j) != `"2026-03-01T09:00:00-05:00"` {
		t.Errorf("MarshalJSON = %s, %v", j, err)
	}
	var c pumpledger.Instant
	if err := json.Unmarshal(j, &c); err != nil || c != a {
		t.Errorf("UnmarshalJSON = %+v, %v; want %+v", c, err, a)
	}
	if err := json.Unmarshal([]byte(`"2026-03-01"`), &c); err == nil {
		t.Error("UnmarshalJSON accepted a date without a time")
	}
	if !(pumpledger.Instant{}).IsZero() || a.IsZero() {
		t.Error("IsZero")
	}
	if _, err := pumpledger.ParseInstant("0001-01-01T00:00:00Z"); err == nil {
		t.Error("ParseInstant accepted year 1")
	}
	n := pumpledger.NewInstant(time.Date(2026, 7, 1, 12, 0, 0, 0, time.FixedZone("", 2*3600)))
	if n.Offset != 7200 || n.UTC.Hour() != 10 || n.String() != "2026-07-01T12:00:00+02:00" {
		t.Errorf("NewInstant = %+v (%s)", n, n)
	}
}

func TestErrors(t *testing.T) {
	inv := pumpledger.Invalid("fill_ml", "fill_ml %s is too much.", "30")
	if inv.Code != pumpledger.EINVALID || inv.Field != "fill_ml" || inv.Error() != "fill_ml 30 is too much." {
		t.Errorf("Invalid = %#v", inv)
	}
	wrapped := fmt.Errorf("record: %w", pumpledger.Errorf(pumpledger.ENOTFOUND, "No patient %s.", "MRN-1"))
	for _, tt := range []struct {
		err       error
		code, msg string
	}{
		{nil, "", ""},
		{inv, pumpledger.EINVALID, "fill_ml 30 is too much."},
		{wrapped, pumpledger.ENOTFOUND, "No patient MRN-1."},
		{errors.New("disk full"), pumpledger.EINTERNAL, "Internal error: disk full"},
	} {
		if got := pumpledger.ErrorCode(tt.err); got != tt.code {
			t.Errorf("ErrorCode(%v) = %q, want %q", tt.err, got, tt.code)
		}
		if got := pumpledger.ErrorMessage(tt.err); got != tt.msg {
			t.Errorf("ErrorMessage(%v) = %q, want %q", tt.err, got, tt.msg)
		}
	}
}

// sameRefill compares two refills field by field, decimals by value.
func sameRefill(a, b pumpledger.Refill) bool {
	if a.ID != b.ID || a.MRN != b.MRN || a.PumpSerial != b.PumpSerial || !a.PerformedAt.UTC.Equal(b.PerformedAt.UTC) ||
		a.PerformedAt.Offset != b.PerformedAt.Offset || a.Nurse != b.Nurse || a.Witness != b.Witness ||
		!a.ResidualML.Equal(b.ResidualML) || !a.RinseML.Equal(b.RinseML) || !a.FillML.Equal(b.FillML) || !a.DiluentML.Equal(b.DiluentML) ||
		a.Dose.Drug != b.Dose.Drug || !a.Dose.MCGPerDay.Equal(b.Dose.MCGPerDay) || a.Procedure != b.Procedure || a.Note != b.Note ||
		len(a.Solution) != len(b.Solution) || len(a.Vials) != len(b.Vials) {
		return false
	}
	for i := range a.Solution {
		if a.Solution[i].Drug != b.Solution[i].Drug || !a.Solution[i].MCGPerML.Equal(b.Solution[i].MCGPerML) {
			return false
		}
	}
	for i := range a.Vials {
		if a.Vials[i] != b.Vials[i] {
			return false
		}
	}
	return true
}

// FuzzParseRefill: ParseRefill never panics; it refuses with an EINVALID error
// whose message names its field, or gives a refill that reads back unchanged
// from its own JSON. q is put in residual_ml, as a string and as a number: an
// accepted quantity is exactly the rational number its text says (no float64).
func FuzzParseRefill(f *testing.F) {
	f.Add([]byte(specRefill), "3.1")
	f.Add([]byte(edit("residual_ml", `1e1`)), "0.1")
	f.Add([]byte(edit("solution", `[{"drug": "ziconotide", "mcg_per_ml": 5}, {"drug": "morphine", "mcg_per_ml": "1000"}]`)), "1E+2")
	f.Add([]byte(edit("vials[0].count", `2.0`)), "0.000000001")
	f.Add([]byte(edit("dose", `null`)), "999999999.999999999")
	f.Add([]byte(`{"mrn": 1}`), "-0")
	f.Add([]byte(`[]`), "1e-999")
	f.Add([]byte(`{"residual_ml": "\u0031"}`), "٣")
	f.Add([]byte(``), "")
	f.Fuzz(func(t *testing.T, data []byte, q string) {
		check := func(data []byte) (pumpledger.Refill, error) {
			r, err := pumpledger.ParseRefill(bytes.NewReader(data))
			if err != nil {
				var e *pumpledger.Error
				if !errors.As(err, &e) || e.Code != pumpledger.EINVALID || e.Message == "" {
					t.Fatalf("err = %#v, want an EINVALID *Error", err)
				}
				if quoted := strconv.Quote(e.Field); !strings.Contains(e.Message, e.Field) && !strings.Contains(e.Message, quoted[1:len(quoted)-1]) {
					t.Fatalf("message %q does not name field %q", e.Message, e.Field)
				}
				return r, err
			}
			again, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			r2, err := pumpledger.ParseRefill(bytes.NewReader(again))
			if err != nil {
				t.Fatalf("the refill's own JSON %s is refused: %v", again, err)
			}
			if !sameRefill(r, r2) {
				t.Fatalf("the refill read back from %s differs: %+v, %+v", again, r, r2)
			}
			return r, nil
		}
		check(data)

		want, qerr := pumpledger.ParseQuantity(strings.TrimSpace(q)) // a field's blanks are trimmed
		quoted, _ := json.Marshal(q)
		forms := [][]byte{[]byte(edit("residual_ml", string(quoted)))}
		if n := strings.TrimSpace(q); n != "" && (n[0] == '-' || (n[0] >= '0' && n[0] <= '9')) && json.Valid([]byte(n)) {
			forms = append(forms, []byte(edit("residual_ml", n)))
		}
		for _, form := range forms {
			r, err := check(form)
			switch {
			case qerr == nil && !want.IsNegative() && !want.GreaterThan(decimal.NewFromInt(pumpledger.MaxML)):
				if err != nil {
					t.Fatalf("residual_ml %s refused: %v", form, err)
				}
				exact, ok := new(big.Rat).SetString(strings.TrimSpace(q))
				if !ok || r.ResidualML.Rat().Cmp(exact) != 0 {
					t.Fatalf("residual_ml %q read as %s, not exactly %v", q, r.ResidualML, exact)
				}
			case err == nil:
				t.Fatalf("residual_ml %q accepted as %s; ParseQuantity says %v", q, r.ResidualML, qerr)
			}
		}
	})
}

func FuzzParseReprogram(f *testing.F) {
	f.Add([]byte(`{"mrn":"MRN-1","pump_serial":"S1","performed_at":"2026-03-11T09:00:00-05:00","clinician":"drx","dose":{"drug":"ziconotide","mcg_per_day":"2.4"},"procedure":"62368"}`))
	f.Add([]byte(`{"mrn":"MRN-1","pump_serial":"S1","performed_at":"2026-03-11T09:00:00Z","clinician":"drx","dose":{"drug":"J2277","mcg_per_day":1e1},"procedure":"62368","note":"x"}`))
	f.Add([]byte(`{"dose":{"mcg_per_day":"-1"}}`))
	f.Add([]byte(`{"performed_at":"2026-02-30T09:00:00Z"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := pumpledger.ParseReprogram(bytes.NewReader(data))
		if err != nil {
			var e *pumpledger.Error
			if !errors.As(err, &e) || e.Code != pumpledger.EINVALID || e.Message == "" || strings.Count(e.Message, "\n") > 0 {
				t.Fatalf("err = %#v, want an EINVALID *Error of one line", err)
			}
			return
		}
		if r.Dose.MCGPerDay.IsNegative() || r.MRN == "" || r.PerformedAt.IsZero() {
			t.Fatalf("accepted a reprogram without its required fields: %+v", r)
		}
		again, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := pumpledger.ParseReprogram(bytes.NewReader(again))
		if err != nil || !r2.Dose.MCGPerDay.Equal(r.Dose.MCGPerDay) || !r2.PerformedAt.UTC.Equal(r.PerformedAt.UTC) || r2.PerformedAt.Offset != r.PerformedAt.Offset {
			t.Fatalf("the reprogram's own JSON %s reads back as %+v (%v)", again, r2, err)
		}
	})
}

// CheckQuantity passes what ParseQuantity gives and refuses, quickly, what
// only an altered stored entry could hold.
func TestCheckQuantity(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"0", true}, {"20", true}, {"2.5", true}, {"-1.25", true}, {"999999999.999999999", true},
		{"1.000000000000", true}, {"0e9999", true},
		{"1000000000", false}, {"1e9", false}, {"1e9999", false}, {"-1e9999", false},
		{"0.0000000001", false}, {"1e-9999", false}, {"1.0000000001", false},
	} {
		d, err := decimal.NewFromString(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if _, perr := pumpledger.ParseQuantity(tt.in); tt.ok && perr != nil && tt.in != "0e9999" {
			t.Errorf("ParseQuantity(%s) refuses what the table passes: %v", tt.in, perr)
		}
		err = pumpledger.CheckQuantity("fill_ml", d)
		if (err == nil) != tt.ok {
			t.Errorf("CheckQuantity(%s) = %v, want ok %v", tt.in, err, tt.ok)
		}
		if err != nil && !strings.HasPrefix(pumpledger.ErrorMessage(err), "fill_ml ") {
			t.Errorf("CheckQuantity(%s): %q does not name the field", tt.in, pumpledger.ErrorMessage(err))
		}
	}
}
