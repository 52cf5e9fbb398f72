package clinic

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/shopspring/decimal"
)

// Prior authorization drawdown. An approved authorization of an amount of a
// drug (in mcg, or in billing units of its codes) from one date to another
// is drawn down by each live refill whose date of service is in its dates,
// by everything the refill bills under its codes: the administered line
// and the JW waste line, as both are billed units. A refill drawing more
// than is left, or billing an authorized code outside every authorization's
// dates, is recorded with a warning, never refused: the nurse records what
// happened; the biller decides.
//
// Among several authorizations in force for a code, a refill draws on the
// one that ends first (and still has some left): the payer's own order.

// AuthorizationUse is a prior authorization with what the recorded refills
// have used of it.
type AuthorizationUse struct {
	EntryID    string          `json:"entry_id"`
	Number     string          `json:"number"`
	Payer      string          `json:"payer"`
	Drug       string          `json:"drug"`
	Codes      []string        `json:"codes"`
	Status     string          `json:"status"`
	Unit       string          `json:"unit"` // mcg or units
	From       string          `json:"from"`
	To         string          `json:"to"`
	ReassessBy string          `json:"reassess_by,omitempty"`
	Authorized decimal.Decimal `json:"authorized"`
	// UsedBefore is what was used before it was recorded here; Used
	// includes it.
	UsedBefore decimal.Decimal `json:"used_before"`
	Used       decimal.Decimal `json:"used"`
	Left       decimal.Decimal `json:"left"`
	// Expired: To is before today. DaysLeft is the days from today to To
	// (negative once expired).
	Expired  bool  `json:"expired"`
	DaysLeft int64 `json:"days_left"`
	// Draws are the refills that drew on it, in date order.
	Draws []Draw `json:"draws"`
}

// Draw is one refill's use of an authorization.
type Draw struct {
	EntryID       string          `json:"entry_id"`
	DateOfService string          `json:"date_of_service"`
	Code          string          `json:"code"`
	Units         int64           `json:"units"`  // billing units billed under Code
	Amount        decimal.Decimal `json:"amount"` // in the authorization's unit
	// UsedToDate and Left are the authorization's after this refill.
	UsedToDate decimal.Decimal `json:"used_to_date"`
	Left       decimal.Decimal `json:"left"`
}

// RefillAuthorization is what one refill drew, for its output: the
// authorization and its standing after the refill.
type RefillAuthorization struct {
	Number     string          `json:"number"`
	Payer      string          `json:"payer"`
	Code       string          `json:"code"`
	Units      int64           `json:"units"`
	Amount     decimal.Decimal `json:"amount"`
	Unit       string          `json:"unit"`
	Authorized decimal.Decimal `json:"authorized"`
	UsedToDate decimal.Decimal `json:"used_to_date"`
	Left       decimal.Decimal `json:"left"`
	To         string          `json:"to"`
}

// drawdown is a patient's authorizations with their draws, and each
// refill's draws and warnings by its entry id. extra is a refill being
// recorded (not yet in tx), or nil.
type drawdown struct {
	auths    []AuthorizationUse
	byRefill map[string][]RefillAuthorization
	warnings map[string][]string
}

// drawdownOf computes a patient's drawdown as tx sees the ledger, plus
// extra, without entry skip (a refill a correction replaces; -1 for none).
func (db *Service) drawdownOf(tx *ledger.Tx, mrn string, extra *ledger.Entry, skip int64) (*drawdown, error) {
	// Most patients have no authorization: found from the indexes alone
	// (the patient's seqs and every authorization's, both in seq order),
	// without reading the patient's history, which every refill recorded
	// would otherwise pay for.
	seqs := tx.Filed(ledger.ByPatient, mrn)
	if !intersects(seqs, tx.Filed(ledger.ByKind, string(pumpledger.KindAuthorization))) {
		return &drawdown{byRefill: map[string][]RefillAuthorization{}, warnings: map[string][]string{}}, nil
	}
	var live []ledger.Entry
	for _, seq := range seqs {
		if _, void := tx.VoidedBy(seq); void || seq == skip {
			continue
		}
		e, err := tx.Entry(seq)
		if err != nil {
			return nil, err
		}
		live = append(live, e)
	}
	return db.drawdownFrom(tx, live, extra)
}

