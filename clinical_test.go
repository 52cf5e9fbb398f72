package pumpledger_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger"
)

// hashA is the SHA-256 of a document already stored, as sha256sum prints it.
const hashA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// spouseCoverage is a coverage the patient holds as the subscriber's spouse.
const spouseCoverage = `{"mrn":"MRN-1","payer":"commercial","member_id":"W123456789","group":"G-100","from":"2026-01-01",
	"relationship":"Spouse","subscriber":{"name":"John R. Doe","birth_date":"1959-08-30","sex":"m",
	"address":{"line1":"12 Elm St","city":"Columbus","state":"OH","postal_code":"43215"}}}`

// clinicalInputs: one good input of each clinical kind and of a patient, as
// a nurse or a biller would write it.
var clinicalInputs = map[pumpledger.Kind]string{
	pumpledger.KindDiagnosis: `{"mrn":"MRN-1","code":"g89.4","description":"Chronic pain syndrome","onset":"2019-05-01",
		"clinician":"Dr. Ruiz","document":"evaluations/ruiz-2019.pdf","note":"pain clinic evaluation"}`,
	pumpledger.KindCoverage: `{"mrn":"MRN-1","payer":"medicare-part-b","member_id":"1EG4-TE5-MK73","plan":"Medicare Part B",
		"group":"G-100","from":"2026-01-01"}`,
	pumpledger.KindAuthorization: `{"id":"5F0C6B1E-8D2A-4C1E-9A57-0B6F1D2E3C4A","mrn":"MRN-1","payer":"commercial","number":"PA-2026-0042",
		"codes":["j2278"," 95990"],"drug":"ziconotide","amount":"1.2e3","unit":"MCG","from":"2026-01-15","to":"2027-01-14",
		"reassess_by":"2026-07-15","status":"Approved","document":{"sha256":"` + hashA + `"}}`,
	pumpledger.KindTherapy: `{"mrn":"MRN-1","therapy":"oral opioids","from":"2018-03-01","to":"2018-03-01","outcome":"failed",
		"details":"oxycodone, morphine ER:\ninadequate relief"}`,
	pumpledger.KindTrial: `{"mrn":"MRN-1","date":"2019-09-10","drug":"ziconotide","route":"intrathecal bolus","dose":"5 mcg",
		"clinician":"Dr. Ruiz","relief_percent":60,"function":"walked two blocks","successful":true}`,
	pumpledger.KindConsent: `{"mrn":"MRN-1","date":"2019-10-01","therapy":"intrathecal ziconotide","signed_by":"patient",
		"witness":"R. Lee, RN","document":" consent.pdf "}`,
	pumpledger.KindReview: `{"mrn":"MRN-1","refill":"6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b","at":"2026-03-31T11:00:00-04:00",
		"clinician":"drx","finding":"Pump interrogated; catheter patent.\nNo pocket fill.","document":"reports/interrogation.pdf"}`,
	pumpledger.KindAssessment: `{"mrn":"MRN-1","at":"2026-03-02T09:30:00-05:00","clinician":"jdoe","pain_score":4,
		"cognition":"Normal","psychiatric":"none","adverse_events":"","ck_u_l":"180"}`,
	pumpledger.KindPatient: `{"mrn":"MRN-1","name":"Jane Q. Doe","birth_date":"1961-04-12","sex":"f",
		"address":{"line1":"12 Elm St","city":"Columbus","state":"oh","postal_code":"43215-1234"}}`,
}

