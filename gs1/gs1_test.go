package gs1

import (
	"errors"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/catalog"
)

// Real-looking scans of the catalog's Prialt vials: GTIN-14 = 0 + 03 + the
// NDC's 10 digits + check digit (70720-720-10 → 00370720720107).
func TestParse(t *testing.T) {
	want := Scan{GTIN: "00370720720107", NDC10: "7072072010", Expires: "2027-06-30", Lot: "A1234B", Serial: "100000123456"}
	noSerial := want
	noSerial.Serial = ""
	for _, tc := range []struct {
		name, in string
		want     Scan
	}{
		{"raw with symbology identifier", "]d2" + "0100370720720107" + "17270630" + "10A1234B" + GS + "21100000123456", want},
		{"raw without identifier", "0100370720720107" + "17270630" + "10A1234B" + GS + "21100000123456", want},
		{"serial before lot, lot ends the data", "]d20100370720720107" + "21100000123456" + GS + "17270630" + "10A1234B", want},
		{"expiry first", "17270630" + "0100370720720107" + "21100000123456" + GS + "10A1234B", want},
		{"leading FNC1 and trailing Enter", GS + "0100370720720107172706301" + "0A1234B" + GS + "21100000123456\r\n", want},
		{"separator after a fixed field", "01003707207201" + "07" + GS + "17270630" + GS + "10A1234B" + GS + "21100000123456", want},
		{"day 00 is the month's last day", "]d2010037072072010717270600" + "10A1234B" + GS + "21100000123456", want},
		{"human readable", "(01)00370720720107(17)270630(10)A1234B(21)100000123456", want},
		{"human readable with spaces, any order", "(10) A1234B (01) 00370720720107 (17) 270630 (21) 100000123456", want},
		{"no serial", "]d2010037072072010717270630" + "10A1234B", noSerial},
		{"500 mcg vial, February of a leap year",
			"]d20100368118722109" + "17280200" + "10X9" + GS + "21SN-1",
			Scan{GTIN: "00368118722109", NDC10: "6811872210", Expires: "2028-02-29", Lot: "X9", Serial: "SN-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct{ name, in, says string }{
		{"wrong check digit", "]d20100370720720108" + "1727063010A1", "check digit 8, not 7"},
		{"13-digit GTIN", "(01)0370720720107(17)270630(10)A1", `"0370720720107" is not 14 digits`},
		{"13-digit GTIN, raw", "01037072072010", "has 12 characters, not 14"},
		{"expiry month 13", "]d2010037072072010717271301" + "10A1", "month 13"},
		{"expiry day 31 of June", "]d2010037072072010717270631" + "10A1", "day 31"},
		{"lot over 20 characters", "]d2010037072072010717270630" + "10ABCDEFGHIJKLMNOPQRSTU", "more than GS1's 20"},
		{"lot and serial run together", "]d2010037072072010717270630" + "10A1234B211000001234567", "a separator is missing"},
		{"unknown AI", "]d2010037072072010717270630" + "10A1" + GS + "11260101", "(11) is not one pumpledger reads"},
		{"unknown AI, human readable", "(01)00370720720107(17)270630(10)A1(30)5", "(30) is not one"},
		{"GTIN not an NDC", "(01)04006381333931(17)270630(10)A1", "does not carry a US NDC"},
		{"GTIN of a case", "(01)10370720720104(17)270630(10)A1", "package level 1"},
		{"no lot", "]d2010037072072010717270630", "no lot (10)"},
		{"no GTIN", "(17)270630(10)A1", "no GTIN (01)"},
		{"GTIN twice", "(01)00370720720107(01)00370720720107(17)270630(10)A1", "appears twice"},
		{"another symbology", "]C1010037072072010717270630" + "10A1", `"]C1"`},
		{"an NDC typed alone", "7072072010", "(70) is not one"},
		{"not element strings", "NDC 7072072010", "is not an Application Identifier"},
		{"empty", " \r\n", "is empty"},
		{"lot with a control character", "]d2010037072072010717270630" + "10A\x01", "GS1 does not allow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.in)
			var pe *pumpledger.Error
			if !errors.As(err, &pe) || pe.Code != pumpledger.EINVALID || pe.Field != "scan" {
				t.Fatalf("Parse(%q) = %v, want an invalid error of field scan", tc.in, err)
			}
			if !strings.Contains(pe.Message, tc.says) || strings.Count(pe.Message, ". ") > 0 || !strings.HasSuffix(pe.Message, ".") {
				t.Errorf("Parse(%q): %q, want one sentence saying %q", tc.in, pe.Message, tc.says)
			}
		})
	}
}

func TestCheckDigit(t *testing.T) {
	// 4006381333931: an EAN-13 printed on retail goods, check digit 1;
	// 036000291452: a UPC-A, check digit 2.
	for body, want := range map[string]byte{"400638133393": '1', "0400638133393": '1', "03600029145": '2', "0037072072010": '7'} {
		if got := CheckDigit(body); got != want {
			t.Errorf("CheckDigit(%s) = %c, want %c", body, got, want)
		}
	}
}

func TestProduct(t *testing.T) {
	cat := catalog.Default()
	for ndc10, want := range map[string]string{"7072072010": "70720-720-10", "6811872210": "68118-722-10", "7072072310": "70720-723-10"} {
		p, err := Product(cat, ndc10)
		if err != nil {
			t.Fatal(err)
		}
		if p.Printed != want || p.Drug != "ziconotide" {
			t.Errorf("Product(%s) = %s %s, want %s", ndc10, p.Printed, p.Drug, want)
		}
	}
	if _, err := Product(cat, "1234567890"); err == nil || !strings.Contains(err.Error(), "not a product of the catalog") {
		t.Errorf("an NDC the catalog lacks: %v", err)
	}
}

// The three candidates of 10 digits, one per segment layout.
func TestCandidates(t *testing.T) {
	got := Candidates("7072072010")
	want := []string{"07072-0720-10", "70720-0720-10", "70720-7201-00"}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("candidate %d = %s, want %s", i, got[i], want[i])
		}
	}
}

