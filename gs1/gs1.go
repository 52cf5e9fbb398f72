// Package gs1 reads what a keyboard-wedge scanner types for the GS1
// DataMatrix on a drug vial: its GTIN (carrying the US NDC), expiry, lot
// and serial, the DSCSA product identifier. It is pure: no catalog lookup
// beyond the one it is given, no clock.
//
// Sources:
//   - GS1 General Specifications (release 24.0), §3.2 (AI (01) GTIN, fixed
//     length 14 digits), §3.4.2 (AI (10) batch or lot number, up to 20
//     characters of GS1 AI encodable character set 82), §3.4.7 (AI (17)
//     expiration date YYMMDD; "00" for the day means the last day of the
//     month), §3.5.1 (AI (21) serial number, up to 20 characters of set 82),
//     §7.8.5 and figure 7.8.5.2-1 (AIs of predefined length, 01 and 17 among
//     them, need no separator; other element strings are ended by FNC1, which
//     a scanner transmits as the group separator GS, ASCII 29), §7.9.5 and
//     §7.10 (GTIN check digit: weights 3 and 1 from the right, mod 10),
//     §5.6.3.2 (GS1 DataMatrix symbology identifier "]d2"), §4.15 (human
//     readable interpretation: each AI in parentheses).
//   - FDA, "Product Identifiers under the Drug Supply Chain Security Act"
//     (guidance, 2021) and GS1 US, "Applying GS1 Standards for DSCSA and
//     Traceability" (R1.2): a US drug's GTIN-14 is the indicator digit, the
//     GS1 company prefix "03", the 10-digit NDC (no hyphens) and the check
//     digit; a unit's indicator digit is 0. The NDC's segment layout
//     (4-4-2, 5-3-2, 5-4-1) is not in the GTIN: the catalog decides it.
package gs1

import (
	"fmt"
	"strings"
	"time"

	"github.com/pumpledger/pumpledger"
)

// GS is the group separator a scanner types for FNC1 (ASCII 29).
const GS = "\x1d"

// SymbologyID is the prefix a scanner set to transmit it sends before a
// GS1 DataMatrix's data (GS1 General Specifications §5.6.3.2).
const SymbologyID = "]d2"

// Scan is a vial's GS1 element strings.
type Scan struct {
	GTIN    string `json:"gtin"`    // 14 digits, check digit verified
	NDC10   string `json:"ndc10"`   // the NDC's 10 digits, as the GTIN carries them
	Expires string `json:"expires"` // YYYY-MM-DD (a day 00 is the month's last day)
	Lot     string `json:"lot"`
	Serial  string `json:"serial,omitempty"`
}

// ai is one Application Identifier pumpledger reads: its length when
// predefined (0: variable, up to max), and its name for messages.
type ai struct {
	fixed, max int
	name       string
}

var ais = map[string]ai{
	"01": {fixed: 14, name: "GTIN"},
	"17": {fixed: 6, name: "expiry"},
	"10": {max: 20, name: "lot"},
	"21": {max: 20, name: "serial"},
}

func invalid(format string, args ...any) error {
	return pumpledger.Invalid("scan", "scan: "+format, args...)
}

// Parse reads a scan: the raw element string a scanner types (with or
// without "]d2", variable-length fields ended by GS or the end), or the
// human-readable text "(01)…(17)…(10)…(21)…". The AIs may come in any
// order; (01), (17) and (10) are needed, (21) is kept if present. Trailing
// Enter and spaces are ignored.
func Parse(s string) (Scan, error) {
	s = strings.TrimRight(s, "\r\n\t ")
	s = strings.TrimLeft(s, " \t")
	if s == "" {
		return Scan{}, invalid("the scan is empty; scan the vial's DataMatrix, or type its NDC, lot and expiry by hand.")
	}
	var fields map[string]string
	var err error
	if strings.HasPrefix(s, "(") {
		fields, err = splitHRI(s)
	} else {
		fields, err = splitRaw(s)
	}
	if err != nil {
		return Scan{}, err
	}
	return fromFields(fields)
}

