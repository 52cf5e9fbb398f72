package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// scan finds a scanned Prialt vial in the catalog and prints a vials line
// that a refill takes as it is.
func TestScan(t *testing.T) {
	c := newCLI(t)
	c.seed()
	const raw = "]d2" + "0100370720720107" + "17270600" + "10L3\x1d" + "21100000123456"
	out := c.ok("", "scan", "--text", raw)
	for _, want := range []string{
		"Product  NDC 70720-720-10  ziconotide 100 mcg/mL, 1 mL (TerSera)",
		"Lot      L3", "Expires  2027-06-30", "Serial   100000123456",
		`vials:   {"ndc":"70720-720-10","count":1,"lot":"L3","expires":"2027-06-30"}`,
	} {
		if !hasLine(strings.Split(out, "\n"), want) {
			t.Errorf("no line %q in\n%s", want, out)
		}
	}
	// The line pasted into a refill: two of the scanned vial.
	var got struct{ Vial map[string]any }
	if err := json.Unmarshal([]byte(c.ok(raw, "scan", "--text", "-", "--json")), &got); err != nil {
		t.Fatal(err)
	}
	got.Vial["count"] = 2
	line, _ := json.Marshal(got.Vial)
	c.ok(strings.Replace(fill2, `{"ndc":"70720-720-10","count":2,"lot":"L3","expires":"2027-06-30"}`, string(line), 1), "refill", "--file", "-")

	for _, tc := range []struct{ text, says string }{
		{"(01)00370720720108(17)270630(10)L3", "pumpledger: scan: the GTIN (01) 00370720720108 has check digit 8, not 7; the scan is misread, so scan the vial again.\n"},
		{"(01)00312345678906(17)270630(10)L3", "pumpledger: scan: NDC 1234567890 (from the GTIN) is not a product of the catalog in force; check the vial is one the clinic stocks, or add its product to a site catalog.\n"},
	} {
		code, out, errs := c.run("", "scan", "--text", tc.text)
		if code != 1 || out != "" || errs != tc.says {
			t.Errorf("scan %s: exit %d, %q\n got %q\nwant %q", tc.text, code, out, errs, tc.says)
		}
	}
}