// set returns the JSON object base with the field at path ("address.state",
// "document.sha256") set to raw, or removed when raw is "".
func set(base, path, raw string) string {
	d := json.NewDecoder(strings.NewReader(base))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		panic(err)
	}
	parent := m
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		child, ok := parent[p].(map[string]any)
		if !ok {
			child = map[string]any{}
			parent[p] = child
		}
		parent = child
	}
	if last := parts[len(parts)-1]; raw == "" {
		delete(parent, last)
	} else {
		parent[last] = json.RawMessage(raw)
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// stored is the JSON a parsed input is recorded as.
func stored(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Each kind's good input is read with its fields as written, enumerations
// as listed, defaults filled in, and a document by its path or its hash.
func TestParseClinical(t *testing.T) {
	for _, tt := range []struct {
		kind pumpledger.Kind
		in   string
		want string // the parsed value's JSON
		path string // the document's path on input
	}{
		{pumpledger.KindDiagnosis, clinicalInputs[pumpledger.KindDiagnosis],
			`{"id":"","mrn":"MRN-1","code":"G89.4","description":"Chronic pain syndrome","onset":"2019-05-01","clinician":"Dr. Ruiz","document":{"sha256":"","media_type":"","size":0,"name":"ruiz-2019.pdf"},"note":"pain clinic evaluation"}`,
			"evaluations/ruiz-2019.pdf"},
		{pumpledger.KindDiagnosis, `{"mrn":"MRN-1","code":"M54.16","description":"Radiculopathy, lumbar region","clinician":"Dr. Ruiz"}`,
			`{"id":"","mrn":"MRN-1","code":"M54.16","description":"Radiculopathy, lumbar region","onset":"","clinician":"Dr. Ruiz","note":""}`, ""},
		// ICD-10-CM uses U (U07.1, U09.9); claims and exports drop the point.
		{pumpledger.KindDiagnosis, `{"mrn":"MRN-1","code":"U09.9","description":"Post COVID-19 condition","clinician":"Dr. Ruiz"}`,
			`{"id":"","mrn":"MRN-1","code":"U09.9","description":"Post COVID-19 condition","onset":"","clinician":"Dr. Ruiz","note":""}`, ""},
		{pumpledger.KindDiagnosis, `{"mrn":"MRN-1","code":"t85610a","description":"Breakdown of intrathecal catheter","clinician":"Dr. Ruiz"}`,
			`{"id":"","mrn":"MRN-1","code":"T85.610A","description":"Breakdown of intrathecal catheter","onset":"","clinician":"Dr. Ruiz","note":""}`, ""},
		{pumpledger.KindDiagnosis, `{"mrn":"MRN-1","code":"G894","description":"Chronic pain syndrome","clinician":"Dr. Ruiz"}`,
			`{"id":"","mrn":"MRN-1","code":"G89.4","description":"Chronic pain syndrome","onset":"","clinician":"Dr. Ruiz","note":""}`, ""},
		{pumpledger.KindCoverage, clinicalInputs[pumpledger.KindCoverage],
			`{"id":"","mrn":"MRN-1","payer":"medicare-part-b","member_id":"1EG4-TE5-MK73","plan":"Medicare Part B","group":"G-100","priority":"primary","from":"2026-01-01","to":"","note":""}`, ""},
		{pumpledger.KindCoverage, `{"mrn":"MRN-1","payer":"commercial","member_id":"XYZ123456789","priority":"Secondary","from":"2025-01-01","to":"2025-12-31","note":null}`,
			`{"id":"","mrn":"MRN-1","payer":"commercial","member_id":"XYZ123456789","plan":"","group":"","priority":"secondary","from":"2025-01-01","to":"2025-12-31","note":""}`, ""},
		// A dependent's coverage names the subscriber; "self" given is kept.
		{pumpledger.KindCoverage, spouseCoverage,
			`{"id":"","mrn":"MRN-1","payer":"commercial","member_id":"W123456789","plan":"","group":"G-100","priority":"primary","from":"2026-01-01","to":"","relationship":"spouse","subscriber":{"name":"John R. Doe","birth_date":"1959-08-30","sex":"M","address":{"line1":"12 Elm St","city":"Columbus","state":"OH","postal_code":"43215"}},"note":""}`, ""},
		{pumpledger.KindCoverage, `{"mrn":"MRN-1","payer":"commercial","member_id":"W1","relationship":"CHILD","subscriber":{"name":"Ann Doe"},"from":"2026-01-01"}`,
			`{"id":"","mrn":"MRN-1","payer":"commercial","member_id":"W1","plan":"","group":"","priority":"primary","from":"2026-01-01","to":"","relationship":"child","subscriber":{"name":"Ann Doe"},"note":""}`, ""},
		{pumpledger.KindCoverage, `{"mrn":"MRN-1","payer":"commercial","member_id":"W1","relationship":"self","subscriber":null,"from":"2026-01-01"}`,
			`{"id":"","mrn":"MRN-1","payer":"commercial","member_id":"W1","plan":"","group":"","priority":"primary","from":"2026-01-01","to":"","relationship":"self","note":""}`, ""},
		{pumpledger.KindAuthorization, clinicalInputs[pumpledger.KindAuthorization],
			`{"id":"5f0c6b1e-8d2a-4c1e-9a57-0b6f1d2e3c4a","mrn":"MRN-1","payer":"commercial","number":"PA-2026-0042","codes":["J2278","95990"],"drug":"ziconotide","amount":"1200","used_before":"0","unit":"mcg","from":"2026-01-15","to":"2027-01-14","reassess_by":"2026-07-15","status":"approved","document":{"sha256":"` + hashA + `","media_type":"","size":0,"name":""},"note":""}`, ""},
		{pumpledger.KindTherapy, clinicalInputs[pumpledger.KindTherapy],
			`{"id":"","mrn":"MRN-1","therapy":"oral opioids","from":"2018-03-01","to":"2018-03-01","outcome":"failed","details":"oxycodone, morphine ER:\ninadequate relief","note":""}`, ""},
		{pumpledger.KindTrial, clinicalInputs[pumpledger.KindTrial],
			`{"id":"","mrn":"MRN-1","date":"2019-09-10","drug":"ziconotide","route":"intrathecal bolus","dose":"5 mcg","clinician":"Dr. Ruiz","relief_percent":60,"function":"walked two blocks","successful":true,"note":""}`, ""},
		// A trial whose result is not known yet.
		{pumpledger.KindTrial, `{"mrn":"MRN-1","date":"2019-09-10","drug":"ziconotide","route":"intrathecal bolus","dose":"5 mcg","relief_percent":null}`,
			`{"id":"","mrn":"MRN-1","date":"2019-09-10","drug":"ziconotide","route":"intrathecal bolus","dose":"5 mcg","clinician":"","relief_percent":null,"function":"","successful":null,"note":""}`, ""},
		{pumpledger.KindTrial, `{"mrn":"MRN-1","date":"2019-09-10","drug":"ziconotide","route":"intrathecal bolus","dose":"5 mcg","relief_percent":"0","successful":false}`,
			`{"id":"","mrn":"MRN-1","date":"2019-09-10","drug":"ziconotide","route":"intrathecal bolus","dose":"5 mcg","clinician":"","relief_percent":0,"function":"","successful":false,"note":""}`, ""},
		{pumpledger.KindConsent, clinicalInputs[pumpledger.KindConsent],
			`{"id":"","mrn":"MRN-1","date":"2019-10-01","therapy":"intrathecal ziconotide","signed_by":"patient","witness":"R. Lee, RN","document":{"sha256":"","media_type":"","size":0,"name":"consent.pdf"},"note":""}`,
			"consent.pdf"},
		{pumpledger.KindAssessment, clinicalInputs[pumpledger.KindAssessment],
			`{"id":"","mrn":"MRN-1","at":"2026-03-02T09:30:00-05:00","clinician":"jdoe","pain_score":4,"cognition":"normal","psychiatric":"none","adverse_events":"","ck_u_l":"180","note":""}`, ""},
		{pumpledger.KindAssessment, `{"mrn":"MRN-1","at":"2026-03-02T09:30:00Z","clinician":"jdoe","pain_score":"0","cognition":"impaired","psychiatric":"PRESENT","adverse_events":"hallucinations\nat night"}`,
			`{"id":"","mrn":"MRN-1","at":"2026-03-02T09:30:00Z","clinician":"jdoe","pain_score":0,"cognition":"impaired","psychiatric":"present","adverse_events":"hallucinations\nat night","ck_u_l":null,"note":""}`, ""},
		{pumpledger.KindPatient, clinicalInputs[pumpledger.KindPatient],
			`{"mrn":"MRN-1","name":"Jane Q. Doe","birth_date":"1961-04-12","sex":"F","address":{"line1":"12 Elm St","city":"Columbus","state":"OH","postal_code":"43215-1234"}}`, ""},
		{pumpledger.KindPatient, `{"mrn":"MRN-1","name":"Jane Q. Doe"}`, `{"mrn":"MRN-1","name":"Jane Q. Doe"}`, ""},
	} {
		v, err := pumpledger.ParseInput(tt.kind, strings.NewReader(tt.in))
		if err != nil {
			t.Errorf("%s %s: %v", tt.kind, tt.in, err)
			continue
		}
		if got := stored(t, v); got != tt.want {
			t.Errorf("%s %s\n got %s\nwant %s", tt.kind, tt.in, got, tt.want)
		}
		var path string
		if docs := pumpledger.AttachmentsOf(v); len(docs) > 0 {
			path = docs[0].Path
		}
		if path != tt.path {
			t.Errorf("%s %s: document path %q, want %q", tt.kind, tt.in, path, tt.path)
		}
	}
}

// Each bad input is refused with one sentence naming its field and the fix.
func TestParseClinicalRefused(t *testing.T) {
	in := func(k pumpledger.Kind, path, raw string) string { return set(clinicalInputs[k], path, raw) }
	const (
		dx   = pumpledger.KindDiagnosis
		cov  = pumpledger.KindCoverage
		auth = pumpledger.KindAuthorization
		ther = pumpledger.KindTherapy
		tri  = pumpledger.KindTrial
		cons = pumpledger.KindConsent
		asm  = pumpledger.KindAssessment
		pat  = pumpledger.KindPatient
	)
	long := strconv.Quote(strings.Repeat("9", 51))
	for _, tt := range []struct {
		kind  pumpledger.Kind
		in    string
		field string
		msg   string
	}{
		// diagnosis
		{dx, in(dx, "code", `"G89,4"`), "code", `code "G89,4" is not an ICD-10-CM code; write it like G89.4 or M54.16 (a letter, two characters, a point, up to four more).`},
		{dx, in(dx, "code", `"338.4"`), "code", `code "338.4" is not an ICD-10-CM code; write it like G89.4 or M54.16 (a letter, two characters, a point, up to four more).`},
		{dx, in(dx, "code", `"G89.41234"`), "code", `code "G89.41234" is not an ICD-10-CM code; write it like G89.4 or M54.16 (a letter, two characters, a point, up to four more).`},
		{dx, in(dx, "code", `"G89."`), "code", `code "G89." is not an ICD-10-CM code; write it like G89.4 or M54.16 (a letter, two characters, a point, up to four more).`},
		{dx, in(dx, "code", `"G8.94"`), "code", `code "G8.94" is not an ICD-10-CM code; write it like G89.4 or M54.16 (a letter, two characters, a point, up to four more).`},
		{dx, in(dx, "code", `"G89412345"`), "code", `code "G89412345" is not an ICD-10-CM code; write it like G89.4 or M54.16 (a letter, two characters, a point, up to four more).`},
		{dx, in(dx, "code", ""), "code", `code is missing; add it.`},
		{dx, in(dx, "code", `["G89.4"]`), "code", `code must be a string; put it in double quotes.`},
		{dx, in(dx, "onset", `"2019-13-01"`), "onset", `onset must be a date like "2027-06-30", not "2019-13-01".`},
		{dx, in(dx, "clinician", `"  "`), "clinician", `clinician is empty; fill it in.`},
		{dx, in(dx, "icd10", `"G89.4"`), "icd10", `Unknown field "icd10"; remove it or check its spelling.`},
		{dx, in(dx, "document", `""`), "document", `document is empty; give the document's file path, or leave the field out.`},
		{dx, in(dx, "document", `{"sha256":"9f86d081"}`), "document.sha256", `document.sha256 must be a SHA-256 of 64 lower-case hex digits, as sha256sum prints it, not "9f86d081".`},
		{dx, in(dx, "document", `{"sha256":"`+strings.Repeat("g", 64)+`"}`), "document.sha256", `document.sha256 must be a SHA-256 of 64 lower-case hex digits, as sha256sum prints it, not "gggggggggggggggggggggggggggggggggggggggg…".`},
		{dx, in(dx, "document", `5`), "document", `document must be the document's file path in double quotes, or {"sha256": ...} for one already stored.`},
		{dx, in(dx, "mrn", `"MRN*1"`), "mrn", `mrn "MRN*1" holds "*", which an X12 claim uses as a delimiter; write the MRN without * : ~ ^.`},
		// coverage
		{cov, in(cov, "member_id", `"1EG4*TE5"`), "member_id", `member_id "1EG4*TE5" holds "*", which an X12 claim uses as a delimiter; write it without * : ~ ^.`},
		{cov, in(cov, "member_id", `"1EG4~TE5"`), "member_id", `member_id "1EG4~TE5" holds "~", which an X12 claim uses as a delimiter; write it without * : ~ ^.`},
		{cov, in(cov, "member_id", `"1EG4–TE5-MK73"`), "member_id", `member_id "1EG4–TE5-MK73" holds "–" (U+2013), which a claim cannot carry; retype it with plain letters, digits and hyphens.`},
		{cov, in(cov, "member_id", `"1EG4\u00a0TE5"`), "member_id", `member_id "1EG4\u00a0TE5" holds "\u00a0" (U+00A0), which a claim cannot carry; retype it with plain letters, digits and hyphens.`},
		{auth, in(auth, "number", `"PA‑42"`), "number", `number "PA‑42" holds "‑" (U+2011), which a claim cannot carry; retype it with plain letters, digits and hyphens.`},
		{cov, in(cov, "group", `"G:100"`), "group", `group "G:100" holds ":", which an X12 claim uses as a delimiter; write it without * : ~ ^.`},
		{cov, in(cov, "member_id", long), "member_id", `member_id is 51 characters long, more than the 50 a claim carries; check it against the card or letter.`},
		{cov, in(cov, "member_id", ""), "member_id", `member_id is missing; add it.`},
		{cov, in(cov, "priority", `"first"`), "priority", `priority must be "primary", "secondary" or "tertiary", not "first".`},
		{cov, in(cov, "to", `"2025-12-31"`), "to", `to 2025-12-31 is before from 2026-01-01; check both dates.`},
		{cov, in(cov, "from", ""), "from", `from is missing; add it.`},
		{cov, in(cov, "payer", `""`), "payer", `payer is empty; fill it in.`},
		{cov, set(in(cov, "member_id", ""), "Member_ID", `"X"`), "member_id", `member_id is missing, and the input has "Member_ID"; rename it to member_id.`},
		{cov, in(cov, "relationship", `"husband"`), "relationship", `relationship must be "self", "spouse", "child" or "other", not "husband".`},
		{cov, in(cov, "relationship", `"spouse"`), "subscriber", `subscriber is missing; a coverage whose relationship is not self names the person who holds the policy: add {"name": ...} with their birth_date, sex and address when known.`},
		{cov, in(cov, "subscriber", `{"name":"John Doe"}`), "subscriber", `subscriber is given but relationship is self; remove it, or set relationship to the patient's relationship to the subscriber (spouse, child or other).`},
		{cov, set(spouseCoverage, "subscriber", `{"birth_date":"1959-08-30"}`), "subscriber.name", `subscriber.name is missing; add it.`},
		{cov, set(spouseCoverage, "subscriber", `"John Doe"`), "subscriber", `subscriber must be a JSON object; write it as {"field": value, ...}.`},
		{cov, set(spouseCoverage, "subscriber", `{"name":"John Doe","sex":"male"}`), "subscriber.sex", `subscriber.sex must be "F", "M" or "U", not "male".`},
		{cov, set(spouseCoverage, "subscriber", `{"name":"John Doe","birth_date":"1859-08-30"}`), "subscriber.birth_date", `subscriber.birth_date 1859-08-30 is before 1900; check the year.`},
		{cov, set(spouseCoverage, "subscriber", `{"name":"John Doe","address":{"line1":"1 A St","city":"X","state":"ZZ","postal_code":"43215"}}`), "subscriber.address.state", `subscriber.address.state must be the two-letter USPS code, like "OH", not "ZZ".`},
		{cov, set(spouseCoverage, "subscriber", `{"name":"John Doe","ssn":"123"}`), "subscriber.ssn", `Unknown field "subscriber.ssn"; remove it or check its spelling.`},
		// authorization
		{auth, in(auth, "to", `"2026-01-14"`), "to", `to 2026-01-14 is before from 2026-01-15; check both dates.`},
		{auth, in(auth, "amount", `0`), "amount", `amount must be more than zero, not 0; give what the payer authorized.`},
		{auth, in(auth, "amount", `"-5"`), "amount", `amount must be more than zero, not -5; give what the payer authorized.`},
		{auth, in(auth, "amount", `"1,200"`), "amount", `amount must be a decimal number such as "2.5", not "1,200".`},
		{auth, in(auth, "used_before", `"-1"`), "used_before", `used_before must be from 0 to the amount authorized (1200), not -1; give what was already used of it.`},
		{auth, in(auth, "used_before", `"1200.5"`), "used_before", `used_before must be from 0 to the amount authorized (1200), not 1200.5; give what was already used of it.`},
		{auth, in(auth, "unit", `"mg"`), "unit", `unit must be "mcg" or "units", not "mg".`},
		{auth, in(auth, "unit", ""), "unit", `unit is missing; add it: "mcg" or "units".`},
		{auth, in(auth, "status", ""), "status", `status is missing; add it: "approved", "pending" or "denied".`},
		{auth, in(auth, "reassess_by", `"2025-07-15"`), "reassess_by", `reassess_by 2025-07-15 is before from 2026-01-15; check both dates.`},
		{auth, in(auth, "status", `"approve"`), "status", `status must be "approved", "pending" or "denied", not "approve".`},
		{auth, in(auth, "codes", `[]`), "codes", `codes is empty; list at least one.`},
		{auth, in(auth, "codes", `"J2278"`), "codes", `codes must be a list [...].`},
		{auth, in(auth, "codes", `["J2278","J22"]`), "codes[1]", `codes[1] "J22" is not a HCPCS or CPT code; write it like J2278 or 95990.`},
		{auth, in(auth, "codes", `[2278]`), "codes[0]", `codes[0] must be a code in double quotes, like "J2278".`},
		{auth, in(auth, "number", `"PA^42"`), "number", `number "PA^42" holds "^", which an X12 claim uses as a delimiter; write it without * : ~ ^.`},
		{auth, in(auth, "reassess_by", `"July 2026"`), "reassess_by", `reassess_by must be a date like "2027-06-30", not "July 2026".`},
		// therapy
		{ther, in(ther, "outcome", `"worked"`), "outcome", `outcome must be "failed", "intolerant" or "contraindicated", not "worked".`},
		{ther, in(ther, "to", `"2018-02-28"`), "to", `to 2018-02-28 is before from 2018-03-01; check both dates.`},
		{ther, in(ther, "therapy", ""), "therapy", `therapy is missing; add it.`},
		{ther, in(ther, "details", `"a\u0007b"`), "details", `details has an invisible or control character (U+0007) at character 2; retype it without it.`},
		// trial
		{tri, in(tri, "relief_percent", `101`), "relief_percent", `relief_percent must be between 0 and 100 percent, not 101; check the figure.`},
		{tri, in(tri, "relief_percent", `-1`), "relief_percent", `relief_percent must be between 0 and 100 percent, not -1; check the figure.`},
		{tri, in(tri, "relief_percent", `"55.5"`), "relief_percent", `relief_percent must be a whole number, not 55.5.`},
		{tri, in(tri, "successful", `"yes"`), "successful", `successful must be true or false, without quotes.`},
		{tri, in(tri, "date", ""), "date", `date is missing; add it.`},
		{tri, in(tri, "route", `""`), "route", `route is empty; fill it in.`},
		// consent
		{cons, in(cons, "signed_by", ""), "signed_by", `signed_by is missing; add it.`},
		{cons, in(cons, "date", `"10/01/2019"`), "date", `date must be a date like "2027-06-30", not "10/01/2019".`},
		{cons, in(cons, "document", `"   "`), "document", `document is empty; give the document's file path, or leave the field out.`},
		{cons, in(cons, "document", `"consent\u200b.pdf"`), "document", `document has an invisible or control character (U+200B) at character 8; retype it without it.`},
		{cons, in(cons, "document", `{"sha256":"`+hashA+`","path":"consent.pdf"}`), "document.path", `Unknown field "document.path"; remove it or check its spelling.`},
		{cons, in(cons, "document", `{"sha256":"`+hashA+`","size":22020096}`), "document.size", `document.size must be between 0 and 20971520 bytes, not 22020096; check the figure.`},
		{cons, in(cons, "document", `{}`), "document.sha256", `document.sha256 is missing; add it.`},
		// assessment
		{asm, in(asm, "pain_score", `11`), "pain_score", `pain_score must be between 0 and 10 (the 0–10 numeric rating scale), not 11; check the figure.`},
		{asm, in(asm, "pain_score", ""), "pain_score", `pain_score is missing; add it as a number such as "2.5".`},
		{asm, in(asm, "cognition", `"confused"`), "cognition", `cognition must be "normal" or "impaired", not "confused".`},
		{asm, in(asm, "psychiatric", `"hallucinations"`), "psychiatric", `psychiatric must be "none" or "present", not "hallucinations".`},
		{asm, in(asm, "ck_u_l", `-1`), "ck_u_l", `ck_u_l must be from 0 to 1000000 U/L, not -1; check the units (U/L) and the figure.`},
		{asm, in(asm, "ck_u_l", `"2000000"`), "ck_u_l", `ck_u_l must be from 0 to 1000000 U/L, not 2000000; check the units (U/L) and the figure.`},
		{asm, in(asm, "at", `"2026-03-02 09:30"`), "at", `at must be a date and time with its UTC offset, like "2026-03-02T09:30:00-05:00", not "2026-03-02 09:30".`},
		// patient
		{pat, in(pat, "address.state", `"Ohio"`), "address.state", `address.state must be the two-letter USPS code, like "OH", not "Ohio".`},
		{pat, in(pat, "address.state", `"ZZ"`), "address.state", `address.state must be the two-letter USPS code, like "OH", not "ZZ".`},
		{pat, in(pat, "address.postal_code", `"4321"`), "address.postal_code", `address.postal_code must be a ZIP code like "43215" or "43215-1234", not "4321".`},
		{pat, in(pat, "address.line1", `"12 Elm St*"`), "address.line1", `address.line1 "12 Elm St*" holds "*", which an X12 claim uses as a delimiter; write it without * : ~ ^.`},
		{pat, in(pat, "address.city", `"Mayagüez"`), "address.city", `address.city "Mayagüez" holds "ü" (U+00FC), which a claim cannot carry; retype it with plain letters, digits and hyphens.`},
		{pat, in(pat, "address.city", ""), "address.city", `address.city is missing; add it.`},
		{pat, in(pat, "address.country", `"US"`), "address.country", `Unknown field "address.country"; remove it or check its spelling.`},
		{pat, in(pat, "address", `"12 Elm St, Columbus OH"`), "address", `address must be a JSON object; write it as {"field": value, ...}.`},
		{pat, in(pat, "birth_date", `"1899-12-31"`), "birth_date", `birth_date 1899-12-31 is before 1900; check the year.`},
		{pat, in(pat, "birth_date", `"04/12/1961"`), "birth_date", `birth_date must be a date like "2027-06-30", not "04/12/1961".`},
		{pat, in(pat, "sex", `"X"`), "sex", `sex must be "F", "M" or "U", not "X".`},
	} {
		_, err := pumpledger.ParseInput(tt.kind, strings.NewReader(tt.in))
		var e *pumpledger.Error
		if !errors.As(err, &e) || e.Code != pumpledger.EINVALID {
			t.Errorf("%s %s: err = %v, want an EINVALID refusal", tt.kind, tt.in, err)
			continue
		}
		if e.Message != tt.msg || e.Field != tt.field {
			t.Errorf("%s %s\n got %s: %s\nwant %s: %s", tt.kind, tt.in, e.Field, e.Message, tt.field, tt.msg)
		}
	}
}

// fuzzInput: parse never panics; it refuses with an EINVALID error of one
// line naming its field, or gives a value whose own JSON (as recorded, its
// documents settled as the command line settles them) reads back the same.
func fuzzInput[T any](f *testing.F, parse func(io.Reader) (T, error), seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := parse(bytes.NewReader(data))
		if err != nil {
			var e *pumpledger.Error
			if !errors.As(err, &e) || e.Code != pumpledger.EINVALID || e.Message == "" || strings.ContainsAny(e.Message, "\r\n") {
				t.Fatalf("err = %#v, want an EINVALID *Error of one line", err)
			}
			if quoted := strconv.Quote(e.Field); !strings.Contains(e.Message, e.Field) && !strings.Contains(e.Message, quoted[1:len(quoted)-1]) {
				t.Fatalf("message %q does not name field %q", e.Message, e.Field)
			}
			return
		}
		for _, d := range pumpledger.AttachmentsOf(v) {
			if d.Path == "" {
				continue
			}
			d.Content = []byte("%PDF-1.7\n" + d.Path)
			if err := d.Settle("document"); err != nil {
				t.Fatalf("a PDF at %q does not settle: %v", d.Path, err)
			}
		}
		again := stored(t, v)
		v2, err := parse(strings.NewReader(again))
		if err != nil {
			t.Fatalf("its own JSON %s is refused: %v", again, err)
		}
		if back := stored(t, v2); back != again {
			t.Fatalf("its own JSON %s reads back as %s", again, back)
		}
	})
}