// splitRaw splits the element strings of what a scanner types.
func splitRaw(s string) (map[string]string, error) {
	if strings.HasPrefix(s, "]") {
		if !strings.HasPrefix(s, SymbologyID) {
			return nil, invalid("it begins with the symbology identifier %q, not %q (GS1 DataMatrix); scan the vial's DataMatrix.", s[:min(3, len(s))], SymbologyID)
		}
		s = s[len(SymbologyID):]
	}
	fields := map[string]string{}
	for s = strings.TrimPrefix(s, GS); s != ""; s = strings.TrimPrefix(s, GS) {
		if len(s) < 2 || !digits(s[:2]) {
			return nil, invalid("%q is not an Application Identifier; the scan must be GS1 element strings such as 01…17…10…, so scan the vial's DataMatrix again.", prefix(s, 4))
		}
		code := s[:2]
		a, ok := ais[code]
		if !ok {
			return nil, unknownAI(code)
		}
		s = s[2:]
		var v string
		if a.fixed > 0 {
			if len(s) < a.fixed {
				return nil, invalid("the %s (%s) has %d characters, not %d; scan the vial again.", a.name, code, len(s), a.fixed)
			}
			v, s = s[:a.fixed], s[a.fixed:]
		} else {
			v, s, _ = strings.Cut(s, GS)
		}
		if err := put(fields, code, v); err != nil {
			return nil, err
		}
	}
	return fields, nil
}

// splitHRI splits "(01)…(17)…": a parenthesised two-digit AI starts each
// field, which runs to the next one or the end.
func splitHRI(s string) (map[string]string, error) {
	fields := map[string]string{}
	for s != "" {
		if len(s) < 4 || s[0] != '(' || s[3] != ')' || !digits(s[1:3]) {
			return nil, invalid("%q is not an Application Identifier in parentheses such as (01); type the text as printed under the barcode.", prefix(s, 5))
		}
		code := s[1:3]
		if _, ok := ais[code]; !ok {
			return nil, unknownAI(code)
		}
		s = s[4:]
		end := nextHRI(s)
		v := strings.TrimSpace(s[:end])
		s = strings.TrimLeft(s[end:], " ")
		if err := put(fields, code, v); err != nil {
			return nil, err
		}
	}
	return fields, nil
}

// nextHRI is where the next "(NN)" begins in s, or len(s).
func nextHRI(s string) int {
	for i := 0; i+4 <= len(s); i++ {
		if s[i] == '(' && s[i+3] == ')' && digits(s[i+1:i+3]) {
			return i
		}
	}
	return len(s)
}

func put(fields map[string]string, code, v string) error {
	if _, dup := fields[code]; dup {
		return invalid("the %s (%s) appears twice; scan one vial at a time.", ais[code].name, code)
	}
	fields[code] = v
	return nil
}

func unknownAI(code string) error {
	return invalid("Application Identifier (%s) is not one pumpledger reads (01 GTIN, 17 expiry, 10 lot, 21 serial); scan the vial's DataMatrix, or type its NDC, lot and expiry by hand.", code)
}

// fromFields checks each element string and derives the NDC.
func fromFields(f map[string]string) (Scan, error) {
	var sc Scan
	for _, code := range []string{"01", "17", "10"} {
		if _, ok := f[code]; !ok {
			return sc, invalid("there is no %s (%s); scan the vial's DataMatrix (not its linear barcode), or type its NDC, lot and expiry by hand.", ais[code].name, code)
		}
	}
	var err error
	if sc.GTIN, err = checkGTIN(f["01"]); err != nil {
		return sc, err
	}
	if sc.NDC10, err = NDC10(sc.GTIN); err != nil {
		return sc, err
	}
	if sc.Expires, err = expiry(f["17"]); err != nil {
		return sc, err
	}
	if sc.Lot, err = text("10", f["10"]); err != nil {
		return sc, err
	}
	if v, ok := f["21"]; ok {
		if sc.Serial, err = text("21", v); err != nil {
			return sc, err
		}
	}
	return sc, nil
}

// checkGTIN verifies a GTIN-14: 14 digits whose last is the check digit.
func checkGTIN(g string) (string, error) {
	if len(g) != 14 || !digits(g) {
		return "", invalid("the GTIN (01) %q is not 14 digits; scan the vial again (a 13- or 12-digit GTIN is written with leading zeros to 14).", g)
	}
	if c := CheckDigit(g[:13]); g[13] != c {
		return "", invalid("the GTIN (01) %s has check digit %c, not %c; the scan is misread, so scan the vial again.", g, g[13], c)
	}
	return g, nil
}

