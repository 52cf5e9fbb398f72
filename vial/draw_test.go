package vial_test

import (
	"errors"
	"testing"

	"github.com/pumpledger/pumpledger/vial"
	"github.com/shopspring/decimal"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func ndc(s string) vial.NDC {
	n, err := vial.ParseNDC(s)
	if err != nil {
		panic(err)
	}
	return n
}

func product(printed, drug, mcgPerML, ml string, single bool) vial.Product {
	return vial.Product{NDC: ndc(printed), Printed: printed, Drug: drug, MCGPerML: dec(mcgPerML), ML: dec(ml), SingleDose: single}
}

// The ziconotide products of SPEC §2 and two fake multi-dose containers.
var (
	zic100   = product("70720-720-10", "ziconotide", "100", "1", true)
	zic100E  = product("68118-720-10", "ziconotide", "100", "1", true)
	zic500   = product("68118-722-10", "ziconotide", "100", "5", true)
	zic500T  = product("70720-722-10", "ziconotide", "100", "5", true)
	zic25    = product("70720-723-10", "ziconotide", "25", "20", true)
	morMulti = product("99999-102-01", "morphine", "10000", "10", false)
	morSD    = product("99999-101-01", "morphine", "25000", "20", true)
	zicMulti = product("99998-999-01", "ziconotide", "100", "5", false) // fake
)

func containers(ps ...vial.Product) []vial.Container {
	cs := make([]vial.Container, len(ps))
	for i, p := range ps {
		cs[i] = vial.Container{Product: p, Line: i}
	}
	return cs
}

func eq(t *testing.T, what string, got decimal.Decimal, want string) {
	t.Helper()
	if !got.Equal(dec(want)) {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

func TestProductMCG(t *testing.T) {
	for _, tt := range []struct {
		p    vial.Product
		want string
	}{{zic100, "100"}, {zic500, "500"}, {zic25, "500"}, {morMulti, "100000"}} {
		eq(t, tt.p.Printed+" MCG()", tt.p.MCG(), tt.want)
	}
}

func TestDrawOrdered(t *testing.T) {
	type per struct{ rinseML, rinse, fill, fillML, left string }
	tests := []struct {
		name                string
		cs                  []vial.Container
		rinseML, fillMCG    string
		opened, rinse, fill string
		fillML, waste, kept string
		jwRinse             string // SingleDoseRinseMCG
		single              bool   // AnySingleDose
		each                []per
	}{
		{
			name: "SPEC: 150 mcg from two 100 mcg vials", cs: containers(zic100, zic100), rinseML: "0", fillMCG: "150",
			opened: "200", rinse: "0", fill: "150", fillML: "1.5", waste: "50", kept: "0", jwRinse: "0", single: true,
			each: []per{{"0", "0", "100", "1", "0"}, {"0", "0", "50", "0.5", "50"}},
		},
		{
			name: "SPEC: 64.35 mcg from one 100 mcg vial", cs: containers(zic100), rinseML: "0", fillMCG: "64.35",
			opened: "100", rinse: "0", fill: "64.35", fillML: "0.6435", waste: "35.65", kept: "0", jwRinse: "0", single: true,
			each: []per{{"0", "0", "64.35", "0.6435", "35.65"}},
		},
		{
			name: "SPEC: naive rinse 6 mL of 25 mcg/mL then 350 mcg", cs: containers(zic25), rinseML: "6", fillMCG: "350",
			opened: "500", rinse: "150", fill: "350", fillML: "14", waste: "0", kept: "0", jwRinse: "150", single: true,
			each: []per{{"6", "150", "350", "14", "0"}},
		},
		{
			name: "rinse spans two containers, fill from the second and third", cs: containers(zic100, zic500, zic100), rinseML: "3", fillMCG: "400",
			opened: "700", rinse: "300", fill: "400", fillML: "4", waste: "0", kept: "0", jwRinse: "300", single: true,
			each: []per{{"1", "100", "0", "0", "0"}, {"2", "200", "300", "3", "0"}, {"0", "0", "100", "1", "0"}},
		},
		{
			name: "drawn in the order listed, not smallest first", cs: containers(zic500, zic100), rinseML: "0", fillMCG: "150",
			opened: "600", rinse: "0", fill: "150", fillML: "1.5", waste: "450", kept: "0", jwRinse: "0", single: true,
			each: []per{{"0", "0", "150", "1.5", "350"}, {"0", "0", "0", "0", "100"}},
		},
		{
			name: "multi-dose: what is left is kept, not waste", cs: containers(morMulti), rinseML: "0", fillMCG: "20000",
			opened: "100000", rinse: "0", fill: "20000", fillML: "2", waste: "0", kept: "80000", jwRinse: "0", single: false,
			each: []per{{"0", "0", "20000", "2", "80000"}},
		},
		{
			name: "single-dose then multi-dose", cs: containers(morSD, morMulti), rinseML: "0", fillMCG: "520000",
			opened: "600000", rinse: "0", fill: "520000", fillML: "22", waste: "0", kept: "80000", jwRinse: "0", single: true,
			each: []per{{"0", "0", "500000", "20", "0"}, {"0", "0", "20000", "2", "80000"}},
		},
		{
			name: "multi-dose then single-dose: the single-dose remainder is waste", cs: containers(zicMulti, zic100), rinseML: "1", fillMCG: "450",
			opened: "600", rinse: "100", fill: "450", fillML: "4.5", waste: "50", kept: "0", jwRinse: "0", single: true,
			each: []per{{"1", "100", "400", "4", "0"}, {"0", "0", "50", "0.5", "50"}},
		},
		{
			name: "fill uses a container exactly", cs: containers(zic100, zic100, zic100), rinseML: "0", fillMCG: "200",
			opened: "300", rinse: "0", fill: "200", fillML: "2", waste: "100", kept: "0", jwRinse: "0", single: true,
			each: []per{{"0", "0", "100", "1", "0"}, {"0", "0", "100", "1", "0"}, {"0", "0", "0", "0", "100"}},
		},
		{
			name: "a volume that is not a whole number of decimal places is rounded to 6", cs: containers(zic100), rinseML: "0", fillMCG: "33.333333",
			opened: "100", rinse: "0", fill: "33.333333", fillML: "0.333333", waste: "66.666667", kept: "0", jwRinse: "0", single: true,
			each: []per{{"0", "0", "33.333333", "0.333333", "66.666667"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := vial.DrawOrdered(tt.cs, dec(tt.rinseML), dec(tt.fillMCG))
			if err != nil {
				t.Fatal(err)
			}
			eq(t, "OpenedMCG", d.OpenedMCG, tt.opened)
			eq(t, "RinseMCG", d.RinseMCG, tt.rinse)
			eq(t, "FillMCG", d.FillMCG, tt.fill)
			eq(t, "FillML", d.FillML, tt.fillML)
			eq(t, "WasteMCG", d.WasteMCG, tt.waste)
			eq(t, "KeptMCG", d.KeptMCG, tt.kept)
			eq(t, "SingleDoseRinseMCG", d.SingleDoseRinseMCG(), tt.jwRinse)
			if d.AnySingleDose() != tt.single {
				t.Errorf("AnySingleDose = %v, want %v", d.AnySingleDose(), tt.single)
			}
			// Nothing is lost: opened = rinse + fill + waste + kept.
			eq(t, "rinse+fill+waste+kept", d.RinseMCG.Add(d.FillMCG).Add(d.WasteMCG).Add(d.KeptMCG), d.OpenedMCG.String())
			if len(d.Containers) != len(tt.each) {
				t.Fatalf("%d containers, want %d", len(d.Containers), len(tt.each))
			}
			for i, w := range tt.each {
				c := d.Containers[i]
				if c.Line != i {
					t.Errorf("container %d Line = %d", i, c.Line)
				}
				eq(t, "RinseML", c.RinseML, w.rinseML)
				eq(t, "RinseMCG", c.RinseMCG, w.rinse)
				eq(t, "FillMCG", c.FillMCG, w.fill)
				eq(t, "FillML", c.FillML, w.fillML)
				eq(t, "LeftMCG", c.LeftMCG, w.left)
			}
		})
	}
}

func TestDrawOrderedShort(t *testing.T) {
	tests := []struct {
		name             string
		cs               []vial.Container
		rinseML, fillMCG string
		need, have       string
	}{
		{"fill short", containers(zic100), "0", "150", "150", "100"},
		{"fill short after the rinse", containers(zic25), "6", "400", "550", "500"},
		{"rinse short", containers(zic100, zic100), "3", "10", "310", "200"},
		{"no containers", nil, "0", "1", "1", "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := vial.DrawOrdered(tt.cs, dec(tt.rinseML), dec(tt.fillMCG))
			if !errors.Is(err, vial.ErrShort) {
				t.Fatalf("err = %v, want ErrShort", err)
			}
			var se *vial.ShortError
			if !errors.As(err, &se) {
				t.Fatalf("err = %T, want *ShortError", err)
			}
			eq(t, "NeedMCG", se.NeedMCG, tt.need)
			eq(t, "HaveMCG", se.HaveMCG, tt.have)
		})
	}
}

func TestStabilityDays(t *testing.T) {
	l := vial.Label{NaiveRefillDays: 14, DilutedRefillDays: 40, UndilutedRefillDays: 84}
	for _, tt := range []struct {
		naive, diluted bool
		want           int
	}{{true, true, 14}, {true, false, 14}, {false, true, 40}, {false, false, 84}} {
		if got := l.StabilityDays(tt.naive, tt.diluted); got != tt.want {
			t.Errorf("StabilityDays(naive=%v, diluted=%v) = %d, want %d", tt.naive, tt.diluted, got, tt.want)
		}
	}
	// No naive limit: a naive fill falls back to diluted/undiluted.
	l.NaiveRefillDays = 0
	if got := l.StabilityDays(true, false); got != 84 {
		t.Errorf("without a naive limit StabilityDays(true, false) = %d, want 84", got)
	}
	if got := (vial.Label{}).StabilityDays(true, true); got != 0 {
		t.Errorf("empty label StabilityDays = %d, want 0", got)
	}
}
