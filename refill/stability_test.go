package refill_test

import (
	"maps"
	"testing"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/refill"
)

// A fill's stability limit depends on what the pump held before it: the
// first fill of a drug is naive (14 days), later ones 40 diluted or 84
// undiluted; a pump that held every drug takes the limit computed once.
func TestFillStability(t *testing.T) {
	diluted := zic("2026-03-31T09:00:00Z", "20", "5", "1.2", vials("70720-720-10", 1))
	diluted.DiluentML = dec("19")
	undiluted := zic("2026-03-31T09:00:00Z", "20", "25", "2.4", vials("70720-723-10", 1))
	tests := []struct {
		name     string
		held     map[string]bool
		heldDays int // passed as the precomputed limit when all are held
		want     int
	}{
		{name: "naive pump, undiluted: 14", held: map[string]bool{}, heldDays: 84, want: 14},
		{name: "naive to ziconotide though it held morphine: 14", held: map[string]bool{"morphine": true}, heldDays: 84, want: 14},
		{name: "held before: the precomputed limit", held: map[string]bool{"ziconotide": true}, heldDays: 84, want: 84},
		{name: "held before: the limit given is the one used", held: map[string]bool{"ziconotide": true}, heldDays: 7, want: 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			held := maps.Clone(tt.held)
			f := refill.FillOf(defaultCatalog, undiluted)
			days, drug := refill.FillStability(defaultCatalog, undiluted, f, held, tt.heldDays, "ziconotide")
			if days != tt.want || drug != "ziconotide" {
				t.Errorf("limit %d (%s), want %d (ziconotide)", days, drug, tt.want)
			}
			if !held["ziconotide"] {
				t.Error("the fill's drug was not added to held")
			}
		})
	}
	// HeldStability is what a pump that held the drug gets.
	for _, c := range []struct {
		name string
		fill func() (int, string)
		want int
	}{
		{"undiluted", func() (int, string) {
			return refill.HeldStability(defaultCatalog, undiluted, refill.FillOf(defaultCatalog, undiluted))
		}, 84},
		{"diluted", func() (int, string) {
			return refill.HeldStability(defaultCatalog, diluted, refill.FillOf(defaultCatalog, diluted))
		}, 40},
	} {
		if days, drug := c.fill(); days != c.want || drug != "ziconotide" {
			t.Errorf("HeldStability %s = %d (%s), want %d", c.name, days, drug, c.want)
		}
	}
	// A pump's fills in order: naive first, then held.
	held := map[string]bool{}
	var got []int
	for _, in := range []pumpledger.Refill{undiluted, diluted} {
		f := refill.FillOf(defaultCatalog, in)
		hd, hdrug := refill.HeldStability(defaultCatalog, in, f)
		days, _ := refill.FillStability(defaultCatalog, in, f, held, hd, hdrug)
		got = append(got, days)
	}
	if len(got) != 2 || got[0] != 14 || got[1] != 40 {
		t.Errorf("a pump's two fills: limits %v, want [14 40]", got)
	}
}
