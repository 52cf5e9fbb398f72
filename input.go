package pumpledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// Input parsing. Every field is decoded on its own so that a refusal names the
// field ("vials[1].count") and says what to do, which encoding/json's errors
// cannot. Numbers are parsed exactly from their text: a JSON number and a JSON
// string holding the same digits give the same decimal, never via float64.

// MaxInputBytes bounds one input document; a refill is a few hundred bytes.
const MaxInputBytes = 1 << 20

// Quantity bounds: a quantity has at most 9 digits before the point and 9 after.
// Nothing clinical comes near, and it keeps a hostile "1e999999999" from
// turning into a billion-digit integer.
var (
	maxQuantity = decimal.New(1, 9)
	maxScale    = int32(9)
)

// object is one JSON object being decoded field by field.
type object struct {
	path string // "" for the top level, "vials[1]" below it
	raw  map[string]json.RawMessage
	seen map[string]bool
}

func decodeObject(path string, data []byte) (*object, error) {
	where := "The input"
	if path != "" {
		where = path
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, Invalid(path, "%s is empty; send one JSON object, {\"field\": value, ...}.", where)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil || raw == nil {
		var te *json.UnmarshalTypeError
		if err == nil || errors.As(err, &te) {
			return nil, Invalid(path, "%s must be a JSON object; write it as {\"field\": value, ...}.", where)
		}
		return nil, Invalid(path, "%s is not valid JSON: %s; fix it and send it again.", where, jsonReason(data, err))
	}
	// Decoder.More is false before a stray "}" or "]": look at the bytes.
	if end := int(dec.InputOffset()); len(bytes.TrimSpace(data[end:])) > 0 {
		at := end + len(data[end:]) - len(bytes.TrimLeft(data[end:], " \t\r\n"))
		return nil, Invalid(path, "The input has more than one JSON value, or text after its object (%s); send exactly one object.", position(data, at))
	}
	if _, at, ok := DuplicateKey(data); ok {
		name := joinPath(path, at)
		return nil, Invalid(name, "%s is given twice; keep only the right one.", name)
	}
	return &object{path: path, raw: raw, seen: map[string]bool{}}, nil
}

// jsonContext words encoding/json's syntax errors for people.
var jsonContext = map[string]string{
	"looking for beginning of value":             "where a value should begin",
	"looking for beginning of object key string": "where a field name in double quotes should begin",
	"after object key":                           "after a field name, where a colon should be",
	"after object key:value pair":                "after a field, where a comma or } should be",
	"after array element":                        "after a list item, where a comma or ] should be",
	"in string literal":                          "inside a string, where control characters must be escaped",
	"in numeric literal":                         "inside a number",
}

// jsonReason says where and why data is not JSON, as the middle of a sentence.
func jsonReason(data []byte, err error) string {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "it ends before its object is complete (check the whole file was saved)"
	}
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return err.Error()
	}
	at := max(int(se.Offset)-1, 0) // the byte the scanner stopped at
	msg := se.Error()
	if rest, ok := strings.CutPrefix(msg, "invalid character "); ok {
		// rest is "'x' context": the character as Go quotes it, then why.
		if i := strings.Index(rest[1:], "' "); i >= 0 {
			msg = rest[i+3:]
			if c, ok := jsonContext[msg]; ok {
				msg = c
			}
			msg = "has " + describeRune(data, at) + " " + msg
		}
	}
	return position(data, at) + " " + msg
}

// describeRune names the character at data[at] so a person can find it.
func describeRune(data []byte, at int) string {
	if at >= len(data) {
		return "the end of the input"
	}
	r, _ := utf8.DecodeRune(data[at:])
	if r != utf8.RuneError && unicode.IsPrint(r) {
		return fmt.Sprintf("%q", string(r))
	}
	return fmt.Sprintf("the invisible character U+%04X", r)
}

// position is "line L, column C" of byte offset at in data (both from 1).
func position(data []byte, at int) string {
	at = min(at, len(data))
	line := 1 + bytes.Count(data[:at], []byte("\n"))
	start := bytes.LastIndexByte(data[:at], '\n') + 1
	return fmt.Sprintf("line %d, column %d", line, 1+utf8.RuneCount(data[start:at]))
}

