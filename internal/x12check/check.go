// Package x12check is the tests' structural check of an 837P interchange
// against the 005010X222A1 rules of the segments and loops pumpledger
// writes: each element's presence, type, length and code values; the loop
// order; the hierarchy; the counts and control numbers of the envelope;
// and the claim-level rules that tie segments together (CLM02 the sum of
// the SV102s, diagnosis pointers into HI, REF*F8 on a replacement or void,
// each 2320 SBR01 a responsibility not named before, OI as CLM says,
// the description of a not-otherwise-classified code, the patient's level
// 2000C when the patient is not the subscriber and SBR02 with it). It is written from
// the implementation guide, apart from the writer, so that the two
// disagree when either is wrong; it knows only what the writer uses, and
// refuses any other segment.
package x12check

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// el is one simple element's rule: required, its type (AN, ID, DT, TM, N0,
// R), its minimum and maximum length, and for an ID the codes it takes.
type el struct {
	req      bool
	typ      string
	min, max int
	codes    []string
}

func r(typ string, min, max int, codes ...string) el { return el{true, typ, min, max, codes} }
func o(typ string, min, max int, codes ...string) el { return el{false, typ, min, max, codes} }

// composite marks an element checked by its segment's own rule.
var composite = el{typ: "composite"}

// skip is an element X222A1 does not use: it must be empty.
var skip = el{typ: "unused"}

// segments are the rules of each segment the writer uses (X222A1's, for
// the loops it writes them in).
var segments = map[string][]el{
	"ISA": {r("ID", 2, 2, "00"), r("AN", 10, 10), r("ID", 2, 2, "00"), r("AN", 10, 10), r("ID", 2, 2, "01", "14", "20", "27", "28", "29", "30", "33", "ZZ"), r("AN", 15, 15),
		r("ID", 2, 2, "01", "14", "20", "27", "28", "29", "30", "33", "ZZ"), r("AN", 15, 15), r("DT", 6, 6), r("TM", 4, 4), r("AN", 1, 1), r("ID", 5, 5, "00501"),
		r("N0", 9, 9), r("ID", 1, 1, "0", "1"), r("ID", 1, 1, "P", "T"), r("AN", 1, 1)},
	"GS":  {r("ID", 2, 2, "HC"), r("AN", 2, 15), r("AN", 2, 15), r("DT", 8, 8), r("TM", 4, 8), r("N0", 1, 9), r("ID", 1, 2, "X"), r("AN", 1, 12, "005010X222A1")},
	"ST":  {r("ID", 3, 3, "837"), r("AN", 4, 9), r("AN", 1, 35, "005010X222A1")},
	"BHT": {r("ID", 4, 4, "0019"), r("ID", 2, 2, "00", "18"), r("AN", 1, 50), r("DT", 8, 8), r("TM", 4, 8), r("ID", 2, 2, "31", "CH", "RP")},
	"OI":  {skip, skip, r("ID", 1, 1, "N", "W", "Y"), o("ID", 1, 1, "P"), skip, r("ID", 1, 1, "I", "Y")},
	// NM108 and NM109 are required but in 2010CA (the patient under a
	// subscriber, NM1*QC), which has no id: see rules.
	"NM1": {r("ID", 2, 3, "41", "40", "85", "IL", "PR", "QC"), r("ID", 1, 1, "1", "2"), r("AN", 1, 60), o("AN", 1, 35), o("AN", 1, 25), skip, o("AN", 1, 10), o("ID", 1, 2, "46", "XX", "MI", "PI"), o("AN", 2, 80)},
	"PER": {r("ID", 2, 2, "IC"), r("AN", 1, 60), r("ID", 2, 2, "TE", "EM", "FX"), r("AN", 1, 256)},
	"HL":  {r("AN", 1, 12), o("AN", 1, 12), r("ID", 1, 2, "20", "22", "23"), r("ID", 1, 1, "0", "1")},
	"PRV": {r("ID", 1, 3, "BI"), r("ID", 2, 3, "PXC"), r("AN", 10, 10)},
	"N3":  {r("AN", 1, 55), o("AN", 1, 55)},
	"N4":  {r("AN", 2, 30), r("ID", 2, 3), r("ID", 3, 15)},
	"REF": {r("ID", 2, 3, "EI", "G1", "F8"), r("AN", 1, 50)},
	// SBR02: in 2000B 18 or empty, in 2320 required (see rules).
	"SBR": {r("ID", 1, 1, "A", "B", "C", "D", "E", "F", "G", "H", "P", "S", "T", "U"), o("ID", 2, 2, "01", "18", "19", "20", "21", "39", "40", "53", "G8"), o("AN", 1, 50), o("AN", 1, 60), skip, skip, skip, skip,
		r("ID", 1, 2, "11", "12", "13", "14", "15", "16", "17", "AM", "BL", "CH", "CI", "DS", "FI", "HM", "LM", "MA", "MB", "MC", "OF", "TV", "VA", "WC", "ZZ", "09")},
	// 2000C PAT01: the patient's relationship to the subscriber, never 18.
	"PAT": {r("ID", 2, 2, "01", "19", "20", "21", "39", "40", "53", "G8")},
	"DMG": {r("ID", 2, 3, "D8"), r("DT", 8, 8), r("ID", 1, 1, "F", "M", "U")},
	"CLM": {r("AN", 1, 38), r("R", 1, 18), skip, skip, composite, r("ID", 1, 1, "Y", "N"), r("ID", 1, 1, "A", "B", "C"), r("ID", 1, 1, "Y", "N", "W"), r("ID", 1, 1, "I", "Y")},
	"HI":  {composite, composite, composite, composite, composite, composite, composite, composite, composite, composite, composite, composite},
	"LX":  {r("N0", 1, 6)},
	"SV1": {composite, r("R", 1, 18), r("ID", 2, 2, "UN", "MJ"), r("R", 1, 15), o("AN", 1, 2), skip, composite},
	"DTP": {r("ID", 3, 3, "472"), r("ID", 2, 3, "D8"), r("DT", 8, 8)},
	"LIN": {skip, r("ID", 2, 2, "N4"), r("AN", 11, 11)},
	"CTP": {skip, skip, skip, r("R", 1, 15), composite},
	"SE":  {r("N0", 1, 10), r("AN", 4, 9)},
	"GE":  {r("N0", 1, 6), r("N0", 1, 9)},
	"IEA": {r("N0", 1, 5), r("N0", 9, 9)},
}

