package billing_test

import (
	"testing"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
)

func TestPayerRules(t *testing.T) {
	p := billing.Payer{ID: "acme", CodeOverrides: map[string]string{"ziconotide": "J2277"}, PriorAuth: []string{"J2278", "62369"},
		MUE: map[string]int64{"J2278": 30}, Documentation: []pumpledger.Kind{pumpledger.KindDiagnosis, pumpledger.KindTrial}}
	for _, tt := range []struct{ drug, code, want string }{
		{"ziconotide", "J2278", "J2277"}, // the payer's code
		{"morphine", "J2274", "J2274"},   // no override: the catalog's
		{"Ziconotide", "J2278", "J2278"}, // overrides name the drug as the catalog does
	} {
		if got := p.Code(tt.drug, tt.code); got != tt.want {
			t.Errorf("Code(%s, %s) = %s, want %s", tt.drug, tt.code, got, tt.want)
		}
	}
	for code, want := range map[string]bool{"J2278": true, "62369": true, "J2274": false, "95990": false} {
		if got := p.NeedsPriorAuth(code); got != want {
			t.Errorf("NeedsPriorAuth(%s) = %v", code, got)
		}
	}
	for k, want := range map[pumpledger.Kind]bool{pumpledger.KindDiagnosis: true, pumpledger.KindTrial: true, pumpledger.KindConsent: false, pumpledger.KindRefill: false} {
		if got := p.Needs(k); got != want {
			t.Errorf("Needs(%s) = %v", k, got)
		}
	}
	if u, ok := p.MUEUnits("J2278"); !ok || u != 30 {
		t.Errorf("MUEUnits(J2278) = %d, %v", u, ok)
	}
	if u, ok := p.MUEUnits("J2274"); ok {
		t.Errorf("MUEUnits(J2274) = %d, set", u)
	}
	// The zero profile changes nothing and needs nothing.
	var zero billing.Payer
	if zero.Code("ziconotide", "J2278") != "J2278" || zero.NeedsPriorAuth("J2278") || zero.Needs(pumpledger.KindDiagnosis) {
		t.Error("the zero profile applies a rule")
	}
	if _, ok := zero.MUEUnits("J2278"); ok {
		t.Error("the zero profile has an MUE")
	}
}