func FuzzParseDiagnosis(f *testing.F) {
	k := pumpledger.KindDiagnosis
	fuzzInput(f, pumpledger.ParseDiagnosis, clinicalInputs[k],
		set(clinicalInputs[k], "document", `{"sha256":"`+hashA+`","media_type":"application/pdf","size":1234,"name":"eval.pdf"}`),
		set(clinicalInputs[k], "code", `"t85.610a"`), `{"code":"G89,4"}`, `{"document":{"sha256":null}}`)
}

func FuzzParseCoverage(f *testing.F) {
	k := pumpledger.KindCoverage
	fuzzInput(f, pumpledger.ParseCoverage, clinicalInputs[k],
		set(clinicalInputs[k], "to", `"2026-12-31"`), set(clinicalInputs[k], "priority", `"TERTIARY"`), `{"member_id":"A*B"}`,
		spouseCoverage, set(spouseCoverage, "relationship", `"other"`), set(spouseCoverage, "subscriber", `{"name":"X"}`),
		`{"relationship":"child","subscriber":{"name":null}}`)
}

func FuzzParseAuthorization(f *testing.F) {
	k := pumpledger.KindAuthorization
	fuzzInput(f, pumpledger.ParseAuthorization, clinicalInputs[k],
		set(clinicalInputs[k], "document", `"letters/pa.pdf"`), set(clinicalInputs[k], "amount", `"1e-9"`),
		set(clinicalInputs[k], "unit", `"units"`), `{"codes":["J2278",5]}`)
}