// drawdownFrom computes a patient's drawdown from its live entries, as
// stored in tx, plus extra (not in tx, or nil).
func (db *Service) drawdownFrom(tx *ledger.Tx, live []ledger.Entry, extra *ledger.Entry) (*drawdown, error) {
	out := &drawdown{byRefill: map[string][]RefillAuthorization{}, warnings: map[string][]string{}}
	var refills []ledger.Entry
	for _, e := range live {
		switch e.Kind {
		case pumpledger.KindAuthorization:
			v, err := DecodeClinical(e)
			if err != nil {
				return nil, err
			}
			a := v.(pumpledger.Authorization)
			out.auths = append(out.auths, AuthorizationUse{EntryID: e.ID, Number: a.Number, Payer: a.Payer, Drug: a.Drug, Codes: a.Codes,
				Status: a.Status, Unit: a.Unit, From: a.From, To: a.To, ReassessBy: a.ReassessBy, Authorized: a.Amount, UsedBefore: a.UsedBefore, Used: a.UsedBefore, Draws: []Draw{}})
		case pumpledger.KindRefill:
			refills = append(refills, e)
		}
	}
	if len(out.auths) == 0 {
		return out, nil
	}
	if extra != nil {
		refills = append(refills, *extra)
	}
	// In date of service order (then as recorded): an authorization is
	// used up by the earlier visits first.
	slices.SortStableFunc(refills, func(a, b ledger.Entry) int { return a.PerformedAt.Compare(b.PerformedAt) })
	cats, err := db.catalogsIn(tx)
	if err != nil {
		return nil, err
	}
	for _, e := range refills {
		dos := e.Performed().Date()
		var lines []billing.Line
		if extra != nil && e.ID == extra.ID {
			lines, err = refillLines(cats, e) // not stored yet
		} else {
			lines, err = db.storedRefillLines(tx, cats, e)
		}
		if err != nil {
			return nil, err
		}
		cat := cats.at(dos).Catalog
		units := map[string]int64{}
		var codes []string
		for _, l := range lines {
			if l.Drug == "" {
				continue // a service line
			}
			if _, ok := units[l.Code]; !ok {
				codes = append(codes, l.Code)
			}
			units[l.Code] += l.Units
		}
		for _, code := range codes {
			var covering, inForce []int
			for i, a := range out.auths {
				if a.Status != "approved" || !coversCode(cat, a.Codes, code) {
					continue
				}
				covering = append(covering, i)
				if a.From <= dos && dos <= a.To {
					inForce = append(inForce, i)
				}
			}
			if len(covering) == 0 {
				continue
			}
			if len(inForce) == 0 {
				a := out.auths[covering[len(covering)-1]]
				out.warnings[e.ID] = append(out.warnings[e.ID], fmt.Sprintf("This refill on %s bills %d units of %s outside the dates of every authorization for it (the last, %s, runs %s to %s); get one that covers the date before billing.", dos, units[code], code, a.Number, a.From, a.To))
				continue
			}
			slices.SortStableFunc(inForce, func(x, y int) int { return cmp.Compare(out.auths[x].To, out.auths[y].To) })
			pick := inForce[0]
			for _, i := range inForce {
				if out.auths[i].Authorized.GreaterThan(out.auths[i].Used) {
					pick = i
					break
				}
			}
			a := &out.auths[pick]
			amount := decimal.NewFromInt(units[code])
			if a.Unit == "mcg" {
				if d, ok := cat.Drug(code); ok {
					amount = amount.Mul(d.UnitMCG)
				}
			}
			a.Used = a.Used.Add(amount)
			left := a.Authorized.Sub(a.Used)
			a.Draws = append(a.Draws, Draw{EntryID: e.ID, DateOfService: dos, Code: code, Units: units[code], Amount: amount, UsedToDate: a.Used, Left: left})
			out.byRefill[e.ID] = append(out.byRefill[e.ID], RefillAuthorization{Number: a.Number, Payer: a.Payer, Code: code, Units: units[code],
				Amount: amount, Unit: a.Unit, Authorized: a.Authorized, UsedToDate: a.Used, Left: left, To: a.To})
			if left.IsNegative() {
				out.warnings[e.ID] = append(out.warnings[e.ID], fmt.Sprintf("This refill draws %s %s of %s on authorization %s, %s more than was left; ask the payer for more before billing.", amount, a.Unit, code, a.Number, left.Neg()))
			}
		}
	}
	today, _ := time.Parse(time.DateOnly, db.Today())
	for i := range out.auths {
		a := &out.auths[i]
		a.Left = a.Authorized.Sub(a.Used)
		if to, err := time.Parse(time.DateOnly, a.To); err == nil {
			a.DaysLeft = int64(to.Sub(today).Hours() / 24)
			a.Expired = a.DaysLeft < 0
		}
	}
	return out, nil
}

// intersects says whether two ascending lists share a value.
func intersects(a, b []int64) bool {
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			return true
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return false
}

// storedRefillLines are a stored refill's claim lines, from its refill as
// decoded once (db.items: its pump's chain decodes the same), not decoded
// again from its entry.
func (db *Service) storedRefillLines(tx *ledger.Tx, cats *catalogSet, e ledger.Entry) ([]billing.Line, error) {
	it, err := db.items.get(db, tx, cats, e.Seq)
	if err != nil {
		return nil, err
	}
	return refillLinesOf(cats, e, it.refill)
}
