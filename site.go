package pumpledger

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/shopspring/decimal"
)

// Site is the practice that bills (SPEC §13): what a whole 837P carries
// beside the visits and the clinical record. Recorded with `pumpledger site
// set`; the site in force on a date of service is the one whose fee
// schedule is effective by then, the latest effective (then the latest
// recorded) winning.
type Site struct {
	ID string `json:"id"`
	// The billing provider (837P loop 2010AA).
	Name     string  `json:"name"`
	NPI      string  `json:"npi"`
	TaxID    string  `json:"tax_id"`   // EIN, 9 digits
	Taxonomy string  `json:"taxonomy"` // NUCC provider taxonomy, "208VP0014X"
	Address  Address `json:"address"`
	// The submitter (1000A, ISA06, GS02) and its contact, and the receiver
	// (1000B, ISA08, GS03): the clearinghouse's ids of both.
	SubmitterID   string `json:"submitter_id"`
	SubmitterName string `json:"submitter_name"`
	Contact       string `json:"contact"`
	Phone         string `json:"phone"` // 10 digits
	ReceiverID    string `json:"receiver_id"`
	ReceiverName  string `json:"receiver_name"`
	// Production: ISA15 "P"; otherwise interchanges are marked test ("T").
	Production bool `json:"production"`
	// PlaceOfService is CLM05-1, "11" (office) unless given.
	PlaceOfService string `json:"place_of_service"`
	// Payers are the payer ids (2010BB NM109) by payer profile id.
	Payers map[string]SitePayer `json:"payers"`
	Fees   FeeSchedule          `json:"fees"`
	Note   string               `json:"note"`
}

// SitePayer is a payer as the site's clearinghouse knows it.
type SitePayer struct {
	ID   string `json:"id"`   // NM109 payer id
	Name string `json:"name"` // NM103
	// Filing is SBR09, the claim filing indicator: MB (Medicare Part B),
	// MC (Medicaid), CI (commercial), ...; "" is MB for a profile whose id
	// begins "medicare", CI otherwise.
	Filing string `json:"filing,omitempty"`
}

// FeeSchedule is the practice's charge per billing unit of each code, from
// a date.
type FeeSchedule struct {
	Effective string                     `json:"effective"` // YYYY-MM-DD
	Charges   map[string]decimal.Decimal `json:"charges"`   // HCPCS/CPT code → charge per unit, USD
}

// FilingCode is the payer's SBR09 under profile id.
func (p SitePayer) FilingCode(profile string) string {
	switch {
	case p.Filing != "":
		return p.Filing
	case strings.HasPrefix(profile, "medicare"):
		return "MB"
	}
	return "CI"
}

// FilingCodes are SBR09's codes a pump clinic's payers use (X222A1).
var FilingCodes = []string{"09", "11", "12", "13", "14", "15", "16", "17", "AM", "BL", "CH", "CI", "DS", "FI", "HM", "LM", "MA", "MB", "MC", "OF", "TV", "VA", "WC", "ZZ"}