func FuzzParseTherapy(f *testing.F) {
	k := pumpledger.KindTherapy
	fuzzInput(f, pumpledger.ParseTherapy, clinicalInputs[k],
		set(clinicalInputs[k], "to", ""), `{"outcome":"Intolerant"}`)
}

func FuzzParseTrial(f *testing.F) {
	k := pumpledger.KindTrial
	fuzzInput(f, pumpledger.ParseTrial, clinicalInputs[k],
		set(set(clinicalInputs[k], "relief_percent", ""), "successful", "null"), set(clinicalInputs[k], "relief_percent", `"1e2"`),
		`{"relief_percent":1e999}`)
}

func FuzzParseConsent(f *testing.F) {
	k := pumpledger.KindConsent
	fuzzInput(f, pumpledger.ParseConsent, clinicalInputs[k],
		set(clinicalInputs[k], "document", `{"sha256":"`+hashA+`"}`), set(clinicalInputs[k], "document", `"a/ b.pdf"`),
		`{"document":""}`)
}

func FuzzParseAssessment(f *testing.F) {
	k := pumpledger.KindAssessment
	fuzzInput(f, pumpledger.ParseAssessment, clinicalInputs[k],
		set(clinicalInputs[k], "ck_u_l", `1e6`), set(clinicalInputs[k], "at", `"2026-03-02T09:30:00.5+14:00"`), `{"pain_score":11}`)
}

