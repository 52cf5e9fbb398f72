package pumpledger

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// DuplicateKey returns the first key given twice in one object, at any depth
// of the JSON value data, and its path from the top ("fill_ml",
// "vials[0].count"); ok is false when there is none or data is not JSON.
// encoding/json keeps the last of two equal keys silently: "fill_ml": 20,
// "fill_ml": 2 would record 2 mL. Every input and the catalog refuse them.
func DuplicateKey(data []byte) (key, path string, ok bool) {
	type frame struct {
		path    string
		keys    map[string]bool // nil for a list
		wantKey bool
		key     string // the key whose value is being read
		n       int    // the list's values so far
	}
	var stack []*frame
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", "", false
		}
		var top *frame
		if n := len(stack); n > 0 {
			top = stack[n-1]
		}
		if top != nil && top.wantKey {
			if k, isKey := tok.(string); isKey {
				if top.keys[k] {
					return k, joinPath(top.path, k), true
				}
				top.keys[k], top.key, top.wantKey = true, k, false
				continue
			}
		}
		switch tok {
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		default: // a value begins
			var at string
			switch {
			case top == nil:
			case top.keys == nil:
				at = top.path + "[" + strconv.Itoa(top.n) + "]"
				top.n++
			default:
				at = joinPath(top.path, top.key)
			}
			switch tok {
			case json.Delim('{'):
				stack = append(stack, &frame{path: at, keys: map[string]bool{}, wantKey: true})
				continue
			case json.Delim('['):
				stack = append(stack, &frame{path: at})
				continue
			}
		}
		if len(stack) == 0 {
			return "", "", false
		}
		if top := stack[len(stack)-1]; top.keys != nil {
			top.wantKey = true // a value ended: its object wants a key next
		}
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
