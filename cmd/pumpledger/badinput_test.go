package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The bad-input catalogue: malformed and dangerous input through the real
// command. Each case pins the exit status and the exact sentence on stderr
// (testdata/cmd/bad-inputs.golden, regenerated with -update and read by eye),
// and checks that the ledger's bytes, its key and its entry count are
// unchanged, or, on a new --db path, that no ledger was created.

// badRefill is fill2 of main_test.go, one field a line so a case can edit or
// drop one field. "note" is last so that dropping any other leaves valid JSON.
const badRefill = `{
 "id":"6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
 "mrn":"MRN-1",
 "pump_serial":"S1",
 "performed_at":"2026-03-31T10:00:00-04:00",
 "nurse":"jdoe",
 "witness":"asmith",
 "residual_ml":5.5,
 "fill_ml":20,
 "solution":[{"drug":"J2277","mcg_per_ml":7.5}],
 "vials":[{"ndc":"70720-720-10","count":2,"lot":"L3","expires":"2027-06-30"}],
 "diluent_ml":18.5,
 "dose":{"drug":"ziconotide","mcg_per_day":"2.4"},
 "procedure":"95990",
 "note":""
}`

// badReprogram is a dose change after the seeded ones.
const badReprogram = `{
 "mrn":"MRN-1",
 "pump_serial":"S1",
 "performed_at":"2026-03-20T10:00:00-04:00",
 "clinician":"drx",
 "dose":{"drug":"ziconotide","mcg_per_day":"3.6"},
 "procedure":"62368",
 "note":""
}`

// The clinical record's inputs (SPEC §9), one field a line like badRefill;
// "note" (or the last field) last. The shared ledger holds badDiagnosisID,
// a diagnosis M96.1 of MRN-1, so that G89.4 here is new and M96.1 is not.
const (
	badDiagnosisID  = "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c"
	storedDiagnosis = `{"id":"` + badDiagnosisID + `","mrn":"MRN-1","code":"M96.1","description":"Postlaminectomy syndrome","onset":"2025-01-10","clinician":"drx"}`

	badDiagnosis = `{
 "mrn":"MRN-1",
 "code":"G89.4",
 "description":"Chronic pain syndrome",
 "onset":"2025-06-01",
 "clinician":"drx",
 "note":""
}`
	badCoverage = `{
 "mrn":"MRN-1",
 "payer":"commercial",
 "member_id":"ABC123",
 "plan":"PPO",
 "priority":"primary",
 "from":"2026-01-01",
 "to":"2026-12-31",
 "note":""
}`
	badAuthorization = `{
 "mrn":"MRN-1",
 "payer":"commercial",
 "number":"PA-1",
 "codes":["J2278"],
 "drug":"ziconotide",
 "amount":"300",
 "unit":"mcg",
 "from":"2026-01-01",
 "to":"2026-12-31",
 "status":"approved",
 "note":""
}`
	badTherapy = `{
 "mrn":"MRN-1",
 "therapy":"oral opioids",
 "from":"2023-01-01",
 "to":"2024-06-30",
 "outcome":"failed",
 "details":"no lasting relief"
}`
	badTrial = `{
 "mrn":"MRN-1",
 "date":"2025-12-01",
 "drug":"ziconotide",
 "route":"intrathecal bolus",
 "dose":"2.5 mcg",
 "relief_percent":60,
 "function":"walks 30 minutes",
 "successful":true,
 "note":""
}`
	// The document is read from $DIR, the catalogue's folder of files.
	badConsent = `{
 "mrn":"MRN-1",
 "date":"2025-12-01",
 "signed_by":"patient",
 "witness":"asmith",
 "document":"$DIR/consent.pdf",
 "note":""
}`
	badAssessment = `{
 "mrn":"MRN-1",
 "at":"2026-03-31T10:00:00-04:00",
 "clinician":"drx",
 "pain_score":4,
 "cognition":"normal",
 "psychiatric":"none",
 "ck_u_l":"120",
 "note":""
}`
	badPatient = `{
 "mrn":"MRN-3",
 "name":"Test Patient",
 "birth_date":"1960-04-02",
 "sex":"F",
 "address":{"line1":"1 Main St","city":"Columbus","state":"OH","postal_code":"43215"}
}`
)

// inputKinds names each base input in the golden file.
var inputKinds = map[string]string{badRefill: "refill", badReprogram: "reprogram", badDiagnosis: "diagnosis", badCoverage: "coverage",
	badAuthorization: "authorization", badTherapy: "therapy", badTrial: "trial", badConsent: "consent", badAssessment: "assessment", badPatient: "patient"}

var (
	refillArgs    = []string{"refill", "--file", "-"}
	dryRunArgs    = []string{"refill", "--file", "-", "--dry-run"}
	reprogramArgs = []string{"reprogram", "--file", "-"}
)

type badInput struct {
	name string
	args []string
	// The input on stdin: in as is, or base with old replaced by new (old
	// must occur in base), or base without the line of field drop.
	in, base, old, new, drop string
	code                     int    // 1 refused, 2 usage; 0 accepted with a warning (dry run)
	warn                     string // accepted: a warning the output must carry
	fresh                    bool   // run on a new, empty ledger (made by init)
	none                     bool   // run on a --db path with no ledger: none may be left behind
}

// stdin builds the case's input.
func (b badInput) stdin(t *testing.T) string {
	switch {
	case b.base == "":
		return b.in
	case b.drop != "":
		var kept []string
		found := false
		for _, l := range strings.Split(b.base, "\n") {
			if strings.HasPrefix(l, ` "`+b.drop+`":`) {
				found = true
				continue
			}
			kept = append(kept, l)
		}
		if !found {
			t.Fatalf("%s: no field %q to drop", b.name, b.drop)
		}
		return strings.Join(kept, "\n")
	case !strings.Contains(b.base, b.old):
		t.Fatalf("%s: %q does not occur in the base input", b.name, b.old)
	}
	return strings.Replace(b.base, b.old, b.new, 1)
}

// describe is the input as the golden file shows it.
func (b badInput) describe() string {
	kind := inputKinds[b.base]
	switch {
	case b.base != "" && b.drop != "":
		return fmt.Sprintf("the %s input without %q", kind, b.drop)
	case b.base != "":
		return fmt.Sprintf("the %s input with %s in place of %s", kind, clipQ(b.new), clipQ(b.old))
	case b.in == "" && b.args != nil && b.args[len(b.args)-1] != "-" && b.args[len(b.args)-1] != "--dry-run":
		return "(none)"
	case len(b.in) > 200:
		return fmt.Sprintf("%d bytes: %s", len(b.in), clipQ(b.in))
	}
	return fmt.Sprintf("%q", b.in)
}

func clipQ(s string) string {
	if len(s) > 80 {
		return fmt.Sprintf("%q…", s[:80])
	}
	return fmt.Sprintf("%q", s)
}

