package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// A payload shown as the auditor reads it: decoded token by token, so its
// fields keep their recorded order and names and its numbers their
// recorded digits (json.Number is the literal: 17.10 stays 17.10, where a
// float64 would print 17.1). Any kind renders through this one shape, so a
// new kind needs no new code.

// value is one JSON value: exactly one of Text (a string or literal),
// Fields (an object), Table (a list of flat objects), Items (any other
// list) is what it shows.
type value struct {
	Text   string
	Empty  string // "" unless the value is empty: what to show instead
	Fields []field
	Table  *table
	Items  []value
	Object bool
}

// field is one of an object's fields, its name as recorded.
type field struct {
	Key   string
	Value value
}

// table is a list of objects whose fields are all scalars (a refill's
// vials): one column per field name, in the order they first appear.
type table struct {
	Columns []string
	Rows    [][]string
}

// readPayload decodes raw into a value; ok is false when raw is not one
// JSON value (then the page shows only the bytes).
func readPayload(raw []byte) (v value, ok bool) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	v, err := readValue(d)
	if err != nil {
		return value{}, false
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return value{}, false
	}
	return v, true
}

func readValue(d *json.Decoder) (value, error) {
	t, err := d.Token()
	if err != nil {
		return value{}, err
	}
	switch x := t.(type) {
	case json.Delim:
		switch x {
		case '{':
			v := value{Object: true}
			for d.More() {
				k, err := d.Token()
				if err != nil {
					return value{}, err
				}
				fv, err := readValue(d)
				if err != nil {
					return value{}, err
				}
				v.Fields = append(v.Fields, field{Key: k.(string), Value: fv})
			}
			if _, err := d.Token(); err != nil { // '}'
				return value{}, err
			}
			if len(v.Fields) == 0 {
				v.Empty = "(none)"
			}
			return v, nil
		case '[':
			var v value
			for d.More() {
				iv, err := readValue(d)
				if err != nil {
					return value{}, err
				}
				v.Items = append(v.Items, iv)
			}
			if _, err := d.Token(); err != nil { // ']'
				return value{}, err
			}
			if len(v.Items) == 0 {
				v.Empty = "(none)"
			} else if tb := tableOf(v.Items); tb != nil {
				v.Table, v.Items = tb, nil
			}
			return v, nil
		}
		return value{}, errors.New("unexpected " + x.String())
	case string:
		if x == "" {
			return value{Empty: "(empty)"}, nil
		}
		return value{Text: x}, nil
	case json.Number:
		return value{Text: x.String()}, nil
	case bool:
		if x {
			return value{Text: "true"}, nil
		}
		return value{Text: "false"}, nil
	case nil:
		return value{Empty: "(none)"}, nil
	}
	return value{}, errors.New("unexpected token")
}

// tableOf is items as a table when each is an object of scalars, else nil.
func tableOf(items []value) *table {
	tb := &table{}
	at := map[string]int{}
	for _, it := range items {
		if !it.Object || len(it.Fields) == 0 {
			return nil
		}
		for _, f := range it.Fields {
			if f.Value.Object || f.Value.Table != nil || f.Value.Items != nil {
				return nil
			}
			if _, ok := at[f.Key]; !ok {
				at[f.Key] = len(tb.Columns)
				tb.Columns = append(tb.Columns, f.Key)
			}
		}
	}
	for _, it := range items {
		row := make([]string, len(tb.Columns))
		for _, f := range it.Fields {
			// A field named twice in one object (JSON allows it) keeps
			// both, as recorded.
			if c := &row[at[f.Key]]; *c == "" {
				*c = f.Value.Text + f.Value.Empty
			} else {
				*c += "; " + f.Value.Text + f.Value.Empty
			}
		}
		tb.Rows = append(tb.Rows, row)
	}
	return tb
}