func (o *object) name(f string) string {
	if o.path == "" {
		return f
	}
	return o.path + "." + f
}

func (o *object) get(f string) (json.RawMessage, bool) {
	o.seen[f] = true
	v, ok := o.raw[f]
	if ok && string(bytes.TrimSpace(v)) == "null" {
		return nil, false
	}
	return v, ok
}

// missing refuses a required field that is not there. A key no one has
// asked for that looks like it ("residual" or "RESIDUAL_ML" for residual_ml)
// is the usual cause, and is named.
func (o *object) missing(f, fix string) error {
	keys := make([]string, 0, len(o.raw))
	for k := range o.raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		lk, lf := strings.ToLower(k), strings.ToLower(f)
		if !o.seen[k] && k != f && (lk == lf || (len(k) >= 3 && strings.HasPrefix(lf, lk))) {
			return Invalid(o.name(f), "%s is missing, and the input has %q; rename it to %s.", o.name(f), o.name(k), f)
		}
	}
	return Invalid(o.name(f), "%s is missing; %s.", o.name(f), fix)
}

// done refuses fields nobody asked for: a misspelt "residual" must not be
// silently dropped while "residual_ml" defaults to zero.
func (o *object) done() error {
	var extra []string
	for k := range o.raw {
		if !o.seen[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) == 0 {
		return nil
	}
	sort.Strings(extra)
	return Invalid(o.name(extra[0]), "Unknown field %q; remove it or check its spelling.", o.name(extra[0]))
}

func (o *object) str(f string, required bool) (string, error) {
	v, ok := o.get(f)
	if !ok {
		if required {
			return "", o.missing(f, "add it")
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", Invalid(o.name(f), "%s must be a string; put it in double quotes.", o.name(f))
	}
	s = strings.TrimSpace(s)
	if required && s == "" {
		return "", Invalid(o.name(f), "%s is empty; fill it in.", o.name(f))
	}
	if err := CheckText(o.name(f), s, f == "note"); err != nil {
		return "", err
	}
	return s, nil
}

// CheckText refuses characters a reader cannot see or that drive a terminal:
// control characters (Cc), format characters such as the zero-width space and
// the right-to-left override (Cf), line and paragraph separators and private
// use characters. "MRN-1" followed by a zero-width space prints as MRN-1 yet
// is another patient; an escape sequence in a name rewrites the screen of
// whoever reads the history. Free text (multiline) may hold line breaks and
// tabs. field names the field in the message ("mrn", "--name").
func CheckText(field, s string, multiline bool) error {
	for i, r := range []rune(s) {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Co) {
			return Invalid(field, "%s has an invisible or control character (U+%04X) at character %d; retype it without it.", field, r, i+1)
		}
	}
	return nil
}

// X12Delimiters are the characters of the X12 837P the billing export writes
// as delimiters: element *, component :, segment ~ and repetition ^. X12
// escapes nothing, so an identifier that reaches a claim cannot hold them.
const X12Delimiters = "*:~^"

// MaxMRNLen is the longest MRN a claim can carry: X12 CLM01 holds 38
// characters, and the claim identifier is "<mrn>-<YYYYMMDD>".
const MaxMRNLen = 38 - len("-20260331")

// CheckMRN refuses an MRN that an X12 claim cannot carry, when it is
// recorded: otherwise one such MRN fails every X12 export of its dates.
// (The MRN is the only recorded identifier the 837P carries as typed; codes,
// NDCs and units come from the catalog, which checks them when loaded.)
func CheckMRN(field, mrn string) error {
	if i := strings.IndexAny(mrn, X12Delimiters); i >= 0 {
		return Invalid(field, "%s %q holds %q, which an X12 claim uses as a delimiter; write the MRN without * : ~ ^.", field, mrn, mrn[i:i+1])
	}
	if n := utf8.RuneCountInString(mrn); n > MaxMRNLen {
		return Invalid(field, "%s is %d characters long, more than the %d an X12 claim identifier leaves for it; give the MRN as the clinic's record system writes it.", field, n, MaxMRNLen)
	}
	return nil
}

// mrn reads an MRN: a required string that an X12 claim can carry.
func (o *object) mrn(f string) (string, error) {
	s, err := o.str(f, true)
	if err != nil {
		return "", err
	}
	return s, CheckMRN(o.name(f), s)
}

// decimal reads a quantity given as a JSON number or a string of digits.
func (o *object) decimal(f string, required bool) (decimal.Decimal, bool, error) {
	v, ok := o.get(f)
	if !ok {
		if required {
			return decimal.Zero, false, o.missing(f, "add it as a number such as \"2.5\"")
		}
		return decimal.Zero, false, nil
	}
	text := strings.TrimSpace(string(v))
	if strings.HasPrefix(text, `"`) {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return decimal.Zero, false, Invalid(o.name(f), "%s is not a readable string.", o.name(f))
		}
		text = strings.TrimSpace(s)
	}
	d, err := ParseQuantity(text)
	if err != nil {
		e := Invalid(o.name(f), "%s %s.", o.name(f), err.Error())
		e.Err = err
		return decimal.Zero, false, e
	}
	return d, true, nil
}

var quantityRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]{1,3})?$`)

// ParseQuantity parses a decimal quantity exactly ("2.4", "20", "1e1").
// The error reads as the end of a sentence naming the field.
func ParseQuantity(s string) (decimal.Decimal, error) {
	if !quantityRE.MatchString(s) {
		return decimal.Zero, fmt.Errorf("must be a decimal number such as \"2.5\", not %q", clip(s))
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero, fmt.Errorf("must be a decimal number such as \"2.5\", not %q", clip(s))
	}
	if d.Abs().GreaterThanOrEqual(maxQuantity) {
		return decimal.Zero, errTooLarge{clip(s)}
	}
	if d.Exponent() < -maxScale && !d.Equal(d.Round(maxScale)) {
		return decimal.Zero, fmt.Errorf("has more than %d decimal places (%s); round it", maxScale, clip(s))
	}
	return d, nil
}

// CheckQuantity refuses a quantity ParseQuantity would not have given, for
// one decoded another way: a stored entry, which pumpledger wrote from
// parsed input but someone may have altered. decimal reads exponents up to
// 10,000, and arithmetic on 1e9999 carries numbers of thousands of digits
// through every step, so the exponent is bounded before any comparison.
func CheckQuantity(field string, d decimal.Decimal) error {
	bad := func(format string, args ...any) error {
		return Invalid(field, "%s %s.", field, fmt.Sprintf(format, args...))
	}
	switch e := d.Exponent(); {
	case e > 9 && !d.IsZero():
		return bad("has 10 or more digits before the point")
	case e < -(maxScale + 30):
		return bad("has more than %d decimal places", maxScale)
	case d.Abs().GreaterThanOrEqual(maxQuantity):
		return bad("has 10 or more digits before the point")
	case e < -maxScale && !d.Equal(d.Round(maxScale)):
		return bad("has more than %d decimal places", maxScale)
	}
	return nil
}

// CheckQuantities is CheckQuantity of each of the refill's quantities.
func (r Refill) CheckQuantities() error {
	qs := []struct {
		field string
		d     decimal.Decimal
	}{{"residual_ml", r.ResidualML}, {"rinse_ml", r.RinseML}, {"fill_ml", r.FillML}, {"diluent_ml", r.DiluentML}, {"dose.mcg_per_day", r.Dose.MCGPerDay}}
	for i, s := range r.Solution {
		qs = append(qs, struct {
			field string
			d     decimal.Decimal
		}{fmt.Sprintf("solution[%d].mcg_per_ml", i), s.MCGPerML})
	}
	for _, q := range qs {
		if err := CheckQuantity(q.field, q.d); err != nil {
			return err
		}
	}
	return nil
}

// CheckQuantities is CheckQuantity of the dose change's quantity.
func (r Reprogram) CheckQuantities() error {
	return CheckQuantity("dose.mcg_per_day", r.Dose.MCGPerDay)
}

// CheckQuantities is CheckQuantity of the implant's alarm volume, if set.
func (im Implant) CheckQuantities() error {
	if !im.AlarmML.Valid {
		return nil
	}
	return CheckQuantity("alarm_ml", im.AlarmML.Decimal)
}

// errTooLarge is ParseQuantity's refusal of a number of 10 or more digits
// before the point; a count says it in its own words.
type errTooLarge struct{ text string }

func (e errTooLarge) Error() string { return fmt.Sprintf("is too large (%s); check the units", e.text) }

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// integer reads a whole number from lo to hi; unit names what it counts.
func (o *object) integer(f string, required bool, lo, hi int, unit string) (int, error) {
	d, ok, err := o.decimal(f, required)
	var big errTooLarge
	if errors.As(err, &big) {
		return 0, Invalid(o.name(f), "%s must be between %d and %d %s, not %s; check the figure.", o.name(f), lo, hi, unit, big.text)
	}
	if err != nil || !ok {
		return 0, err
	}
	if !d.IsInteger() {
		return 0, Invalid(o.name(f), "%s must be a whole number, not %s.", o.name(f), d)
	}
	if d.LessThan(decimal.NewFromInt(int64(lo))) || d.GreaterThan(decimal.NewFromInt(int64(hi))) {
		return 0, Invalid(o.name(f), "%s must be between %d and %d %s, not %s; check the figure.", o.name(f), lo, hi, unit, d)
	}
	return int(d.IntPart()), nil
}

func (o *object) instant(f string, required bool) (Instant, error) {
	s, err := o.str(f, required)
	if err != nil || s == "" {
		return Instant{}, err
	}
	t, err := ParseInstant(s)
	var ie instantError
	if errors.As(err, &ie) {
		return Instant{}, Invalid(o.name(f), "%s must be %s; %s.", o.name(f), ie.want, ie.fix)
	} else if err != nil {
		return Instant{}, Invalid(o.name(f), "%s must be a date and time with its UTC offset, like \"2026-03-02T09:30:00-05:00\", not %q.", o.name(f), clip(s))
	}
	return t, nil
}

// ParseDate parses a calendar date (YYYY-MM-DD).
func ParseDate(s string) (time.Time, error) {
	return time.Parse(time.DateOnly, s)
}

func (o *object) date(f string, required bool) (string, error) {
	s, err := o.str(f, required)
	if err != nil || s == "" {
		return s, err
	}
	if _, err := ParseDate(s); err != nil {
		return "", Invalid(o.name(f), "%s must be a date like \"2027-06-30\", not %q.", o.name(f), clip(s))
	}
	return s, nil
}

func (o *object) id(f string) (string, error) {
	s, err := o.str(f, false)
	if err != nil || s == "" {
		return s, err
	}
	u, err := uuid.Parse(s)
	if err != nil {
		return "", Invalid(o.name(f), "%s must be a UUID like \"5f0c6b1e-8d2a-4c1e-9a57-0b6f1d2e3c4a\", or left out to have one made.", o.name(f))
	}
	return u.String(), nil
}

func (o *object) object(f string, required bool) (*object, error) {
	v, ok := o.get(f)
	if !ok {
		if required {
			return nil, o.missing(f, "add it as an object")
		}
		return nil, nil
	}
	return decodeObject(o.name(f), v)
}

func (o *object) array(f string, required bool) ([]json.RawMessage, error) {
	v, ok := o.get(f)
	if !ok {
		if required {
			return nil, o.missing(f, "add it as a list [...]")
		}
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(v, &items); err != nil {
		return nil, Invalid(o.name(f), "%s must be a list [...].", o.name(f))
	}
	if required && len(items) == 0 {
		return nil, Invalid(o.name(f), "%s is empty; list at least one.", o.name(f))
	}
	return items, nil
}

func readAll(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInputBytes+1))
	if err != nil {
		return nil, Invalid("file", "The input cannot be read (%v); give a readable file, or - for standard input.", err)
	}
	if len(data) > MaxInputBytes {
		return nil, Invalid("", "The input is larger than %d bytes; send one entry at a time.", MaxInputBytes)
	}
	// RFC 8259 §8.1: a parser may ignore a byte-order mark, and editors on
	// Windows write one.
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if !utf8.Valid(data) {
		at := 0
		for at < len(data) {
			r, n := utf8.DecodeRune(data[at:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			at += n
		}
		return nil, Invalid("", "The input is not UTF-8 text (%s); save it as UTF-8 and send it again.", position(data, at))
	}
	return data, nil
}