// next is the loop order: which segment (by label) may follow which.
var next = map[string][]string{
	"":          {"ISA"},
	"ISA":       {"GS"},
	"GS":        {"ST"},
	"ST":        {"BHT"},
	"BHT":       {"NM1*41"},
	"NM1*41":    {"PER"},
	"PER":       {"NM1*40"},
	"NM1*40":    {"HL*20"},
	"HL*20":     {"PRV", "NM1*85"},
	"PRV":       {"NM1*85"},
	"NM1*85":    {"N3/2010AA"},
	"N3/2010AA": {"N4/2010AA"},
	"N4/2010AA": {"REF*EI"},
	"REF*EI":    {"HL*22"},
	"HL*22":     {"SBR"},
	"SBR":       {"NM1*IL"},
	// 2010BA's address and DMG when the subscriber is the patient (SBR02
	// 18), and only then (rules); else the patient's level follows the
	// payer: 2000C's HL and PAT, 2010CA's name, address and DMG.
	"NM1*IL":     {"N3/2010BA", "NM1*PR"},
	"N3/2010BA":  {"N4/2010BA"},
	"N4/2010BA":  {"DMG/2010BA"},
	"DMG/2010BA": {"NM1*PR"},
	"NM1*PR":     {"CLM", "HL*23"},
	"HL*23":      {"PAT"},
	"PAT":        {"NM1*QC"},
	"NM1*QC":     {"N3/2010CA"},
	"N3/2010CA":  {"N4/2010CA"},
	"N4/2010CA":  {"DMG/2010CA"},
	"DMG/2010CA": {"CLM"},
	// 2300's REFs in the guide's order: G1 prior authorization, then F8.
	"CLM":    {"REF*G1", "REF*F8", "HI"},
	"REF*G1": {"REF*F8", "HI"},
	"REF*F8": {"HI"},
	// 2320 follows the claim's diagnoses, one per other payer: its SBR
	// and OI, then 2330A (the other subscriber; the patient's address
	// when known) and 2330B (the other payer), both required.
	"HI":           {"LX", "SBR/2320"},
	"SBR/2320":     {"OI"},
	"OI":           {"NM1*IL/2330A"},
	"NM1*IL/2330A": {"N3/2330A", "NM1*PR/2330B"},
	"N3/2330A":     {"N4/2330A"},
	"N4/2330A":     {"NM1*PR/2330B"},
	"NM1*PR/2330B": {"LX", "SBR/2320"},
	"LX":           {"SV1"},
	"SV1":          {"DTP*472"},
	"DTP*472":      {"LIN", "LX", "HL*22", "SE"},
	"LIN":          {"CTP"},
	"CTP":          {"LX", "HL*22", "SE"},
	"SE":           {"GE"},
	"GE":           {"IEA"},
	"IEA":          {},
}

