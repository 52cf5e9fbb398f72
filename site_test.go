package pumpledger_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger"
)

// siteInput is a practice as its biller would write it.
const siteInput = `{"name":"Riverside Pain Associates","npi":"1234567893","tax_id":"12-3456789","taxonomy":"208vp0014x",
	"address":{"line1":"100 Main St","line2":"Suite 200","city":"Columbus","state":"OH","postal_code":"43215-1001"},
	"submitter_id":"RIVERSIDE01","contact":"Billing Office","phone":"(614) 555-0100",
	"receiver_id":"CLEARHOUSE","receiver_name":"Example Clearinghouse",
	"payers":{"medicare-part-b":{"id":"15202","name":"CGS Medicare B"},"commercial":{"id":"87726","name":"Example Health","filing":"CI"}},
	"fees":{"effective":"2026-01-01","charges":{"95990":"180.00","J2278":"9.5","J7799":850}}}`

func TestParseSite(t *testing.T) {
	s, err := pumpledger.ParseSite(strings.NewReader(siteInput))
	if err != nil {
		t.Fatal(err)
	}
	// As a claim carries them: digits only, codes in capitals, defaults.
	if s.TaxID != "123456789" || s.Phone != "6145550100" || s.Taxonomy != "208VP0014X" || s.PlaceOfService != "11" ||
		s.SubmitterName != s.Name || s.Production || s.Payers["commercial"].Filing != "CI" {
		t.Errorf("parsed as %+v", s)
	}
	if c, ok := s.Fees.Charge("J2278"); !ok || c.String() != "9.5" {
		t.Errorf("J2278 charge %v %v, want 9.5", c, ok)
	}
	if got := s.Payers["medicare-part-b"].FilingCode("medicare-part-b"); got != "MB" {
		t.Errorf("Medicare's filing code %s, want MB", got)
	}
	if got := s.Payers["medicare-part-b"].FilingCode("commercial"); got != "CI" {
		t.Errorf("a commercial profile's filing code %s, want CI", got)
	}
}

// Each refusal names its field and says what to write.
func TestParseSiteRefuses(t *testing.T) {
	for _, tt := range []struct{ field, raw, want string }{
		{"npi", `"1234567890"`, `npi 1234567890 fails the NPI check digit; check it against NPPES, a digit is wrong or two are swapped.`},
		{"npi", `"123456789"`, `npi must be the 10-digit NPI, not "123456789".`},
		{"npi", "", `npi is missing; add it.`},
		{"tax_id", `"123-45-6789"`, `tax_id must be the practice's 9-digit EIN, like "12-3456789", not "123-45-6789".`},
		{"taxonomy", `"208VP0014"`, `taxonomy must be a 10-character NUCC provider taxonomy code ending in X, like "208VP0014X", not "208VP0014".`},
		{"address.postal_code", `"43215"`, `address.postal_code must be the 9-digit ZIP+4 (a claim's billing provider needs it), like "43215-1234", not "43215".`},
		{"address", "", `address is missing; add the billing provider's street address as an object.`},
		{"name", `"Pain*Care"`, `name "Pain*Care" holds "*", which an X12 claim uses as a delimiter; write it without * : ~ ^.`},
		{"submitter_id", `"A VERY LONG SUBMITTER ID"`, `submitter_id must be the clearinghouse's id: 1 to 15 letters or digits, not "A VERY LONG SUBMITTER ID".`},
		{"phone", `"555-0100"`, `phone must be the contact's 10-digit US number, like "614-555-0100", not "555-0100".`},
		{"place_of_service", `"office"`, `place_of_service must be the two-digit CMS place of service code, like "11" (office), not "office".`},
		{"payers", `{}`, `payers is empty; give each payer profile's payer id, like {"medicare-part-b": {"id": "15202", "name": "CGS MEDICARE B"}}.`},
		{"payers", `{"commercial":{"id":"87726"}}`, `payers.commercial.name is missing; add it.`},
		{"payers", `{"commercial":{"id":"87726","name":"X","filing":"XX"}}`, `payers.commercial.filing must be "09", "11", "12", "13", "14", "15", "16", "17", "AM", "BL", "CH", "CI", "DS", "FI", "HM", "LM", "MA", "MB", "MC", "OF", "TV", "VA", "WC" or "ZZ", not "XX".`},
		{"fees", `{"charges":{"95990":"1"}}`, `fees.effective is missing; add it.`},
		{"fees", `{"effective":"2026-01-01","charges":{}}`, `fees.charges is empty; give the charge of each code billed, like {"95990": "180.00", "J2278": "9.50"}.`},
		{"fees", `{"effective":"2026-01-01","charges":{"j2278":"9.50"}}`, `fees.charges: "j2278" is not a HCPCS or CPT code; write it like J2278 or 95990, in capitals.`},
		{"fees", `{"effective":"2026-01-01","charges":{"J2278":"9.505"}}`, `fees.charges.J2278 must be a charge in dollars and cents, more than 0 and less than 1000000, like "180.00", not 9.505.`},
		{"fees", `{"effective":"2026-01-01","charges":{"J2278":"0"}}`, `fees.charges.J2278 must be a charge in dollars and cents, more than 0 and less than 1000000, like "180.00", not 0.`},
		{"fees", `{"effective":"2026-01-01","charges":{"J2278":"1"},"from":"x"}`, `Unknown field "fees.from"; remove it or check its spelling.`},
		{"fax", `"1"`, `Unknown field "fax"; remove it or check its spelling.`},
	} {
		_, err := pumpledger.ParseSite(strings.NewReader(set(siteInput, tt.field, tt.raw)))
		var e *pumpledger.Error
		if !errors.As(err, &e) || e.Code != pumpledger.EINVALID || e.Message != tt.want {
			t.Errorf("%s = %s: %v, want %q", tt.field, tt.raw, err, tt.want)
		} else if !strings.Contains(e.Message, e.Field) {
			// The field an error names is the one its sentence names.
			t.Errorf("%s = %s: field %q, not named in %q", tt.field, tt.raw, e.Field, e.Message)
		}
	}
}

// The NPI's check digit is the Luhn digit of 80840 and its first nine
// (CMS's worked example: 123456789 gives 3).
func TestCheckNPI(t *testing.T) {
	for npi, ok := range map[string]bool{"1234567893": true, "1245319599": true, "1234567890": false, "2234567893": false, "1234567839": false} {
		if err := pumpledger.CheckNPI("npi", npi); (err == nil) != ok {
			t.Errorf("CheckNPI(%s) = %v, want ok %v", npi, err, ok)
		}
	}
}

func FuzzParseSite(f *testing.F) {
	fuzzInput(f, pumpledger.ParseSite, siteInput, set(siteInput, "production", "true"), set(siteInput, "address.line2", ""),
		`{"fees":{"effective":"2026-01-01","charges":{"J2278":1e999}}}`, `{"payers":{"":{}}}`, `{"npi":"12345678 3"}`)
}