// CheckDigit is the GS1 check digit of the digits before it (GS1 General
// Specifications §7.9.5): weights 3, 1, 3, … from the right, and the digit
// that brings the sum to a multiple of 10.
func CheckDigit(body string) byte {
	sum := 0
	for i := len(body) - 1; i >= 0; i-- {
		d := int(body[i] - '0')
		if (len(body)-1-i)%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

// NDC10 is the 10-digit NDC a US drug's GTIN-14 carries: indicator digit
// 0 (a unit, not a case), company prefix "03", the NDC, the check digit.
func NDC10(gtin string) (string, error) {
	if len(gtin) != 14 || !digits(gtin) {
		return "", invalid("the GTIN (01) %q is not 14 digits; scan the vial again.", gtin)
	}
	if gtin[1:3] != "03" {
		return "", invalid("the GTIN (01) %s does not carry a US NDC (its company prefix is not 03); enter the vial's NDC by hand from its label.", gtin)
	}
	if gtin[0] != '0' {
		return "", invalid("the GTIN (01) %s is of a package level %c (a carton or case), not of one vial; scan the vial itself.", gtin, gtin[0])
	}
	return gtin[3:13], nil
}

// GTIN is the GTIN-14 of a 10-digit NDC: NDC10's inverse.
func GTIN(ndc10 string) string {
	body := "003" + ndc10
	return body + string(CheckDigit(body))
}

// expiry reads YYMMDD as a date. The year is 2000+YY: GS1's sliding
// century window (§7.12) gives the same for any vial in date this century.
func expiry(v string) (string, error) {
	if len(v) != 6 || !digits(v) {
		return "", invalid("the expiry (17) %q is not 6 digits YYMMDD; scan the vial again.", v)
	}
	y, m, d := 2000+atoi(v[:2]), atoi(v[2:4]), atoi(v[4:])
	if m < 1 || m > 12 {
		return "", invalid("the expiry (17) %s has month %02d, which is not 01 to 12; scan the vial again, or type its expiry by hand.", v, m)
	}
	last := time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
	if d == 0 { // §3.4.7: day 00 is the last day of the month
		d = last
	}
	if d > last {
		return "", invalid("the expiry (17) %s has day %02d, which month %02d does not have; scan the vial again, or type its expiry by hand.", v, d, m)
	}
	return fmt.Sprintf("%04d-%02d-%02d", y, m, d), nil
}

// text checks a lot or serial: 1 to 20 characters of GS1 AI encodable
// character set 82 (General Specifications figure 7.11-1).
func text(code, v string) (string, error) {
	a := ais[code]
	switch {
	case v == "":
		return "", invalid("the %s (%s) is empty; scan the vial again, or type its %s by hand.", a.name, code, a.name)
	case len(v) > a.max:
		return "", invalid("the %s (%s) %q is %d characters, more than GS1's %d; a separator is missing after it, so scan the vial again or type its %s by hand.", a.name, code, v, len(v), a.max, a.name)
	}
	for i := 0; i < len(v); i++ {
		if !cset82(v[i]) {
			return "", invalid("the %s (%s) %q has %q, which GS1 does not allow in it; scan the vial again, or type its %s by hand.", a.name, code, v, v[i:i+1], a.name)
		}
	}
	return v, nil
}

// cset82 reports whether c is in GS1 AI encodable character set 82.
func cset82(c byte) bool {
	switch {
	case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte(`!"%&'()*+,-./:;<=>?_`, c) >= 0
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func prefix(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// Raw is the scan as a scanner types it: "]d2", the fixed-length fields
// first, the lot ended by GS when the serial follows.
func (s Scan) Raw() string {
	out := SymbologyID + "01" + s.GTIN + "17" + yymmdd(s.Expires) + "10" + s.Lot
	if s.Serial != "" {
		out += GS + "21" + s.Serial
	}
	return out
}

// HRI is the scan as printed under the barcode, "(01)…(17)…(10)…(21)…".
func (s Scan) HRI() string {
	out := "(01)" + s.GTIN + "(17)" + yymmdd(s.Expires) + "(10)" + s.Lot
	if s.Serial != "" {
		out += "(21)" + s.Serial
	}
	return out
}

// yymmdd writes an expiry back. A date that is its month's last day is
// written as such, not as day 00: both read back the same.
func yymmdd(date string) string {
	if len(date) != 10 {
		return date
	}
	return date[2:4] + date[5:7] + date[8:10]
}