// FuzzParse: Parse never panics; whatever it accepts is refused or
// accepted with one plain sentence, and re-encodes (raw, and printed when
// the lot and serial hold no parenthesised AI) to a scan that parses the same.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"]d20100370720720107172706301" + "0A1234B" + GS + "21100000123456",
		"(01)00370720720107(17)270600(10)A1234B(21)1",
		"010036811872210917280200" + "10X9",
		"]d2010037072072010717271301" + "10A1",
		"(01)0370720720107(17)270630(10)A1",
		"(10)((01)(01)00370720720107(17)270630",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc, err := Parse(s)
		if err != nil {
			var pe *pumpledger.Error
			if !errors.As(err, &pe) || pe.Field != "scan" || pe.Message == "" {
				t.Fatalf("Parse(%q): %v is not an invalid scan", s, err)
			}
			return
		}
		if GTIN(sc.NDC10) != sc.GTIN {
			t.Fatalf("Parse(%q): GTIN %s does not carry NDC %s", s, sc.GTIN, sc.NDC10)
		}
		encodings := []string{sc.Raw()}
		if nextHRI(sc.Lot) == len(sc.Lot) && nextHRI(sc.Serial) == len(sc.Serial) && strings.TrimSpace(sc.Lot) == sc.Lot && strings.TrimSpace(sc.Serial) == sc.Serial {
			encodings = append(encodings, sc.HRI())
		}
		for _, enc := range encodings {
			again, err := Parse(enc)
			if err != nil || again != sc {
				t.Fatalf("Parse(%q) = %+v, re-encoded %q parses to %+v, %v", s, sc, enc, again, err)
			}
		}
	})
}