func args(a ...string) []string { return a }

const unusedID = "0e6f3a0c-5b5e-4c7a-9d0f-2b8a4f1c9e77"

func badInputs() []badInput {
	rf := func(name, old, new string) badInput {
		return badInput{name: name, args: refillArgs, base: badRefill, old: old, new: new, code: 1}
	}
	drop := func(field string) badInput {
		return badInput{name: "missing " + field, args: refillArgs, base: badRefill, drop: field, code: 1}
	}
	ok := func(name, old, new, warn string) badInput {
		return badInput{name: name, args: dryRunArgs, base: badRefill, old: old, new: new, warn: warn}
	}
	rp := func(name, old, new string) badInput {
		return badInput{name: name, args: reprogramArgs, base: badReprogram, old: old, new: new, code: 1}
	}
	raw := func(name, in string) badInput {
		return badInput{name: name, args: refillArgs, in: in, code: 1}
	}
	cmd := func(name string, code int, a ...string) badInput {
		return badInput{name: name, args: a, code: code}
	}
	cl := func(kind, name, old, new string) badInput {
		base := map[string]string{"diagnosis": badDiagnosis, "coverage": badCoverage, "authorization": badAuthorization,
			"therapy": badTherapy, "trial": badTrial, "consent": badConsent, "assessment": badAssessment}[kind]
		return badInput{name: name, args: args(kind, "add", "--file", "-"), base: base, old: old, new: new, code: 1}
	}
	// accepted (a dry run): with the warning warn, or, when warn is "", none.
	clOK := func(kind, name, old, new, warn string) badInput {
		b := cl(kind, name, old, new)
		b.args, b.code, b.warn = append(b.args, "--dry-run"), 0, warn
		return b
	}
	pt := func(name, old, new string) badInput {
		return badInput{name: name, args: args("patient", "add", "--file", "-"), base: badPatient, old: old, new: new, code: 1}
	}
	fresh := func(b badInput) badInput { b.fresh = true; return b }
	none := func(b badInput) badInput { b.none = true; return b }
	const discrepancy = "RESIDUAL DISCREPANCY" // fill2's residual is 2.5 mL off: every accepted refill warns

	return []badInput{
		// Wrong JSON types.
		rf("mrn is a number", `"mrn":"MRN-1"`, `"mrn":1001`),
		rf("fill_ml is a bool", `"fill_ml":20`, `"fill_ml":true`),
		rf("solution is an object, not a list", `"solution":[{"drug":"J2277","mcg_per_ml":7.5}]`, `"solution":{"drug":"J2277","mcg_per_ml":7.5}`),
		rf("dose is a list, not an object", `"dose":{"drug":"ziconotide","mcg_per_day":"2.4"}`, `"dose":[{"drug":"ziconotide","mcg_per_day":"2.4"}]`),
		rf("vials holds strings, not objects", `"vials":[{"ndc":"70720-720-10","count":2,"lot":"L3","expires":"2027-06-30"}]`, `"vials":["70720-720-10"]`),
		rf("count is a word", `"count":2`, `"count":"two"`),
		rf("performed_at is a Unix time", `"performed_at":"2026-03-31T10:00:00-04:00"`, `"performed_at":1774965600`),
		rf("nurse is a list", `"nurse":"jdoe"`, `"nurse":["jdoe"]`),
		rf("residual_ml is an object", `"residual_ml":5.5`, `"residual_ml":{"value":5.5}`),
		rf("solution drug is a number", `"drug":"J2277"`, `"drug":2278`),
		raw("the input is a list", "["+badRefill+"]"),
		fresh(raw("the input is JSON null", "null")),
		raw("the input is a string", `"refill"`),
		raw("the input is a number", "42"),

		// Huge, tiny and odd numbers.
		rf("fill 1e9 mL", `"fill_ml":20`, `"fill_ml":1e9`),
		rf("fill 999999999 mL", `"fill_ml":20`, `"fill_ml":999999999`),
		rf("fill 1e400", `"fill_ml":20`, `"fill_ml":1e400`),
		rf("fill 1e1000, a four-digit exponent", `"fill_ml":20`, `"fill_ml":1e1000`),
		rf("fill 1e-999", `"fill_ml":20`, `"fill_ml":1e-999`),
		rf("count 99999999999999999999999", `"count":2`, `"count":99999999999999999999999`),
		rf("residual with 30 decimal places", `"residual_ml":5.5`, `"residual_ml":"5.500000000000000000000000000001"`),
		ok("residual with 30 decimal places, all zeros (exact: accepted)", `"residual_ml":5.5`, `"residual_ml":"5.500000000000000000000000000000"`, discrepancy),
		ok("fill written 2e1 (accepted as 20)", `"fill_ml":20`, `"fill_ml":"2e1"`, discrepancy),
		ok("fill written 2E+1 as a JSON number (accepted as 20)", `"fill_ml":20`, `"fill_ml":2E+1`, discrepancy),
		rf("fill NaN", `"fill_ml":20`, `"fill_ml":"NaN"`),
		rf("concentration Infinity", `"mcg_per_ml":7.5`, `"mcg_per_ml":"Infinity"`),
		rf("fill with its unit", `"fill_ml":20`, `"fill_ml":"20 mL"`),
		rf("fill in hexadecimal", `"fill_ml":20`, `"fill_ml":"0x14"`),
		rf("fill with a plus sign", `"fill_ml":20`, `"fill_ml":"+20"`),
		rf("fill with a decimal comma", `"fill_ml":20`, `"fill_ml":"20,0"`),
		rf("fill as an empty string", `"fill_ml":20`, `"fill_ml":""`),

		// Zero and negative quantities.
		rf("zero fill", `"fill_ml":20`, `"fill_ml":0`),
		rf("negative fill", `"fill_ml":20`, `"fill_ml":-20`),
		rf("fill minus zero", `"fill_ml":20`, `"fill_ml":"-0"`),
		rf("negative residual", `"residual_ml":5.5`, `"residual_ml":-1`),
		rf("negative diluent", `"diluent_ml":18.5`, `"diluent_ml":-18.5`),
		rf("negative rinse", `"residual_ml":5.5,`, `"residual_ml":5.5, "rinse_ml":"-6",`),
		rf("zero concentration", `"mcg_per_ml":7.5`, `"mcg_per_ml":0`),
		rf("negative concentration", `"mcg_per_ml":7.5`, `"mcg_per_ml":-7.5`),
		rf("negative dose", `"mcg_per_day":"2.4"`, `"mcg_per_day":"-2.4"`),

		// Text: unicode, invisible and control characters, spaces.
		rf("MRN in Arabic-Indic digits", `"mrn":"MRN-1"`, `"mrn":"MRN-١٠٠١"`),
		rf("MRN with a zero-width space", `"mrn":"MRN-1"`, `"mrn":"MRN-1\u200b"`),
		rf("MRN with a right-to-left override", `"mrn":"MRN-1"`, `"mrn":"\u202eMRN-1"`),
		rf("MRN with a byte-order mark inside", `"mrn":"MRN-1"`, `"mrn":"\ufeffMRN-1"`),
		rf("MRN with an emoji", `"mrn":"MRN-1"`, `"mrn":"MRN-1🙂"`),
		rf("MRN with a NUL", `"mrn":"MRN-1"`, `"mrn":"MRN-1\u0000"`),
		rf("MRN with a tab inside", `"mrn":"MRN-1"`, `"mrn":"MRN-\t1"`),
		rf("MRN not UTF-8", `"mrn":"MRN-1"`, "\"mrn\":\"MRN-\xff1\""),
		rf("nurse with a terminal escape", `"nurse":"jdoe"`, `"nurse":"\u001b[2Jjdoe"`),
		rf("note with a terminal escape", `"note":""`, `"note":"ok\u001b]0;pwned\u0007"`),
		ok("note on two lines (accepted)", `"note":""`, `"note":"pocket checked\nno swelling"`, discrepancy),
		ok("MRN with leading and trailing spaces (trimmed: accepted)", `"mrn":"MRN-1"`, `"mrn":"  MRN-1  "`, discrepancy),
		ok("fill as a string with spaces (trimmed: accepted)", `"fill_ml":20`, `"fill_ml":" 20 "`, discrepancy),
		rf("mrn empty", `"mrn":"MRN-1"`, `"mrn":""`),
		rf("mrn only spaces", `"mrn":"MRN-1"`, `"mrn":"   "`),

		// Duplicate keys: refused, never the last one silently.
		rf("fill_ml twice", `"fill_ml":20`, `"fill_ml":20, "fill_ml":2`),
		rf("fill_ml twice, once escaped", `"fill_ml":20`, `"fill_ml":20, "fill\u005fml":2`),
		rf("mrn twice, same value", `"mrn":"MRN-1"`, `"mrn":"MRN-1", "mrn":"MRN-1"`),
		rf("dose.drug twice", `"dose":{"drug":"ziconotide",`, `"dose":{"drug":"ziconotide","drug":"morphine",`),
		rf("vials[0].count twice", `"count":2`, `"count":1,"count":2`),

		// Missing, empty and unknown fields.
		drop("mrn"), drop("pump_serial"), drop("performed_at"), drop("nurse"), drop("residual_ml"),
		drop("fill_ml"), drop("solution"), drop("vials"), drop("diluent_ml"), drop("dose"), drop("procedure"),
		rf("missing dose.drug", `"dose":{"drug":"ziconotide",`, `"dose":{`),
		rf("missing dose.mcg_per_day", `,"mcg_per_day":"2.4"}`, `}`),
		rf("missing vials[0].ndc", `"ndc":"70720-720-10",`, ``),
		rf("missing solution[0].mcg_per_ml", `,"mcg_per_ml":7.5}`, `}`),
		rf("solution empty", `"solution":[{"drug":"J2277","mcg_per_ml":7.5}]`, `"solution":[]`),
		rf("vials empty", `"vials":[{"ndc":"70720-720-10","count":2,"lot":"L3","expires":"2027-06-30"}]`, `"vials":[]`),
		rf("dose null", `"dose":{"drug":"ziconotide","mcg_per_day":"2.4"}`, `"dose":null`),
		rf("misspelt residual", `"residual_ml":5.5`, `"residual":5.5`),
		rf("unknown field in vials[0]", `"lot":"L3"`, `"lots":"L3"`),
		rf("field in capitals", `"fill_ml":20`, `"FILL_ML":20`),

		// Times.
		rf("performed_at without a zone", `"2026-03-31T10:00:00-04:00"`, `"2026-03-31T10:00:00"`),
		rf("performed_at with offset +25:00", `"2026-03-31T10:00:00-04:00"`, `"2026-03-31T10:00:00+25:00"`),
		rf("performed_at with offset -04:60", `"2026-03-31T10:00:00-04:00"`, `"2026-03-31T10:00:00-04:60"`),
		rf("performed_at with offset +24:00", `"2026-03-31T10:00:00-04:00"`, `"2026-03-31T10:00:00+24:00"`),
		rf("performed_at a date only", `"2026-03-31T10:00:00-04:00"`, `"2026-03-31"`),
		rf("performed_at with a space for T", `"2026-03-31T10:00:00-04:00"`, `"2026-03-31 10:00:00-04:00"`),
		rf("performed_at on 30 February", `"2026-03-31T10:00:00-04:00"`, `"2026-02-30T10:00:00-05:00"`),
		rf("performed_at in 1900", `"2026-03-31T10:00:00-04:00"`, `"1900-01-01T09:00:00Z"`),
		rf("performed_at in 1899", `"2026-03-31T10:00:00-04:00"`, `"1899-12-31T09:00:00Z"`),
		rf("performed_at in year 0001", `"2026-03-31T10:00:00-04:00"`, `"0001-01-01T00:00:00Z"`),
		rf("performed_at in 2100", `"2026-03-31T10:00:00-04:00"`, `"2100-01-01T09:00:00Z"`),
		rf("performed_at a year before the implant", `"2026-03-31T10:00:00-04:00"`, `"2025-02-20T09:00:00-05:00"`),
		ok("performed_at before the pump's first recorded refill (a warning)", `"2026-03-31T10:00:00-04:00"`, `"2026-02-25T10:00:00-05:00"`, "has not held ziconotide before"),

		// What the input names must exist and belong together.
		rf("unknown patient", `"mrn":"MRN-1"`, `"mrn":"MRN-9"`),
		fresh(rf("unknown patient on a new ledger", `"mrn":"MRN-1"`, `"mrn":"MRN-9"`)),
		none(rf("a good refill on a --db path with no ledger (a typo)", `"mrn":"MRN-1"`, `"mrn":"MRN-1"`)),
		rf("unknown pump", `"pump_serial":"S1"`, `"pump_serial":"S9"`),
		rf("pump not the patient's", `"pump_serial":"S1"`, `"pump_serial":"S2"`),
		rf("unknown drug", `"drug":"J2277"`, `"drug":"aspirin"`),
		rf("dose of a drug not in the solution", `"dose":{"drug":"ziconotide"`, `"dose":{"drug":"morphine"`),
		rf("unknown NDC", `70720-720-10`, `70720-999-10`),
		rf("NDC of 10 digits without hyphens", `70720-720-10`, `7072072010`),
		rf("NDC with a letter O", `70720-720-10`, `70720-72O-10`),
		rf("NDC of four segments", `70720-720-10`, `70720-720-10-1`),
		ok("NDC of 11 digits without hyphens (accepted)", `70720-720-10`, `70720072010`, discrepancy),
		rf("fill above the reservoir", `"fill_ml":20`, `"fill_ml":21`),
		rf("residual above the reservoir", `"residual_ml":5.5`, `"residual_ml":25`),
		rf("containers short", `"count":2`, `"count":1`),
		rf("diluent not adding up", `"diluent_ml":18.5`, `"diluent_ml":18.3`),
		rf("vial count 0", `"count":2`, `"count":0`),
		rf("vial count negative", `"count":2`, `"count":-2`),
		rf("vial count fractional", `"count":2`, `"count":1.5`),
		rf("vial count 1001", `"count":2`, `"count":1001`),
		rf("vial count 201", `"count":2`, `"count":201`),
		rf("201 containers over two vials lines", `"count":2,"lot":"L3","expires":"2027-06-30"}`, `"count":101,"lot":"L3"},{"ndc":"70720-720-10","count":100,"lot":"L4"}`),
		rf("12,000 vials lines (923 KB)", `{"ndc":"70720-720-10","count":2,"lot":"L3","expires":"2027-06-30"}`,
			strings.Repeat(`{"ndc":"70720-720-10","count":1000,"lot":"L3","expires":"2027-06-30"},`, 12000)+`{"ndc":"70720-720-10","count":2}`),
		rf("residual 500 mL", `"residual_ml":5.5`, `"residual_ml":500`),
		rf("diluent 180 mL", `"diluent_ml":18.5`, `"diluent_ml":180`),
		rf("concentration 7.5 g/mL", `"mcg_per_ml":7.5`, `"mcg_per_ml":7.5e6`),
		rf("dose 2.4 g/day", `"mcg_per_day":"2.4"`, `"mcg_per_day":"2.4e6"`),
		rp("reprogram with a dose of 3.6 g/day", `"mcg_per_day":"3.6"`, `"mcg_per_day":"3.6e6"`),
		rf("expires not a date", `"expires":"2027-06-30"`, `"expires":"30/06/2027"`),
		ok("expires in the past (a warning)", `"expires":"2027-06-30"`, `"expires":"2020-01-31"`, "EXPIRED: vials[0]"),
		ok("no lot (a warning)", `"lot":"L3",`, ``, "has no lot number"),
		ok("dose above the label maximum (a warning)", `"mcg_per_day":"2.4"`, `"mcg_per_day":"30"`, "19.2"),
		rf("id not a UUID", `"id":"6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b"`, `"id":"refill-1"`),

		// The file itself.
		fresh(raw("empty input", "")),
		raw("only white space", " \n\t\n"),
		fresh(raw("YAML, not JSON", "mrn: MRN-1\nfill_ml: 20\n")),
		raw("CSV, not JSON", "mrn,fill_ml\nMRN-1,20\n"),
		raw("a PNG image", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
		raw("10 MB input", strings.Repeat(" ", 10<<20)+badRefill),
		raw("trailing garbage", badRefill+" xyz"),
		raw("a trailing brace", badRefill+"}"),
		raw("a trailing bracket", badRefill+"]"),
		raw("two objects", badRefill+badRefill),
		raw("cut short", badRefill[:len(badRefill)/2]),
		raw("a comment", "// refill of MRN-1\n"+badRefill),
		raw("single quotes", strings.ReplaceAll(badRefill, `"`, `'`)),
		{name: "byte-order mark before the object (accepted)", args: dryRunArgs, in: "\ufeff" + badRefill, warn: discrepancy},
		cmd("--file does not exist", 1, "refill", "--file", "does-not-exist.json"),
		cmd("--file is a directory", 1, "refill", "--file", "."),

		// Reprogram.
		rp("reprogram with a negative dose", `"mcg_per_day":"3.6"`, `"mcg_per_day":"-3.6"`),
		rp("reprogram with a dose in words", `"mcg_per_day":"3.6"`, `"mcg_per_day":"three"`),
		rp("reprogram with a dose as a number in a list", `"mcg_per_day":"3.6"`, `"mcg_per_day":[3.6]`),
		rp("reprogram without dose.drug", `"drug":"ziconotide",`, ``),
		rp("reprogram of an unknown drug", `"drug":"ziconotide"`, `"drug":"aspirin"`),
		rp("reprogram without clinician", `"clinician":"drx",`, ``),
		rp("reprogram with a refill's field", `"note":""`, `"note":"", "fill_ml":"20"`),
		rp("reprogram in the future", `"2026-03-20T10:00:00-04:00"`, `"2100-03-20T10:00:00-04:00"`),
		rp("reprogram of another patient's pump", `"pump_serial":"S1"`, `"pump_serial":"S2"`),
		{name: "reprogram --dry-run of another patient's pump", args: args("reprogram", "--file", "-", "--dry-run"), base: badReprogram,
			old: `"pump_serial":"S1"`, new: `"pump_serial":"S2"`, code: 1},
		fresh(badInput{name: "reprogram --dry-run on a new ledger", args: args("reprogram", "--file", "-", "--dry-run"), in: badReprogram, code: 1}),
		{name: "correct --dry-run with a replacement above the reservoir", args: args("correct", "--entry", "$refill-MRN-1", "--reason", "typo", "--file", "-", "--dry-run"),
			in: strings.Replace(badRefill, `"fill_ml":20`, `"fill_ml":21`, 1), code: 1},

		// Correct.
		cmd("correct an unknown entry", 1, "correct", "--entry", unusedID, "--reason", "typo"),
		fresh(cmd("correct on a new ledger", 1, "correct", "--entry", unusedID, "--reason", "typo")),
		cmd("correct an id that is not a UUID", 1, "correct", "--entry", "entry-1", "--reason", "typo"),
		cmd("correct with an empty reason", 1, "correct", "--entry", unusedID, "--reason", ""),
		cmd("correct with a blank reason", 1, "correct", "--entry", unusedID, "--reason", "   "),
		cmd("correct without --reason", 2, "correct", "--entry", unusedID),
		cmd("correct with a terminal escape in --reason", 1, "correct", "--entry", "$refill-MRN-1", "--reason", "typo\x1b]0;pwned\x07"),
		cmd("correct --by with a zero-width space", 1, "correct", "--entry", "$refill-MRN-1", "--reason", "typo", "--by", "jdoe\u200b"),
		cmd("explant with a terminal escape in --reason", 1, "pump", "explant", "--mrn", "MRN-1", "--serial", "S1", "--date", "2026-03-25", "--reason", "\x1b[2Jinfection"),
		fresh(cmd("patient add --by with a terminal escape", 1, "--by", "clerk\x1b[31m", "patient", "add", "--mrn", "MRN-3", "--name", "Test Patient")),
		cmd("implant --by with a DEL", 1, "pump", "implant", "--by", "clerk\x7f", "--mrn", "MRN-1", "--serial", "S3", "--model", "synchromed-ii-20", "--date", "2026-02-20"),
		{name: "correct a refill with a bad replacement", args: args("correct", "--entry", "$refill-MRN-1", "--reason", "typo", "--file", "-"),
			in: strings.Replace(badRefill, `"fill_ml":20`, `"fill_ml":-20`, 1), code: 1},
		{name: "correct a patient with a replacement of the wrong type", args: args("correct", "--entry", "$patient-MRN-1", "--reason", "typo", "--file", "-"),
			in: `{"mrn": 1, "name": "Test Patient"}`, code: 1},
		{name: "correct an implant with a replacement file", args: args("correct", "--entry", "$implant-MRN-1", "--reason", "typo", "--file", "-"),
			in: `{"mrn": "MRN-1", "serial": "S1"}`, code: 1},
		{name: "correct a patient with a replacement that is not JSON", args: args("correct", "--entry", "$patient-MRN-1", "--reason", "typo", "--file", "-"),
			in: `mrn=MRN-1`, code: 1},

		// Patients and pumps.
		fresh(cmd("patient add with an empty MRN", 1, "patient", "add", "--mrn", "", "--name", "Jane Doe")),
		fresh(cmd("patient add with a blank name", 1, "patient", "add", "--mrn", "MRN-3", "--name", "  ")),
		cmd("patient add without --name", 2, "patient", "add", "--mrn", "MRN-3"),
		fresh(cmd("patient add with an MRN holding an X12 delimiter", 1, "patient", "add", "--mrn", "MRN~3", "--name", "Test Patient")),
		cmd("patient add with an MRN too long for an X12 claim", 1, "patient", "add", "--mrn", "MRN-"+strings.Repeat("0", 26), "--name", "Test Patient"),
		{name: "correct a patient with a replacement whose MRN holds an X12 delimiter", args: args("correct", "--entry", "$patient-MRN-1", "--reason", "typo", "--file", "-"),
			in: `{"mrn": "MRN*1", "name": "Test Patient"}`, code: 1},
		rf("refill of an MRN holding an X12 delimiter", `"mrn":"MRN-1"`, `"mrn":"MRN^1"`),
		cmd("patient add with a zero-width space in the MRN", 1, "patient", "add", "--mrn", "MRN-1\u200b", "--name", "Test Patient"),
		cmd("pump implant with a control character in the serial", 1, "pump", "implant", "--mrn", "MRN-1", "--serial", "S9\x1b[2J", "--model", "synchromed-ii-20", "--date", "2026-02-20"),
		fresh(cmd("implant of an unknown model", 1, "pump", "implant", "--mrn", "MRN-1", "--serial", "S3", "--model", "synchromed-iii", "--date", "2026-02-20")),
		cmd("implant on 30 February", 1, "pump", "implant", "--mrn", "MRN-1", "--serial", "S3", "--model", "synchromed-ii-20", "--date", "2026-02-30"),
		cmd("implant date without hyphens", 1, "pump", "implant", "--mrn", "MRN-1", "--serial", "S3", "--model", "synchromed-ii-20", "--date", "20260220"),
		cmd("implant date in 2100", 1, "pump", "implant", "--mrn", "MRN-1", "--serial", "S3", "--model", "synchromed-ii-20", "--date", "2100-01-01"),
		cmd("implant in an unknown patient", 1, "pump", "implant", "--mrn", "MRN-9", "--serial", "S3", "--model", "synchromed-ii-20", "--date", "2026-02-20"),
		cmd("implant with --alarm-ml 0", 1, "pump", "implant", "--mrn", "MRN-1", "--serial", "S3", "--model", "synchromed-ii-20", "--date", "2026-02-20", "--alarm-ml", "0"),
		cmd("implant with --alarm-ml in words", 1, "pump", "implant", "--mrn", "MRN-1", "--serial", "S3", "--model", "synchromed-ii-20", "--date", "2026-02-20", "--alarm-ml", "two"),
		cmd("implant with --alarm-ml above the reservoir", 1, "pump", "implant", "--mrn", "MRN-1", "--serial", "S3", "--model", "synchromed-ii-20", "--date", "2026-02-20", "--alarm-ml", "25"),
		cmd("implant with --held of an unknown drug", 1, "pump", "implant", "--mrn", "MRN-1", "--serial", "S3", "--model", "synchromed-ii-20", "--date", "2026-02-20", "--held", "aspirin"),
		cmd("implant of a pump already in another patient", 1, "pump", "implant", "--mrn", "MRN-1", "--serial", "S2", "--model", "synchromed-ii-20", "--date", "2026-02-21"),

		// Bill.
		cmd("bill from month 13", 1, "bill", "--from", "2026-13-01", "--to", "2026-12-31"),
		cmd("bill from a US date", 1, "bill", "--from", "03/01/2026", "--to", "2026-03-31"),
		cmd("bill to 31 February", 1, "bill", "--from", "2026-02-01", "--to", "2026-02-31"),
		cmd("bill --to before --from", 1, "bill", "--from", "2026-03-31", "--to", "2026-03-01"),
		cmd("bill in PDF", 2, "bill", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "pdf"),
		cmd("bill without --to", 2, "bill", "--from", "2026-03-01"),
		none(cmd("bill of a ledger that does not exist", 1, "bill", "--from", "2026-03-01", "--to", "2026-03-31")),

		// Plan.
		cmd("plan at zero concentration", 1, "plan", "--drug", "ziconotide", "--mcg-per-ml", "0", "--fill-ml", "20"),
		cmd("plan at a negative concentration", 1, "plan", "--drug", "ziconotide", "--mcg-per-ml", "-5", "--fill-ml", "20"),
		cmd("plan with a zero fill", 1, "plan", "--drug", "ziconotide", "--mcg-per-ml", "5", "--fill-ml", "0"),
		cmd("plan with a concentration in words", 1, "plan", "--drug", "ziconotide", "--mcg-per-ml", "five", "--fill-ml", "20"),
		cmd("plan with a negative rinse", 1, "plan", "--drug", "ziconotide", "--mcg-per-ml", "5", "--fill-ml", "20", "--rinse-ml", "-6"),
		cmd("plan of an unknown drug", 1, "plan", "--drug", "aspirin", "--mcg-per-ml", "5", "--fill-ml", "20"),
		cmd("plan of 1e9 mL", 1, "plan", "--drug", "ziconotide", "--mcg-per-ml", "5", "--fill-ml", "1e9"),
		cmd("plan stronger than any vial", 1, "plan", "--drug", "ziconotide", "--mcg-per-ml", "500", "--fill-ml", "20"),

		// The clinical record (SPEC §9). Diagnoses.
		cl("diagnosis", "ICD-10 code without its letter", `"code":"G89.4"`, `"code":"89.4"`),
		cl("diagnosis", "ICD-10 code with a hyphen for the point", `"code":"G89.4"`, `"code":"G89-4"`),
		cl("diagnosis", "ICD-10 code with five characters after the point", `"code":"G89.4"`, `"code":"T85.61000"`),
		cl("diagnosis", "diagnosis with an onset in the future", `"onset":"2025-06-01"`, `"onset":"2100-06-01"`),
		cl("diagnosis", "diagnosis of an unknown patient", `"mrn":"MRN-1"`, `"mrn":"MRN-9"`),
		cl("diagnosis", "the same diagnosis twice, without an id", `"code":"G89.4"`, `"code":"M96.1"`),
		cl("diagnosis", "a replay: the stored diagnosis's id with other content", `"mrn":"MRN-1"`, `"id":"`+badDiagnosisID+`", "mrn":"MRN-1"`),
		cl("diagnosis", "diagnosis with a misspelt field", `"onset"`, `"onsett"`),
		cl("diagnosis", "diagnosis without its description", `"description":"Chronic pain syndrome",`, ``),
		cl("diagnosis", "diagnosis code as a number", `"code":"G89.4"`, `"code":89.4`),
		clOK("diagnosis", "ICD-10 code not in the common list (a warning)", `"code":"G89.4"`, `"code":"R52"`, "not in the catalog's list"),
		clOK("diagnosis", "ICD-10 code in lower case (accepted as G89.4)", `"code":"G89.4"`, `"id":"`+unusedID+`","code":"g89.4"`, ""),
		{name: "diagnosis add --dry-run of an unknown patient", args: args("diagnosis", "add", "--file", "-", "--dry-run"), base: badDiagnosis,
			old: `"mrn":"MRN-1"`, new: `"mrn":"MRN-9"`, code: 1},
		fresh(cl("diagnosis", "diagnosis on a new ledger", `"mrn":"MRN-1"`, `"mrn":"MRN-1"`)),
		none(cl("diagnosis", "a good diagnosis on a --db path with no ledger", `"mrn":"MRN-1"`, `"mrn":"MRN-1"`)),

		// Coverage.
		cl("coverage", "coverage by an unknown payer", `"payer":"commercial"`, `"payer":"aetna"`),
		cl("coverage", "member_id holding an X12 segment terminator", `"member_id":"ABC123"`, `"member_id":"ABC~123"`),
		cl("coverage", "member_id holding an X12 element separator", `"member_id":"ABC123"`, `"member_id":"ABC*123"`),
		cl("coverage", "member_id of 51 characters", `"member_id":"ABC123"`, `"member_id":"`+strings.Repeat("A", 51)+`"`),
		cl("coverage", "coverage ending before it starts", `"to":"2026-12-31"`, `"to":"2025-12-31"`),
		cl("coverage", "coverage priority in words of its own", `"priority":"primary"`, `"priority":"first"`),
		cl("coverage", "coverage of an unknown patient", `"mrn":"MRN-1"`, `"mrn":"MRN-9"`),
		cl("coverage", "coverage with a misspelt field", `"member_id"`, `"memberid"`),

		// Prior authorizations.
		cl("authorization", "authorization ending before it starts", `"to":"2026-12-31"`, `"to":"2025-12-31"`),
		cl("authorization", "authorization by an unknown payer", `"payer":"commercial"`, `"payer":"aetna"`),
		cl("authorization", "authorization of an unknown drug", `"drug":"ziconotide"`, `"drug":"aspirin"`),
		cl("authorization", "authorization of zero mcg", `"amount":"300"`, `"amount":"0"`),
		cl("authorization", "authorization in mg", `"unit":"mcg"`, `"unit":"mg"`),
		cl("authorization", "authorization code of four characters", `"codes":["J2278"]`, `"codes":["J227"]`),
		cl("authorization", "authorization code as a number", `"codes":["J2278"]`, `"codes":[2278]`),
		cl("authorization", "authorization codes empty", `"codes":["J2278"]`, `"codes":[]`),
		cl("authorization", "authorization status in words of its own", `"status":"approved"`, `"status":"granted"`),
		cl("authorization", "authorization number holding an X12 delimiter", `"number":"PA-1"`, `"number":"PA:1"`),
		cl("authorization", "authorization of an unknown patient", `"mrn":"MRN-1"`, `"mrn":"MRN-9"`),
		cl("authorization", "authorization without its dates' end", `"to":"2026-12-31",`, ``),

		// Prior therapies.
		cl("therapy", "therapy outcome in words of its own", `"outcome":"failed"`, `"outcome":"worked"`),
		cl("therapy", "therapy begun in the future", "\"from\":\"2023-01-01\",\n \"to\":\"2024-06-30\",", `"from":"2100-01-01",`),
		cl("therapy", "therapy ending before it began", `"to":"2024-06-30"`, `"to":"2022-06-30"`),
		cl("therapy", "therapy of an unknown patient", `"mrn":"MRN-1"`, `"mrn":"MRN-9"`),

		// Trials.
		clOK("trial", "trial without its result (a warning)", `"successful":true,`, ``, "result is not recorded"),
		cl("trial", "trial dated in the future", `"date":"2025-12-01"`, `"date":"2100-12-01"`),
		cl("trial", "trial with 150 % relief", `"relief_percent":60`, `"relief_percent":150`),
		cl("trial", "trial relief with its percent sign", `"relief_percent":60`, `"relief_percent":"60%"`),
		cl("trial", "trial successful in words", `"successful":true`, `"successful":"yes"`),
		cl("trial", "trial of an unknown patient", `"mrn":"MRN-1"`, `"mrn":"MRN-9"`),

		// Consent and its document.
		clOK("consent", "consent without its signed form (a warning)", `"document":"$DIR/consent.pdf",`, ``, "No signed consent form is attached"),
		cl("consent", "consent dated in the future", `"date":"2025-12-01"`, `"date":"2100-12-01"`),
		cl("consent", "consent of an unknown patient", `"mrn":"MRN-1"`, `"mrn":"MRN-9"`),
		cl("consent", "consent without signed_by", `"signed_by":"patient",`, ``),
		cl("consent", "a 21 MB document", `consent.pdf`, `big/consent.pdf`),
		cl("consent", "an executable named consent.pdf", `consent.pdf`, `exe/consent.pdf`),
		cl("consent", "a text file named consent.pdf", `consent.pdf`, `text/consent.pdf`),
		cl("consent", "an empty document", `consent.pdf`, `empty/consent.pdf`),
		cl("consent", "a document that is not there", `consent.pdf`, `missing/consent.pdf`),
		cl("consent", "a document that is a folder", `"$DIR/consent.pdf"`, `"$DIR"`),
		cl("consent", "a document cited by a sha256 not stored", `"document":"$DIR/consent.pdf"`, `"document":{"sha256":"`+strings.Repeat("ab", 32)+`"}`),
		cl("consent", "a document cited by a sha256 in capitals", `"document":"$DIR/consent.pdf"`, `"document":{"sha256":"`+strings.Repeat("AB", 32)+`"}`),
		cl("consent", "a document cited by a sha256 with a field of its own", `"document":"$DIR/consent.pdf"`, `"document":{"sha256":"`+strings.Repeat("ab", 32)+`","pages":2}`),
		cl("consent", "a document as a number", `"document":"$DIR/consent.pdf"`, `"document":42`),
		cl("consent", "a document path empty", `"document":"$DIR/consent.pdf"`, `"document":""`),
		{name: "consent add --dry-run of a disguised document", args: args("consent", "add", "--file", "-", "--dry-run"), base: badConsent,
			old: `consent.pdf`, new: `exe/consent.pdf`, code: 1},

		// Monitoring assessments.
		cl("assessment", "pain score 11", `"pain_score":4`, `"pain_score":11`),
		cl("assessment", "pain score -1", `"pain_score":4`, `"pain_score":-1`),
		cl("assessment", "pain score 4.5", `"pain_score":4`, `"pain_score":4.5`),
		cl("assessment", "pain score in words", `"pain_score":4`, `"pain_score":"four"`),
		cl("assessment", "cognition in words of its own", `"cognition":"normal"`, `"cognition":"confused"`),
		cl("assessment", "assessment without a zone", `"at":"2026-03-31T10:00:00-04:00"`, `"at":"2026-03-31T10:00:00"`),
		cl("assessment", "assessment in the future", `"at":"2026-03-31T10:00:00-04:00"`, `"at":"2100-03-31T10:00:00-04:00"`),
		cl("assessment", "CK negative", `"ck_u_l":"120"`, `"ck_u_l":"-120"`),
		cl("assessment", "assessment of an unknown patient", `"mrn":"MRN-1"`, `"mrn":"MRN-9"`),

		// Patients registered from a file.
		pt("birth_date in the future", `"birth_date":"1960-04-02"`, `"birth_date":"2100-04-02"`),
		pt("birth_date before 1900", `"birth_date":"1960-04-02"`, `"birth_date":"1899-12-31"`),
		pt("birth_date in US order", `"birth_date":"1960-04-02"`, `"birth_date":"04/02/1960"`),
		pt("sex in words", `"sex":"F"`, `"sex":"female"`),
		pt("state spelt out", `"state":"OH"`, `"state":"Ohio"`),
		pt("ZIP code of four digits", `"postal_code":"43215"`, `"postal_code":"4321"`),
		pt("address line holding an X12 delimiter", `"line1":"1 Main St"`, `"line1":"1 Main St~"`),
		pt("address without a city", `"city":"Columbus",`, ``),
		pt("patient with a misspelt field", `"birth_date"`, `"dob"`),
		{name: "patient add with both --file and --mrn", args: args("patient", "add", "--file", "-", "--mrn", "MRN-3"), in: badPatient, code: 2},
		{name: "correct a patient with a replacement born in the future", args: args("correct", "--entry", "$patient-MRN-1", "--reason", "typo", "--file", "-"),
			in: strings.NewReplacer(`"MRN-3"`, `"MRN-1"`, `"1960-04-02"`, `"2100-04-02"`).Replace(badPatient), code: 1},

		// Chart and corrections of the clinical record.
		cmd("chart of an unknown patient", 1, "chart", "--mrn", "MRN-9"),
		fresh(cmd("chart on a new ledger", 1, "chart", "--mrn", "MRN-1")),
		cmd("chart without --mrn", 2, "chart"),
		{name: "correct a diagnosis with a replacement for another patient", args: args("correct", "--entry", "$diagnosis-MRN-1", "--reason", "wrong patient", "--file", "-"),
			base: badDiagnosis, old: `"mrn":"MRN-1"`, new: `"mrn":"MRN-2"`, code: 1},
		{name: "correct a diagnosis with a replacement of the wrong shape", args: args("correct", "--entry", "$diagnosis-MRN-1", "--reason", "typo", "--file", "-"),
			base: badDiagnosis, old: `"code":"G89.4"`, new: `"code":"G89..4"`, code: 1},
		{name: "correct a diagnosis with a replacement in the future", args: args("correct", "--entry", "$diagnosis-MRN-1", "--reason", "typo", "--file", "-"),
			base: badDiagnosis, old: `"onset":"2025-06-01"`, new: `"onset":"2100-06-01"`, code: 1},
		{name: "correct a diagnosis with a consent", args: args("correct", "--entry", "$diagnosis-MRN-1", "--reason", "typo", "--file", "-"),
			in: badConsent, code: 1},
		cmd("diagnosis add without --file", 2, "diagnosis", "add"),
		cmd("consent add without --file", 2, "consent", "add", "--json"),
		cmd("assessment without add", 2, "assessment", "--file", "-"),

		// Usage.
		cmd("unknown command", 2, "refil", "--file", "-"),
		cmd("refill without --file", 2, "refill"),
		cmd("refill with an unknown flag", 2, "refill", "--fil", "-"),
		cmd("refill with a flag without its value", 2, "refill", "--file"),
		cmd("patient with an unknown subcommand", 2, "patient", "remove", "--mrn", "MRN-1"),
		cmd("refill with an extra argument", 2, "refill", "--file", "-", "extra"),
		cmd("pump without a subcommand", 2, "pump"),
	}
}

// ledgerState is what a refusal must leave as it was: every key and value of
// every bucket of the ledger, the ledger's bytes, and its key file's bytes
// (nil when absent).
type ledgerState struct{ content, file, key []byte }

func readState(t *testing.T, c *cli) ledgerState {
	t.Helper()
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		} else if err != nil {
			t.Fatal(err)
		}
		return b
	}
	st := ledgerState{file: read(c.db), key: read(c.db + ".key")}
	if st.file == nil {
		return st
	}
	db, err := bolt.Open(c.db, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var buf bytes.Buffer
	var walk func(prefix string, b *bolt.Bucket) error
	walk = func(prefix string, b *bolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			if v == nil {
				return walk(fmt.Sprintf("%s%q/", prefix, k), b.Bucket(k))
			}
			fmt.Fprintf(&buf, "%s%q=%q\n", prefix, k, v)
			return nil
		})
	}
	if err := db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error { return walk(fmt.Sprintf("%q/", name), b) })
	}); err != nil {
		t.Fatal(err)
	}
	st.content = buf.Bytes()
	return st
}