func FuzzParseReview(f *testing.F) {
	k := pumpledger.KindReview
	fuzzInput(f, pumpledger.ParseReview, clinicalInputs[k],
		set(clinicalInputs[k], "refill", `"6B1F8A2E-3C4D-4E5F-8A9B-0C1D2E3F4A5B"`), `{"refill":"12"}`, `{"finding":""}`)
}

func FuzzParsePatient(f *testing.F) {
	k := pumpledger.KindPatient
	fuzzInput(f, pumpledger.ParsePatient, clinicalInputs[k], `{"mrn":"MRN-1","name":"Jane Q. Doe"}`,
		set(clinicalInputs[k], "address.line2", `"Apt 4"`), `{"address":{"state":"Ohio"}}`)
}

// A document is cited by its path, or by its hash in the form a recorded
// entry holds it: what is recorded reads back as itself.
func TestParseDocument(t *testing.T) {
	consent := func(doc string) string { return set(clinicalInputs[pumpledger.KindConsent], "document", doc) }
	for _, tt := range []struct {
		in, want string // document on input; as recorded
	}{
		// Cited by hash alone: size, kind and name not known.
		{`{"sha256":"` + hashA + `"}`, `{"sha256":"` + hashA + `","media_type":"","size":0,"name":""}`},
		{`{"sha256":"` + hashA + `","media_type":"","size":0,"name":""}`, `{"sha256":"` + hashA + `","media_type":"","size":0,"name":""}`},
		{`{"sha256":"` + hashA + `","media_type":"application/pdf","size":1234,"name":"consent.pdf"}`, `{"sha256":"` + hashA + `","media_type":"application/pdf","size":1234,"name":"consent.pdf"}`},
		// certutil and PowerShell's Get-FileHash print upper case.
		{`{"sha256":"` + strings.ToUpper(hashA) + `","media_type":"IMAGE/JPEG"}`, `{"sha256":"` + hashA + `","media_type":"image/jpeg","size":0,"name":""}`},
		// A path: its name is the file's, without the blanks around it.
		{`"scans/ consent 2019.pdf"`, `{"sha256":"","media_type":"","size":0,"name":"consent 2019.pdf"}`},
	} {
		v, err := pumpledger.ParseConsent(strings.NewReader(consent(tt.in)))
		if err != nil {
			t.Errorf("document %s: %v", tt.in, err)
			continue
		}
		if got := stored(t, v.Document); got != tt.want {
			t.Errorf("document %s recorded as %s, want %s", tt.in, got, tt.want)
		}
		if v.Document.Path != "" {
			continue
		}
		if back, err := pumpledger.ParseConsent(strings.NewReader(stored(t, v))); err != nil || stored(t, back) != stored(t, v) {
			t.Errorf("document %s: the consent's own JSON reads back as %+v (%v)", tt.in, back.Document, err)
		}
	}
	for _, tt := range []struct{ in, field, msg string }{
		{`{"sha256":"` + hashA + `","media_type":"text/html"}`, "document.media_type", `document.media_type must be "application/pdf", "image/png" or "image/jpeg", not "text/html".`},
		{`{"sha256":"` + hashA + `","size":-1}`, "document.size", `document.size must be between 0 and 20971520 bytes, not -1; check the figure.`},
	} {
		_, err := pumpledger.ParseConsent(strings.NewReader(consent(tt.in)))
		var e *pumpledger.Error
		if !errors.As(err, &e) || e.Field != tt.field || e.Message != tt.msg {
			t.Errorf("document %s: err = %v, want %s: %s", tt.in, err, tt.field, tt.msg)
		}
	}
}
