package pumpledger

// Kind is what an entry records: one list for the ledger, which stores
// them, and the demo, which generates them.
type Kind string

const (
	KindPatient    Kind = "patient"    // a patient registered
	KindImplant    Kind = "implant"    // a pump implanted in a patient
	KindExplant    Kind = "explant"    // a pump removed
	KindRefill     Kind = "refill"     // a refill visit
	KindReprogram  Kind = "reprogram"  // a dose change between refills
	KindCorrection Kind = "correction" // voids an earlier entry, with a reason
	KindCatalog    Kind = "catalog"    // the catalog in force from a date (ledger/catalogs.go)
)
