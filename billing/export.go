package billing

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pumpledger/pumpledger"
)

// Claim export formats: CSV and JSON for a biller's spreadsheet or program,
// and an X12 837P fragment for a practice-management or clearinghouse system.
// Each writes lines in the order given (X12 groups them into claims first);
// quantities are printed from their decimals, never through float64.

// Formats are the bill's export formats, by the name --format and the
// API take, each with its writer and its media type. An interchange format
// (the whole 837P) is written from claims the clinic fills from the ledger
// (clinic.WriteBill), not from the lines alone: its Write is nil.
var Formats = map[string]struct {
	Write       func(io.Writer, []Line) error
	ContentType string
	Interchange bool
}{
	"csv":  {WriteCSV, "text/csv; charset=utf-8", false},
	"json": {WriteJSON, "application/json; charset=utf-8", false},
	"x12":  {WriteX12, "application/edi-x12", false},
	"837p": {nil, "application/edi-x12", true},
}

// FormatNames lists the formats, for a usage message.
const FormatNames = "csv, json, x12 or 837p"

// CSVHeader is the header row WriteCSV writes.
var CSVHeader = []string{"date_of_service", "mrn", "entry_id", "code", "modifiers", "units",
	"ndc", "ndc_qty", "ndc_unit", "drug", "description"}

