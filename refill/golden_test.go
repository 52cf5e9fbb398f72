package refill_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/refill"
)

var update = flag.Bool("update", false, "rewrite testdata/refill/*.golden from the derived records")

// goldenInput is one testdata/refill/NAME.input.json: the refill, what the
// ledger knows of the pump before it, and the clock.
//
//	{
//	  "about":   ["what the case shows", "and the figures worked by hand"],
//	  "catalog": "default" or "test" (testdata/catalog-test.json),
//	  "now":     "2026-04-01T00:00:00Z",
//	  "pump":    {"model": "synchromed-ii-20", "alarm_ml": "2"},  (alarm_ml optional)
//	  "history": [{"refill": {...}}, {"reprogram": {...}}, ...],  oldest first, as recorded
//	  "refill":  {...}                                            the refill to derive
//	}
//
// Entries are in the input format of SPEC §7 and go through ParseRefill and
// ParseReprogram, as the CLI's would.
type goldenInput struct {
	About   []string `json:"about"`
	Catalog string   `json:"catalog"`
	Now     string   `json:"now"`
	Pump    struct {
		Model   string `json:"model"`
		AlarmML string `json:"alarm_ml"`
	} `json:"pump"`
	History []struct {
		Refill    json.RawMessage `json:"refill"`
		Reprogram json.RawMessage `json:"reprogram"`
	} `json:"history"`
	Refill json.RawMessage `json:"refill"`
}

// goldenError is the golden of a refused refill.
type goldenError struct {
	Error struct {
		Code    string `json:"code"`
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"error"`
}

func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("../testdata/refill/*.input.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) < 10 {
		t.Fatalf("%d golden inputs, want at least 10", len(inputs))
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".input.json")
		t.Run(name, func(t *testing.T) {
			got := derive(t, in)
			golden := strings.TrimSuffix(in, ".input.json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./refill -update to write it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("derived record differs from %s (go test ./refill -update rewrites it; review the diff):\n%s", golden, diffLines(string(want), string(got)))
			}
		})
	}
}

func derive(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var in goldenInput
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var cat *catalog.Catalog
	switch in.Catalog {
	case "default", "":
		cat = catalog.Default()
	case "test":
		cat = testCatalog
	default:
		t.Fatalf("catalog %q: want default or test", in.Catalog)
	}
	var entries []entry
	for i, h := range in.History {
		switch {
		case h.Refill != nil:
			r, err := pumpledger.ParseRefill(bytes.NewReader(h.Refill))
			if err != nil {
				t.Fatalf("history[%d].refill: %v", i, err)
			}
			entries = append(entries, entry{Refill: &r})
		case h.Reprogram != nil:
			p, err := pumpledger.ParseReprogram(bytes.NewReader(h.Reprogram))
			if err != nil {
				t.Fatalf("history[%d].reprogram: %v", i, err)
			}
			entries = append(entries, entry{Reprogram: &p})
		default:
			t.Fatalf("history[%d] is neither a refill nor a reprogram", i)
		}
	}
	h := historyOf(t, cat, in.Pump.Model, in.Pump.AlarmML, entries...)
	r, err := pumpledger.ParseRefill(bytes.NewReader(in.Refill))
	if err != nil {
		t.Fatalf("refill: %v", err)
	}
	now, err := pumpledger.ParseInstant(in.Now)
	if err != nil {
		t.Fatalf("now: %v", err)
	}
	var out any
	rec, err := refill.Derive(cat, r, h, now.UTC)
	if err != nil {
		var e *pumpledger.Error
		if !errors.As(err, &e) {
			t.Fatalf("Derive: %v is not a *pumpledger.Error", err)
		}
		var g goldenError
		g.Error.Code, g.Error.Field, g.Error.Message = e.Code, e.Field, e.Message
		out = g
	} else {
		out = rec
		// A bill derives lines without the pump's history: they must be
		// the record's, whatever the history.
		lines, err := refill.Lines(cat, r)
		if err != nil {
			t.Fatalf("Lines refused what Derive accepted: %v", err)
		}
		if !reflect.DeepEqual(lines, rec.Lines) {
			t.Errorf("Lines = %+v, want the record's %+v", lines, rec.Lines)
		}
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// diffLines shows the lines that differ, with their numbers.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var x, y string
		if i < len(w) {
			x = w[i]
		}
		if i < len(g) {
			y = g[i]
		}
		if x != y {
			b.WriteString("line " + itoa(i+1) + ":\n- " + x + "\n+ " + y + "\n")
		}
	}
	return b.String()
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