var (
	icd10    = regexp.MustCompile(`^[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}$`)
	nocCodes = []string{"J3490", "J7799", "J3590", "J9999"}
	units    = []string{"F2", "GR", "ME", "ML", "UN"}
	zip      = regexp.MustCompile(`^[0-9]{5}([0-9]{4})?$`)
)

// Check checks an interchange written with the delimiters ~ * : ^ (each
// segment may be followed by a line break), and returns every fault found,
// each naming its segment by number (from 1) and text.
func Check(data string) []error {
	var errs []error
	segs := strings.Split(strings.TrimSpace(data), "~")
	if segs[len(segs)-1] == "" {
		segs = segs[:len(segs)-1]
	} else {
		errs = append(errs, fmt.Errorf("the interchange does not end with the segment terminator ~"))
	}
	c := &checker{}
	for i, s := range segs {
		s = strings.TrimLeft(s, "\r\n")
		c.at, c.seg = i+1, s
		c.segment(strings.Split(s, "*"))
	}
	if c.label != "IEA" {
		c.fail("the interchange ends after %s, not IEA", c.label)
	}
	return append(errs, c.errs...)
}

type checker struct {
	at    int
	seg   string
	errs  []error
	label string // the last segment's label
	loop  string // the loop N3/N4 are in

	isa13, gs06, st02 string
	stAt              int
	hl                int // HL01 last given
	claim             *claimState
	sbr01             string // the claim's payer's responsibility (2000B)
	// The subscriber's level (2000B): its HL01 and HL04, its SBR02, and
	// whether the patient's level (2000C) followed it.
	hl22, hl22child, sbr02 string
	patient                bool
}

type claimState struct {
	id        string
	total     decimal.Decimal
	lines     decimal.Decimal
	freq      string
	f8        bool
	diagnoses int
	lx        int
	// clm08 and clm09 are the benefits assignment and release of
	// information; others the 2320 SBR01s.
	clm08, clm09 string
	others       []string
}

func (c *checker) fail(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("segment %d %q: %s", c.at, c.seg, fmt.Sprintf(format, args...)))
}

func (c *checker) segment(e []string) {
	id := e[0]
	rules, ok := segments[id]
	if !ok {
		c.fail("segment %s is not one the 837P writer uses", id)
		return
	}
	if len(e)-1 > len(rules) {
		c.fail("%d elements, %s has at most %d", len(e)-1, id, len(rules))
	}
	if len(e) > 1 && e[len(e)-1] == "" && id != "ISA" {
		c.fail("a trailing empty element (X12 drops trailing delimiters)")
	}
	for k, rule := range rules {
		v := ""
		if k+1 < len(e) {
			v = e[k+1]
		}
		c.element(fmt.Sprintf("%s%02d", id, k+1), v, rule)
	}
	c.order(id, e)
	c.rules(id, e)
}

