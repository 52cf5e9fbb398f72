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
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil || raw == nil {
		where := "The input"
		if path != "" {
			where = path
		}
		var te *json.UnmarshalTypeError
		if err == nil || errors.As(err, &te) {
			return nil, Invalid(path, "%s must be a JSON object; write it as {\"field\": value, ...}.", where)
		}
		return nil, Invalid(path, "%s is not valid JSON (%s); fix the syntax and send it again.", where, jsonReason(err))
	}
	if dec.More() {
		return nil, Invalid(path, "The input has more than one JSON value; send exactly one object.")
	}
	return &object{path: path, raw: raw, seen: map[string]bool{}}, nil
}

func jsonReason(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	}
	return err.Error()
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
			return "", Invalid(o.name(f), "%s is missing; add it.", o.name(f))
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
	return s, nil
}

// decimal reads a quantity given as a JSON number or a string of digits.
func (o *object) decimal(f string, required bool) (decimal.Decimal, bool, error) {
	v, ok := o.get(f)
	if !ok {
		if required {
			return decimal.Zero, false, Invalid(o.name(f), "%s is missing; add it as a number such as \"2.5\".", o.name(f))
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
		return decimal.Zero, false, Invalid(o.name(f), "%s %s.", o.name(f), err.Error())
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
		return decimal.Zero, fmt.Errorf("is too large (%s); check the units", clip(s))
	}
	if d.Exponent() < -maxScale && !d.Equal(d.Round(maxScale)) {
		return decimal.Zero, fmt.Errorf("has more than %d decimal places (%s); round it", maxScale, clip(s))
	}
	return d, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func (o *object) integer(f string, required bool) (int, error) {
	d, ok, err := o.decimal(f, required)
	if err != nil || !ok {
		return 0, err
	}
	if !d.IsInteger() || d.GreaterThan(decimal.NewFromInt(100000)) || d.LessThan(decimal.NewFromInt(-100000)) {
		return 0, Invalid(o.name(f), "%s must be a whole number, not %s.", o.name(f), d)
	}
	return int(d.IntPart()), nil
}

func (o *object) instant(f string, required bool) (Instant, error) {
	s, err := o.str(f, required)
	if err != nil || s == "" {
		return Instant{}, err
	}
	t, err := ParseInstant(s)
	if err != nil {
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
			return nil, Invalid(o.name(f), "%s is missing; add it as an object.", o.name(f))
		}
		return nil, nil
	}
	return decodeObject(o.name(f), v)
}

func (o *object) array(f string, required bool) ([]json.RawMessage, error) {
	v, ok := o.get(f)
	if !ok {
		if required {
			return nil, Invalid(o.name(f), "%s is missing; add it as a list [...].", o.name(f))
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
		return nil, Errorf(EINTERNAL, "read input: %v", err)
	}
	if len(data) > MaxInputBytes {
		return nil, Invalid("", "The input is larger than %d bytes; send one entry at a time.", MaxInputBytes)
	}
	return data, nil
}