// entryIDs maps the id of every entry of the seeded patients to a stable
// name for the golden file: "$refill-MRN-1", "$implant-MRN-2", ...
func entryIDs(t *testing.T, c *cli, mrns ...string) map[string]string {
	names := map[string]string{}
	for _, mrn := range mrns {
		var items []struct {
			Entry struct {
				ID   string `json:"id"`
				Kind string `json:"kind"`
			} `json:"entry"`
		}
		if err := json.Unmarshal([]byte(c.ok("", "history", "--mrn", mrn, "--json")), &items); err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			name := "$" + it.Entry.Kind + "-" + mrn
			for n := 2; slices.Contains(slices.Collect(maps.Values(names)), name); n++ {
				name = fmt.Sprintf("$%s-%s-%d", it.Entry.Kind, mrn, n)
			}
			names[it.Entry.ID] = name
		}
	}
	return names
}

// documents makes the catalogue's folder of documents: a good consent.pdf,
// and under big/, exe/, text/ and empty/ a consent.pdf that is not one.
func documents(t *testing.T) string {
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"consent.pdf":       []byte("%PDF-1.4\n% a signed consent form\n%%EOF\n"),
		"big/consent.pdf":   append([]byte("%PDF-1.4\n"), make([]byte, 21<<20)...),
		"exe/consent.pdf":   []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00"),
		"text/consent.pdf":  []byte("I consent to intrathecal therapy.\nSigned: the patient\n"),
		"empty/consent.pdf": {},
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var (
	nowRE      = regexp.MustCompile(`\(now is [^)]*\)`)
	recordedRE = regexp.MustCompile(`recorded on [0-9]{4}-[0-9]{2}-[0-9]{2}`)
)

// badSentence flags stderr that is not a plain sentence for a person.
var badSentence = []string{"json: cannot", "json: unknown", "json: invalid", "unmarshal", "Go struct", "Go value", "%!", "<nil>", "panic", "goroutine", "Internal error", "\\u"}

func TestBadInputCatalogue(t *testing.T) {
	shared := newCLI(t)
	shared.seed()
	shared.ok("", "patient", "add", "--mrn", "MRN-2", "--name", "Other Patient")
	shared.ok("", "pump", "implant", "--mrn", "MRN-2", "--serial", "S2", "--model", "synchromed-ii-20", "--date", "2026-02-20")
	shared.ok(storedDiagnosis, "diagnosis", "add", "--file", "-")
	ids := entryIDs(t, shared, "MRN-1", "MRN-2")
	dir := documents(t)
	var toID, toName []string
	for id, name := range ids {
		toID, toName = append(toID, name, id), append(toName, id, name)
	}
	verified := shared.ok("", "verify")

	cases := badInputs()
	if len(cases) < 45 {
		t.Fatalf("%d cases; the catalogue promises at least 45", len(cases))
	}
	var gold bytes.Buffer
	names := map[string]bool{}
	for _, tc := range cases {
		if names[tc.name] {
			t.Fatalf("two cases named %q", tc.name)
		}
		names[tc.name] = true
		c := shared
		if tc.fresh {
			c = newCLI(t)
		} else if tc.none {
			c = noLedger(t)
		}
		argv := make([]string, len(tc.args))
		for i, a := range tc.args {
			argv[i] = strings.NewReplacer(toID...).Replace(a)
		}
		in := strings.ReplaceAll(tc.stdin(t), "$DIR", dir)
		before := readState(t, c)
		code, out, errs := c.run(in, argv...)
		after := readState(t, c)

		// The golden block: no temporary path and no generated id in it.
		norm := func(s string) string {
			s = strings.NewReplacer(append([]string{c.db, "$DB", dir, "$DIR"}, toName...)...).Replace(s)
			s = recordedRE.ReplaceAllString(s, "recorded on $$TODAY")
			return nowRE.ReplaceAllString(s, "(now is $$NOW)")
		}
		fmt.Fprintf(&gold, "== %s\nargs: %s\nstdin: %s\nexit: %d\n", tc.name, strings.Join(tc.args, " "), tc.describe(), code)
		if tc.code == 0 {
			for _, l := range strings.Split(out, "\n") {
				switch {
				case tc.warn != "" && strings.Contains(l, tc.warn):
					fmt.Fprintf(&gold, "warning: %s\n", strings.TrimSpace(norm(l)))
				case tc.warn == "" && l != "": // accepted as is: what it would record
					fmt.Fprintf(&gold, "stdout: %s\n", strings.TrimSpace(norm(l)))
				}
			}
		}
		shown := norm(errs)
		if tc.code == 2 {
			// The sentence, and which usage follows it (the usage itself
			// is pinned by the help tests).
			if first, rest, ok := strings.Cut(shown, "\n\n"); ok {
				usage, _, _ := strings.Cut(rest, "\n")
				shown = first + "\nthen: " + usage
			}
		}
		fmt.Fprintf(&gold, "stderr: %s\n", strings.ReplaceAll(strings.TrimRight(shown, "\n"), "\n", "\n        "))

		t.Run(tc.name, func(t *testing.T) {
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout %.300q\nstderr %q", code, tc.code, out, errs)
			}
			lines := strings.Split(strings.TrimSuffix(errs, "\n"), "\n")
			switch tc.code {
			case 0:
				if tc.warn == "" && strings.Contains(out, "WARNING") {
					t.Errorf("accepted with a warning:\n%s", out)
				} else if !strings.Contains(out, tc.warn) || !strings.Contains(out, "WARNING") && tc.warn != "" {
					t.Errorf("accepted without the warning %q:\n%s", tc.warn, out)
				}
				if !strings.HasPrefix(out, "PREVIEW: nothing written.") {
					t.Errorf("accepted, yet not a preview:\n%s", out)
				}
				if errs != "" {
					t.Errorf("accepted, yet stderr %q", errs)
				}
			case 1:
				if len(lines) != 1 || !strings.HasPrefix(lines[0], "pumpledger: ") || !strings.HasSuffix(lines[0], ".") {
					t.Errorf("stderr %q: want one sentence, `pumpledger: ….`", errs)
				}
				if out != "" {
					t.Errorf("refused, yet stdout %.300q", out)
				}
			case 2:
				// The sentence, a blank line, then the usage of the command
				// (or, for an unknown one, the general usage).
				if len(lines) < 4 || !strings.HasPrefix(lines[0], "pumpledger: ") || lines[1] != "" ||
					!(strings.HasPrefix(lines[2], "Usage: pumpledger ") || strings.HasPrefix(lines[2], "pumpledger keeps the ledger")) {
					t.Errorf("stderr %q: want the usage error, then the usage", errs)
				}
			}
			for _, s := range badSentence {
				if strings.Contains(errs, s) {
					t.Errorf("stderr %q holds %q: not a plain sentence", errs, s)
				}
			}
			if !bytes.Equal(before.content, after.content) {
				t.Errorf("the ledger's content changed:\n--- before\n%s\n--- after\n%s", before.content, after.content)
			}
			if !bytes.Equal(before.key, after.key) {
				t.Errorf("the key file changed")
			}
			// Not a byte of the file: opening an existing ledger for
			// writing reads first, and a refused append rolls back.
			if !bytes.Equal(before.file, after.file) {
				t.Errorf("the ledger file's bytes changed")
			}
			if tc.none && (after.file != nil || after.key != nil) {
				t.Errorf("a ledger or key was left on the new path")
			}
		})
	}
	t.Logf("%d cases", len(cases))
	if after := shared.ok("", "verify"); after != verified {
		t.Errorf("the catalogue wrote: verify said %q, then %q", verified, after)
	}
	golden(t, "bad-inputs.golden", gold.Bytes())
}