// WriteCSV writes a header row and one row per line. Modifiers are joined with
// ':' ("JW", "" when none); ndc_qty is empty on lines without an NDC.
// Every text cell passes through CSVCell, so a spreadsheet never runs an MRN
// or a description as a formula.
func WriteCSV(w io.Writer, lines []Line) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	c := CSVCell
	for _, l := range lines {
		// units and ndc_qty are formatted here from numbers, so each is a
		// number a spreadsheet reads as one, never a formula: left as is.
		if err := cw.Write([]string{c(l.DateOfService), c(l.MRN), c(l.EntryID), c(l.Code), c(strings.Join(l.Modifiers, ":")),
			strconv.FormatInt(l.Units, 10), c(l.NDC), ndcQty(l), c(l.NDCUnit), c(l.Drug), c(l.Description)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// CSVCell neutralises a text cell a spreadsheet would read as a formula
// (OWASP "CSV Injection"): one that begins with =, +, -, @, a tab or a
// carriage return gets a single quote before it, which spreadsheets show as
// text and do not evaluate. Every CSV pumpledger writes passes its text cells
// through it; cells it formats from numbers do not need it (a negative number
// stays a number, readable as one).
func CSVCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func ndcQty(l Line) string {
	if l.NDC == "" && l.NDCQty.IsZero() {
		return ""
	}
	return l.NDCQty.String()
}

// WriteJSON writes the lines as a JSON array indented by two spaces: `[]` when
// there are none, never null, and modifiers always an array. Quantities are
// strings ("ndc_qty": "1.5"), units whole numbers (SPEC §7).
func WriteJSON(w io.Writer, lines []Line) error {
	out := make([]Line, len(lines))
	for i, l := range lines {
		if l.Modifiers == nil {
			l.Modifiers = []string{}
		}
		out[i] = l
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// X12 delimiters of the fragment (the usual ones; a real interchange declares
// them in its ISA header: ISA16 the component separator, the character after
// ISA16 the segment terminator).
const (
	x12Element   = "*"
	x12Component = ":"
	x12Segment   = "~"
)

// MaxX12LinesPerClaim is the most service lines (loop 2400) one 837P claim
// holds.
const MaxX12LinesPerClaim = 50

// maxClaimID is the length of CLM01 (AN 1/38; receivers need only keep 20).
const maxClaimID = 38

// X12UnitCodes are the NDC units of measure CTP05-1 allows in loop 2410 of
// the 837P: international unit, gram, milligram, milliliter, unit (SPEC §5).
var X12UnitCodes = []string{"F2", "GR", "ME", "ML", "UN"}

var (
	x12CodeRE     = regexp.MustCompile(`^[A-Z0-9]{1,48}$`)
	x12ModifierRE = regexp.MustCompile(`^[A-Z0-9]{2}$`)
	ndc11RE       = regexp.MustCompile(`^[0-9]{11}$`)
)

// WriteX12 writes the lines as an X12 837P (005010X222A1) FRAGMENT, not an
// interchange: there is no ISA/GS/ST/BHT envelope, no submitter, receiver,
// billing provider, subscriber or payer loop, no HI diagnosis segment and no
// SE/GE/IEA trailer. A practice-management system or clearinghouse wraps it,
// adds those, and prices it: this program keeps no fee schedule, so every
// charge (CLM02, SV102) is 0 and must be replaced, CLM02 being the sum of the
// SV102 of its lines.
//
// Lines are grouped into one claim per MRN and date of service, claims sorted
// by date then MRN, lines kept in the order given. Each claim is:
//
//	CLM*<mrn>-<YYYYMMDD>*0***11:B:1*Y*A*Y*Y~       loop 2300
//	LX*<n>~                                         loop 2400, n from 1 per claim
//	SV1*HC:<code>[:<modifier>...]*0*UN*<units>***1~
//	DTP*472*D8*<YYYYMMDD>~
//	LIN**N4*<ndc11>~                                loop 2410, lines with an NDC
//	CTP****<ndc qty>*<unit>~
//
// CLM01 (claim submitter's identifier) is "<mrn>-<YYYYMMDD>"; CLM05 is place
// of service 11 (office) : B (professional place-of-service qualifier) : 1
// (original claim), which the receiving system changes for another place of
// service or a replacement (7) or void (8); CLM06–CLM09 are Y (provider
// signature on file), A (assigned), Y (benefits assigned), Y (release of
// information). SV103 UN and SV104 the billing units; SV105 (place of
// service) is left to CLM05; SV107 points to the claim's first diagnosis
// (HI), which the receiving system supplies. DTP*472 is the service date.
// LIN02 N4 qualifies LIN03 as the 11-digit 5-4-2 NDC; CTP04 is the NDC
// quantity and CTP05-1 its unit (F2, GR, ME, ML, UN).
//
// Segments end with '~' and a newline (for reading; most X12 translators
// accept a line break after the terminator, and a strict one needs the
// newlines removed), elements are separated by '*', components
// by ':'. A value holding one of the delimiters, or that the 837P cannot carry
// (more than four modifiers, more than 50 lines in a claim, an NDC that is not
// 11 digits), is refused with an error naming the line; nothing is escaped.
//
// Sources for the layout: the 005010X222 implementation guide's example
// "Drug Example 1" (CLM*CLMNO12345*103.37***11:B:1*Y*A*Y*Y~,
// SV1*HC:J1550*53.37*UN*1.00*11**1~, DTP*472*D8*20040711~,
// LIN**N4*00026063512~, CTP****10.00*ML~), as reproduced in public test
// fixtures; X12 RFI #2151 (rfi.x12.org, final 2016-07-14), which places the
// N4 qualifier in LIN02, the NDC in LIN03, the drug quantity in CTP04 and its
// unit in CTP05-01, all in loop 2410 of the 837P and 837I; the X12 SV1
// segment reference (Stedi, kasoftware:
// SV101 composite procedure with up to four modifiers, SV102 charge, SV103
// unit basis, SV104 quantity, SV105 place of service, SV107 diagnosis
// pointer); 837P 5010 loop 2300 CLM element list (CLM01 AN 1/38, CLM05-1/2/3,
// CLM06–CLM09) with the examples CLM*249*60***11:B:1*Y*A*Y*Y.
func WriteX12(w io.Writer, lines []Line) error {
	for i, l := range lines {
		if err := checkX12(i, l); err != nil {
			return err
		}
	}
	var b strings.Builder
	seg := func(elements ...string) {
		b.WriteString(strings.Join(elements, x12Element))
		b.WriteString(x12Segment + "\n")
	}
	for _, c := range Claims(lines) {
		d8 := strings.ReplaceAll(c.DateOfService, "-", "")
		id := c.MRN + "-" + d8
		if len(c.Lines) > MaxX12LinesPerClaim {
			return pumpledger.Errorf(pumpledger.EINVALID, "The claim for %s on %s has %d lines, more than the %d an 837P claim holds; export fewer dates at a time or split the claim by hand.",
				c.MRN, c.DateOfService, len(c.Lines), MaxX12LinesPerClaim)
		}
		if len(id) > maxClaimID {
			return pumpledger.Errorf(pumpledger.EINVALID, "The claim identifier %q is longer than the %d characters X12 CLM01 holds; use a shorter MRN.", id, maxClaimID)
		}
		seg("CLM", id, "0", "", "", "11"+x12Component+"B"+x12Component+"1", "Y", "A", "Y", "Y")
		for n, l := range c.Lines {
			proc := strings.Join(append([]string{"HC", l.Code}, l.Modifiers...), x12Component)
			if l.Narrative != "" {
				// SV101-7, the description, after the four modifier places.
				mods := append(slices.Clone(l.Modifiers), "", "", "", "")[:4]
				proc = strings.Join(append(append([]string{"HC", l.Code}, mods...), l.Narrative), x12Component)
			}
			seg("LX", strconv.Itoa(n+1))
			seg("SV1", proc, "0", "UN", strconv.FormatInt(l.Units, 10), "", "", "1")
			seg("DTP", "472", "D8", d8)
			if l.NDC != "" {
				seg("LIN", "", "N4", l.NDC)
				seg("CTP", "", "", "", l.NDCQty.String(), l.NDCUnit)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Claim is the lines of one patient on one date of service: what one claim
// bills.
type Claim struct {
	DateOfService string // YYYY-MM-DD
	MRN           string
	Lines         []Line
}

// Claims groups lines into one claim per MRN and date of service, claims
// sorted by date then MRN, each claim's lines in the order given. Every
// claim format (the X12 837P, later FHIR) bills these.
func Claims(lines []Line) []Claim {
	var claims []Claim
	byKey := map[[2]string]int{}
	for _, l := range lines {
		k := [2]string{l.DateOfService, l.MRN}
		i, ok := byKey[k]
		if !ok {
			i = len(claims)
			byKey[k] = i
			claims = append(claims, Claim{DateOfService: l.DateOfService, MRN: l.MRN})
		}
		claims[i].Lines = append(claims[i].Lines, l)
	}
	sort.SliceStable(claims, func(i, j int) bool {
		if claims[i].DateOfService != claims[j].DateOfService {
			return claims[i].DateOfService < claims[j].DateOfService
		}
		return claims[i].MRN < claims[j].MRN
	})
	return claims
}

// checkX12 refuses a line the 837P cannot carry as it stands.
func checkX12(i int, l Line) error {
	field := func(f string) string { return fmt.Sprintf("lines[%d].%s", i, f) }
	bad := func(f, format string, args ...any) error {
		return pumpledger.Invalid(field(f), "%s %s", field(f), fmt.Sprintf(format, args...))
	}
	if _, err := time.Parse(time.DateOnly, l.DateOfService); err != nil {
		return bad("date_of_service", "%q is not a date like 2026-03-02.", l.DateOfService)
	}
	if l.MRN == "" || strings.ContainsAny(l.MRN, pumpledger.X12Delimiters+"\r\n") {
		return bad("mrn", "%q cannot go in an X12 claim identifier: it must be non-empty and hold none of * : ~ ^ or a line break.", l.MRN)
	}
	if !x12CodeRE.MatchString(l.Code) {
		return bad("code", "%q is not a procedure code X12 SV101-2 carries (letters and digits, like J2278).", l.Code)
	}
	if len(l.Modifiers) > 4 {
		return bad("modifiers", "has %d modifiers; X12 SV101 carries at most four.", len(l.Modifiers))
	}
	for _, m := range l.Modifiers {
		if !x12ModifierRE.MatchString(m) {
			return bad("modifiers", "%q is not a two-character modifier like JW.", m)
		}
	}
	if l.Units < 1 {
		return bad("units", "is %d; a claim line bills at least one unit.", l.Units)
	}
	if len(l.Narrative) > MaxNarrative || strings.ContainsAny(l.Narrative, pumpledger.X12Delimiters+"\r\n") {
		return bad("narrative", "%q cannot go in X12 SV101-7: at most %d characters, none of * : ~ ^ or a line break.", l.Narrative, MaxNarrative)
	}
	if l.NDC == "" {
		return nil
	}
	if !ndc11RE.MatchString(l.NDC) {
		return bad("ndc", "%q is not an 11-digit NDC (5-4-2, no hyphens) as X12 LIN03 carries it.", l.NDC)
	}
	if !l.NDCQty.IsPositive() {
		return bad("ndc_qty", "is %s; the NDC quantity must be more than zero.", l.NDCQty)
	}
	if !l.NDCQty.Equal(l.NDCQty.Round(NDCQtyScale)) {
		return bad("ndc_qty", "%s has more than %d decimal places, which X12 CTP04 does not carry.", l.NDCQty, NDCQtyScale)
	}
	if !isUnitCode(l.NDCUnit) {
		return bad("ndc_unit", "%q is not an X12 NDC unit; use one of %s.", l.NDCUnit, strings.Join(X12UnitCodes, ", "))
	}
	return nil
}

func isUnitCode(s string) bool {
	for _, u := range X12UnitCodes {
		if s == u {
			return true
		}
	}
	return false
}