var (
	npiRE      = regexp.MustCompile(`^[0-9]{10}$`)
	einRE      = regexp.MustCompile(`^[0-9]{2}-?[0-9]{7}$`)
	taxonomyRE = regexp.MustCompile(`^[0-9]{3}[0-9A-Z]{6}X$`)
	zip9RE     = regexp.MustCompile(`^[0-9]{5}-?[0-9]{4}$`)
	posRE      = regexp.MustCompile(`^[0-9]{2}$`)
	phoneRE    = regexp.MustCompile(`^[0-9]{10}$`)
	x12IDRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._-]{0,14}$`)
)

// CheckNPI refuses an NPI that is not 10 digits whose last is the Luhn
// check digit of the other nine prefixed by 80840 (the card issuer prefix
// the NPI standard assigns: CMS, "Requirements for NPI check digit").
func CheckNPI(field, npi string) error {
	if !npiRE.MatchString(npi) {
		return Invalid(field, "%s must be the 10-digit NPI, not %q.", field, clip(npi))
	}
	if !luhn("80840" + npi) {
		return Invalid(field, "%s %s fails the NPI check digit; check it against NPPES, a digit is wrong or two are swapped.", field, npi)
	}
	return nil
}

// luhn says whether s, all digits, passes the Luhn check (its last digit
// the check digit).
func luhn(s string) bool {
	sum := 0
	for i := range len(s) {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// ParseSite reads the practice from JSON.
func ParseSite(r io.Reader) (Site, error) {
	var s Site
	return s, parseSteps(r, func(o *object) []func() error {
		return []func() error{
			func() (err error) { s.ID, err = o.id("id"); return },
			func() (err error) { s.Name, err = o.ident("name", true); return },
			func() (err error) {
				if s.NPI, err = o.str("npi", true); err != nil {
					return err
				}
				return CheckNPI("npi", s.NPI)
			},
			func() (err error) {
				if s.TaxID, err = o.str("tax_id", true); err != nil {
					return err
				}
				if !einRE.MatchString(s.TaxID) {
					return Invalid("tax_id", "tax_id must be the practice's 9-digit EIN, like \"12-3456789\", not %q.", clip(s.TaxID))
				}
				s.TaxID = strings.ReplaceAll(s.TaxID, "-", "")
				return nil
			},
			func() (err error) {
				if s.Taxonomy, err = o.str("taxonomy", true); err != nil {
					return err
				}
				if s.Taxonomy = strings.ToUpper(s.Taxonomy); !taxonomyRE.MatchString(s.Taxonomy) {
					return Invalid("taxonomy", "taxonomy must be a 10-character NUCC provider taxonomy code ending in X, like \"208VP0014X\", not %q.", clip(s.Taxonomy))
				}
				return nil
			},
			func() error {
				if _, ok := o.get("address"); !ok {
					return o.missing("address", "add the billing provider's street address as an object")
				}
				a, err := o.address("address")
				if err != nil {
					return err
				}
				// 2010AA N403: a billing provider's ZIP is the nine-digit ZIP+4.
				if !zip9RE.MatchString(a.PostalCode) {
					return Invalid("address.postal_code", "address.postal_code must be the 9-digit ZIP+4 (a claim's billing provider needs it), like \"43215-1234\", not %q.", a.PostalCode)
				}
				s.Address = *a
				return nil
			},
			func() (err error) { s.SubmitterID, err = o.x12ID("submitter_id"); return },
			func() (err error) { s.SubmitterName, err = o.ident("submitter_name", false); return },
			func() (err error) { s.Contact, err = o.ident("contact", true); return },
			func() (err error) {
				if s.Phone, err = o.str("phone", true); err != nil {
					return err
				}
				digits := strings.Map(func(r rune) rune {
					if r >= '0' && r <= '9' {
						return r
					}
					if strings.ContainsRune(" -().+", r) {
						return -1
					}
					return 'x'
				}, s.Phone)
				if len(digits) == 11 && digits[0] == '1' { // the country code
					digits = digits[1:]
				}
				if !phoneRE.MatchString(digits) {
					return Invalid("phone", "phone must be the contact's 10-digit US number, like \"614-555-0100\", not %q.", clip(s.Phone))
				}
				s.Phone = digits
				return nil
			},
			func() (err error) { s.ReceiverID, err = o.x12ID("receiver_id"); return },
			func() (err error) { s.ReceiverName, err = o.ident("receiver_name", true); return },
			func() error {
				b, err := o.boolean("production")
				if b != nil {
					s.Production = *b
				}
				return err
			},
			func() (err error) {
				if s.PlaceOfService, err = o.str("place_of_service", false); err != nil {
					return err
				}
				if s.PlaceOfService == "" {
					s.PlaceOfService = "11"
				} else if !posRE.MatchString(s.PlaceOfService) {
					return Invalid("place_of_service", "place_of_service must be the two-digit CMS place of service code, like \"11\" (office), not %q.", clip(s.PlaceOfService))
				}
				return nil
			},
			func() (err error) { s.Payers, err = o.sitePayers("payers"); return },
			func() (err error) { s.Fees, err = o.fees("fees"); return },
			func() (err error) { s.Note, err = o.str("note", false); return },
		}
	}, func() {
		if s.SubmitterName == "" {
			s.SubmitterName = s.Name
		}
	})
}

// x12ID reads an interchange id (ISA06, ISA08): 1 to 15 letters, digits,
// spaces, points, hyphens or underscores.
func (o *object) x12ID(f string) (string, error) {
	s, err := o.str(f, true)
	if err != nil {
		return "", err
	}
	if !x12IDRE.MatchString(s) {
		return "", Invalid(o.name(f), "%s must be the clearinghouse's id: 1 to 15 letters or digits, not %q.", o.name(f), clip(s))
	}
	return s, nil
}

// sitePayers reads the payer ids by payer profile id.
func (o *object) sitePayers(f string) (map[string]SitePayer, error) {
	d, err := o.object(f, true)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(d.raw))
	for k := range d.raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return nil, Invalid(o.name(f), "%s is empty; give each payer profile's payer id, like {\"medicare-part-b\": {\"id\": \"15202\", \"name\": \"CGS MEDICARE B\"}}.", o.name(f))
	}
	out := map[string]SitePayer{}
	for _, k := range keys {
		if err := CheckText(d.name(k), k, false); err != nil {
			return nil, err
		}
		p, err := d.object(k, true)
		if err != nil {
			return nil, err
		}
		var sp SitePayer
		for _, step := range []func() error{
			func() (err error) { sp.ID, err = p.ident("id", true); return },
			func() (err error) { sp.Name, err = p.ident("name", true); return },
			func() (err error) { sp.Filing, err = p.enum("filing", false, FilingCodes); return },
			p.done,
		} {
			if err := step(); err != nil {
				return nil, err
			}
		}
		out[k] = sp
	}
	return out, nil
}

// MaxCharge bounds one code's charge per unit: $1,000,000.
var MaxCharge = decimal.NewFromInt(1_000_000)

// fees reads the fee schedule.
func (o *object) fees(f string) (FeeSchedule, error) {
	var fs FeeSchedule
	d, err := o.object(f, true)
	if err != nil {
		return fs, err
	}
	if fs.Effective, err = d.date("effective", true); err != nil {
		return fs, err
	}
	c, err := d.object("charges", true)
	if err != nil {
		return fs, err
	}
	keys := make([]string, 0, len(c.raw))
	for k := range c.raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return fs, Invalid(d.name("charges"), "%s is empty; give the charge of each code billed, like {\"95990\": \"180.00\", \"J2278\": \"9.50\"}.", d.name("charges"))
	}
	fs.Charges = map[string]decimal.Decimal{}
	for _, k := range keys {
		if !hcpcsRE.MatchString(k) {
			// The field at fault is the schedule: the key is not a code.
			return fs, Invalid(d.name("charges"), "%s: %q is not a HCPCS or CPT code; write it like J2278 or 95990, in capitals.", d.name("charges"), clip(k))
		}
		v, _, err := c.decimal(k, true)
		if err != nil {
			return fs, err
		}
		if !v.IsPositive() || v.GreaterThanOrEqual(MaxCharge) || !v.Equal(v.Round(2)) {
			return fs, Invalid(c.name(k), "%s must be a charge in dollars and cents, more than 0 and less than 1000000, like \"180.00\", not %s.", c.name(k), v)
		}
		fs.Charges[k] = v
	}
	if err := c.done(); err != nil {
		return fs, err
	}
	return fs, d.done()
}

// Charge is the fee schedule's charge per unit of code.
func (f FeeSchedule) Charge(code string) (decimal.Decimal, bool) {
	c, ok := f.Charges[code]
	return c, ok
}

// String describes the site in one line, for a person.
func (s Site) String() string {
	return fmt.Sprintf("%s, NPI %s, fee schedule of %d codes effective %s", s.Name, s.NPI, len(s.Fees.Charges), s.Fees.Effective)
}