func (c *checker) element(name, v string, rule el) {
	switch rule.typ {
	case "composite":
		return
	case "unused":
		if v != "" {
			c.fail("%s is not used in X222A1, and holds %q", name, v)
		}
		return
	}
	if v == "" {
		if rule.req {
			c.fail("%s is required", name)
		}
		return
	}
	n := len(v)
	if rule.typ == "R" {
		n = len(strings.NewReplacer(".", "", "-", "").Replace(v))
	}
	if n < rule.min || n > rule.max {
		c.fail("%s %q is %d characters, not %d to %d", name, v, n, rule.min, rule.max)
	}
	if len(rule.codes) > 0 && !slices.Contains(rule.codes, v) {
		c.fail("%s %q is not one of the codes %v", name, v, rule.codes)
	}
	switch rule.typ {
	case "DT":
		layout := "20060102"
		if len(v) == 6 {
			layout = "060102"
		}
		if _, err := time.Parse(layout, v); err != nil {
			c.fail("%s %q is not a date", name, v)
		}
	case "TM":
		if _, err := time.Parse("1504", v[:min(4, len(v))]); err != nil {
			c.fail("%s %q is not a time", name, v)
		}
	case "N0":
		if _, err := strconv.ParseUint(v, 10, 64); err != nil {
			c.fail("%s %q is not a whole number", name, v)
		}
	case "R":
		if _, err := decimal.NewFromString(v); err != nil || strings.HasPrefix(v, "+") || strings.HasSuffix(v, ".") {
			c.fail("%s %q is not a decimal number", name, v)
		}
	}
	for _, ch := range v {
		if ch < ' ' || ch > '~' || ch == ':' && name != "ISA16" || ch == '^' && name != "ISA11" {
			c.fail("%s %q holds %q, a delimiter or a character outside the basic set", name, v, ch)
			break
		}
	}
}

// label is a segment's name in the loop order: NM1, REF, HL and DTP by
// their qualifier, N3 and N4 by their loop.
func (c *checker) labelOf(id string, e []string) string {
	q := ""
	if len(e) > 1 {
		q = e[1]
	}
	other := c.claim != nil // after CLM: in 2320 and its 2330 loops
	switch id {
	case "SBR":
		if other {
			return "SBR/2320"
		}
	case "NM1":
		if other && (q == "IL" || q == "PR") {
			return map[string]string{"IL": "NM1*IL/2330A", "PR": "NM1*PR/2330B"}[q]
		}
		return id + "*" + q
	case "REF", "DTP":
		return id + "*" + q
	case "HL":
		if len(e) > 3 {
			return "HL*" + e[3]
		}
	case "N3", "N4", "DMG":
		return id + "/" + c.loop
	}
	return id
}

func (c *checker) order(id string, e []string) {
	l := c.labelOf(id, e)
	if !slices.Contains(next[c.label], l) {
		c.fail("%s cannot follow %s (X222A1 loop order: after %s comes one of %v)", l, c.label, c.label, next[c.label])
	}
	c.label = l
	switch l {
	case "NM1*85":
		c.loop = "2010AA"
	case "NM1*IL":
		c.loop = "2010BA"
	case "NM1*QC":
		c.loop = "2010CA"
	case "NM1*IL/2330A":
		c.loop = "2330A"
	}
}

