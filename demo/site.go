package demo

import (
	"github.com/pumpledger/pumpledger"
	"github.com/shopspring/decimal"
)

// Site is the demo's practice, its fee schedule effective from effective
// (the history's first day): SYNTHETIC ids (the NPI passes the check digit
// and is the one CMS's examples use; the EIN, clearinghouse and payer ids
// are made up) and charges of the order a pain practice sets, per billing
// unit: J2278 per 1 mcg, J2274 per 10 mg, J7799 per compounded fill.
func Site(effective string) pumpledger.Site {
	fee := decimal.RequireFromString
	return pumpledger.Site{
		Name: "DEMO PAIN PRACTICE", NPI: "1234567893", TaxID: "991234567", Taxonomy: "208VP0014X",
		Address:     pumpledger.Address{Line1: "100 Demo Way", City: "Columbus", State: "OH", PostalCode: "43215-1001"},
		SubmitterID: "DEMOSUBMIT01", SubmitterName: "DEMO PAIN PRACTICE", Contact: "DEMO BILLING OFFICE", Phone: "6145550100",
		ReceiverID: "DEMOCLEARING", ReceiverName: "DEMO CLEARINGHOUSE", PlaceOfService: "11",
		Payers: map[string]pumpledger.SitePayer{
			"medicare-part-b": {ID: "15202", Name: "DEMO MEDICARE B"},
			"commercial":      {ID: "87726", Name: "DEMO COMMERCIAL PLAN"},
		},
		Fees: pumpledger.FeeSchedule{Effective: effective, Charges: map[string]decimal.Decimal{
			"62367": fee("95.00"), "62368": fee("130.00"), "62369": fee("210.00"), "62370": fee("240.00"),
			"95990": fee("180.00"), "95991": fee("210.00"),
			"J2278": fee("9.50"), "J2277": fee("9.50"), "J2274": fee("4.20"),
			"J7799": fee("850.00"), "J3490": fee("850.00"),
		}},
	}
}
