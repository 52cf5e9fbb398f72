package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/gs1"
	"github.com/pumpledger/pumpledger/vial"
)

// scanOut is what scan --json prints: the scan, the catalog's product, and
// the refill's vials line.
type scanOut struct {
	Scan    gs1.Scan           `json:"scan"`
	Product scanProduct        `json:"product"`
	Vial    pumpledger.VialUse `json:"vial"`
}

type scanProduct struct {
	NDC      string `json:"ndc"` // as the catalog prints it
	Drug     string `json:"drug"`
	MCGPerML string `json:"mcg_per_ml"`
	ML       string `json:"ml"`
	Labeler  string `json:"labeler"`
}

// scan reads what a barcode scanner typed for a vial's GS1 DataMatrix and
// finds its product in the catalog a plan would use (--catalog, else the
// ledger's in force today, else the embedded one).
func (a *app) scan(args []string) error {
	fs := a.flags("scan")
	text := fs.String("text", "", "what the scanner typed (]d2 01…17…10…, GS between fields) or the printed (01)…(17)…(10)…; - reads it from stdin")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := a.parse(fs, args, "text"); err != nil {
		return err
	}
	s := *text
	if s == "-" {
		b, err := io.ReadAll(io.LimitReader(a.stdin, 4096))
		if err != nil {
			return err
		}
		s = string(b)
	}
	sc, err := gs1.Parse(s)
	if err != nil {
		return err
	}
	cat, err := a.planCatalog()
	if err != nil {
		return err
	}
	p, err := gs1.Product(cat, sc.NDC10)
	if err != nil {
		return err
	}
	out := scanOut{Scan: sc, Product: scanProduct{NDC: p.Printed, Drug: p.Drug, MCGPerML: p.MCGPerML.String(), ML: p.ML.String(), Labeler: p.Labeler},
		Vial: pumpledger.VialUse{NDC: p.Printed, Count: 1, Lot: sc.Lot, Expires: sc.Expires}}
	if *asJSON {
		return writeJSON(a.stdout, out)
	}
	line, err := json.Marshal(out.Vial)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "Product  NDC %s  %s %s mcg/mL, %s mL (%s)%s\n", p.Printed, p.Drug, p.MCGPerML, p.ML, p.Labeler, verifyNote(p))
	fmt.Fprintf(a.stdout, "GTIN     %s\n", sc.GTIN)
	fmt.Fprintf(a.stdout, "Lot      %s\n", sc.Lot)
	fmt.Fprintf(a.stdout, "Expires  %s\n", sc.Expires)
	if sc.Serial != "" {
		fmt.Fprintf(a.stdout, "Serial   %s\n", sc.Serial)
	}
	fmt.Fprintf(a.stdout, "vials:   %s\n", line)
	return nil
}

func verifyNote(p vial.Product) string {
	if p.Verify {
		return "  (presentation inferred: check the carton)"
	}
	return ""
}