// rules are the rules that tie elements and segments together.
func (c *checker) rules(id string, e []string) {
	get := func(k int) string {
		if k < len(e) {
			return e[k]
		}
		return ""
	}
	switch id {
	case "ISA":
		if len(c.seg)+1 != 106 {
			c.fail("ISA is %d characters with its terminator, not 106", len(c.seg)+1)
		}
		if get(16) != ":" || get(11) != "^" {
			c.fail("ISA11 and ISA16 declare %q and %q, not the ^ and : the interchange uses", get(11), get(16))
		}
		c.isa13 = get(13)
	case "GS":
		c.gs06 = get(6)
	case "ST":
		c.st02, c.stAt = get(2), c.at
	case "SE":
		if n, _ := strconv.Atoi(get(1)); n != c.at-c.stAt+1 {
			c.fail("SE01 is %s; the transaction has %d segments, ST to SE", get(1), c.at-c.stAt+1)
		}
		if get(2) != c.st02 {
			c.fail("SE02 %s is not ST02 %s", get(2), c.st02)
		}
		c.endClaim()
	case "GE":
		if get(1) != "1" || get(2) != c.gs06 {
			c.fail("GE counts 1 transaction of control number GS06 %s", c.gs06)
		}
	case "IEA":
		if get(1) != "1" || get(2) != c.isa13 {
			c.fail("IEA counts 1 group of control number ISA13 %s", c.isa13)
		}
	case "HL":
		c.hl++
		if get(1) != strconv.Itoa(c.hl) {
			c.fail("HL01 %s; the HLs number from 1 in order, this is %d", get(1), c.hl)
		}
		switch get(3) {
		case "20":
			if get(2) != "" || get(4) != "1" {
				c.fail("the billing provider's HL has no parent and has children (HL04 1)")
			}
		case "22":
			if get(2) != "1" {
				c.fail("a subscriber's HL is a child of the billing provider's, HL 1")
			}
			c.endClaim()
			c.hl22, c.hl22child, c.patient = get(1), get(4), false
		case "23":
			if get(2) != c.hl22 || get(4) != "0" {
				c.fail("the patient's HL is a child of the subscriber's HL %s, with no child (HL04 0)", c.hl22)
			}
			if c.hl22child != "1" {
				c.fail("the subscriber's HL %s has a patient's level under it: its HL04 must be 1", c.hl22)
			}
			c.patient = true
		}
	case "N3", "DMG":
		if c.loop == "2010BA" && c.sbr02 != "18" {
			c.fail("2010BA %s is sent only when the subscriber is the patient (SBR02 18); the patient's goes in 2010CA", id)
		}
	case "N4":
		if c.loop == "2010AA" && len(get(3)) != 9 {
			c.fail("N403 of the billing provider must be the 9-digit ZIP+4")
		}
		if !zip.MatchString(get(3)) {
			c.fail("N403 %q is not a ZIP of 5 or 9 digits", get(3))
		}
	case "NM1":
		if get(1) == "85" && (get(8) != "XX" || len(get(9)) != 10) {
			c.fail("the billing provider is identified by its 10-digit NPI (NM108 XX)")
		}
		if get(1) == "IL" && (get(2) != "1" || get(4) == "") {
			c.fail("the subscriber is a person with a first name (NM102 1, NM104)")
		}
		if get(2) == "2" && get(4) != "" {
			c.fail("an organization (NM102 2) has no first name")
		}
		if q := get(1); q == "QC" {
			if get(2) != "1" || get(8) != "" || get(9) != "" {
				c.fail("the patient under a subscriber (NM1*QC) is a person (NM102 1) with no id (NM108, NM109 not used)")
			}
		} else if get(8) == "" || get(9) == "" {
			c.fail("NM108 and NM109 are required: %s is named with its id", q)
		}
	case "SBR":
		if get(3) != "" && get(4) != "" {
			c.fail("SBR04 (plan name) is used only without SBR03 (group number)")
		}
		if c.claim == nil {
			c.sbr01, c.sbr02 = get(1), get(2)
			if get(2) != "" && get(2) != "18" {
				c.fail("2000B SBR02 is 18 (the subscriber is the patient) or empty, not %s: the patient's relationship goes in 2000C PAT01", get(2))
			}
			return
		}
		if get(2) == "" {
			c.fail("2320 SBR02 is required: the patient's relationship to the other subscriber")
		}
		// 2320: each other payer's responsibility differs from the
		// claim's payer's and from the other payers' before.
		if get(1) == c.sbr01 || slices.Contains(c.claim.others, get(1)) {
			c.fail("2320 SBR01 %s repeats a payer responsibility the claim already names", get(1))
		}
		c.claim.others = append(c.claim.others, get(1))
	case "OI":
		if c.claim != nil && (get(3) != c.claim.clm08 || get(6) != c.claim.clm09) {
			c.fail("OI03 and OI06 (%s, %s) do not say what CLM08 and CLM09 say (%s, %s)", get(3), get(6), c.claim.clm08, c.claim.clm09)
		}
	case "CLM":
		// The claim is the patient's: under 2000C when the patient is not
		// the subscriber, and then only.
		switch {
		case c.patient && c.sbr02 != "":
			c.fail("2000B SBR02 is %s but the patient has a level of their own (2000C): leave SBR02 empty", c.sbr02)
		case !c.patient && c.sbr02 != "18":
			c.fail("2000B SBR02 must be 18 when the claim is under the subscriber's level (no 2000C)")
		case !c.patient && c.hl22child != "0":
			c.fail("the subscriber's HL %s has no patient's level under it: its HL04 must be 0", c.hl22)
		}
		c.claim = &claimState{id: get(1), clm08: get(8), clm09: get(9)}
		c.claim.total, _ = decimal.NewFromString(get(2))
		p := strings.Split(get(5), ":")
		if len(p) != 3 || len(p[0]) != 2 || p[1] != "B" || !slices.Contains([]string{"1", "7", "8"}, p[2]) {
			c.fail("CLM05 %q is not place of service : B : frequency 1, 7 or 8", get(5))
		} else {
			c.claim.freq = p[2]
		}
	case "REF":
		if get(1) == "F8" && c.claim != nil {
			c.claim.f8 = true
		}
	case "HI":
		for k := 1; k < len(e); k++ {
			p := strings.Split(e[k], ":")
			want := "ABF"
			if k == 1 {
				want = "ABK"
			}
			if len(p) != 2 || p[0] != want || !icd10.MatchString(p[1]) {
				c.fail("HI%02d %q is not %s:<ICD-10-CM code without its point>", k, e[k], want)
			}
		}
		if c.claim != nil {
			c.claim.diagnoses = len(e) - 1
		}
	case "LX":
		if c.claim == nil {
			return
		}
		c.claim.lx++
		if get(1) != strconv.Itoa(c.claim.lx) {
			c.fail("LX01 %s; lines number from 1 in each claim, this is %d", get(1), c.claim.lx)
		}
		if c.claim.lx > 50 {
			c.fail("a claim holds at most 50 lines")
		}
	case "SV1":
		p := strings.Split(get(1), ":")
		if len(p) < 2 || p[0] != "HC" || len(p[1]) != 5 {
			c.fail("SV101 %q is not HC:<HCPCS or CPT code>[:modifier...]", get(1))
		}
		for k := 2; k < len(p) && k < 6; k++ {
			if p[k] != "" && len(p[k]) != 2 {
				c.fail("SV101-%d %q is not a two-character modifier", k+1, p[k])
			}
		}
		if len(p) > 7 || len(p) == 7 && (p[6] == "" || len(p[6]) > 80) {
			c.fail("SV101 has more than seven components, or an empty or long description")
		}
		if len(p) > 1 && slices.Contains(nocCodes, p[1]) && len(p) != 7 {
			c.fail("%s is a not-otherwise-classified code: SV101-7 must describe the drug", p[1])
		}
		if c.claim != nil {
			d, _ := decimal.NewFromString(get(2))
			c.claim.lines = c.claim.lines.Add(d)
			ptrs := strings.Split(get(7), ":")
			if get(7) == "" || len(ptrs) > 4 {
				c.fail("SV107 must point at one to four of the claim's diagnoses")
			}
			for _, ptr := range ptrs {
				if n, err := strconv.Atoi(ptr); err != nil || n < 1 || n > c.claim.diagnoses {
					c.fail("SV107 pointer %q does not point at one of the claim's %d HI diagnoses", ptr, c.claim.diagnoses)
				}
			}
		}
	case "CTP":
		if !slices.Contains(units, get(5)) {
			c.fail("CTP05-1 %q is not one of %v", get(5), units)
		}
	}
}

// endClaim checks the claim just ended.
func (c *checker) endClaim() {
	cl := c.claim
	if cl == nil {
		return
	}
	c.claim = nil
	if !cl.total.Equal(cl.lines) {
		c.fail("claim %s: CLM02 %s is not the sum of its SV102s, %s", cl.id, cl.total, cl.lines)
	}
	if (cl.freq == "7" || cl.freq == "8") != cl.f8 {
		c.fail("claim %s: REF*F8 (the original claim) goes with frequency 7 or 8, and only with them", cl.id)
	}
}
