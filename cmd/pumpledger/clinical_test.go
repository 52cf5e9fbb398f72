package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The clinical record through the command line (SPEC §9): each kind
// recorded, replayed, refused on a conflict, corrected with a replacement
// and by a void alone, previewed, and printed as JSON; its documents stored
// by hash and read relative to the input file; prior authorizations drawn
// down by the refills billed under them.

// consentPDF is a small document that sniffs as a PDF.
const consentPDF = "%PDF-1.4\n% signed consent to intrathecal ziconotide\n%%EOF\n"

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// chartJSON is what these tests read of `chart --json`.
type chartJSON struct {
	Diagnoses      []chartRecord `json:"diagnoses"`
	Coverage       []chartRecord `json:"coverage"`
	Authorizations []struct {
		EntryID    string `json:"entry_id"`
		Number     string `json:"number"`
		Authorized string `json:"authorized"`
		Used       string `json:"used"`
		Left       string `json:"left"`
		To         string `json:"to"`
		Expired    bool   `json:"expired"`
		Draws      []struct {
			EntryID       string `json:"entry_id"`
			DateOfService string `json:"date_of_service"`
			Units         int64  `json:"units"`
			Amount        string `json:"amount"`
			Left          string `json:"left"`
		} `json:"draws"`
	} `json:"authorizations"`
	Therapies  []chartRecord `json:"therapies"`
	Trials     []chartRecord `json:"trials"`
	Consents   []chartRecord `json:"consents"`
	Assessment struct {
		Last  *chartRecord `json:"last"`
		Count int          `json:"count"`
	} `json:"assessment"`
}

type chartRecord struct {
	EntryID string         `json:"entry_id"`
	Record  map[string]any `json:"record"`
}

func (c *cli) chart(mrn string) chartJSON {
	c.t.Helper()
	var ch chartJSON
	if err := json.Unmarshal([]byte(c.ok("", "chart", "--mrn", mrn, "--json")), &ch); err != nil {
		c.t.Fatal(err)
	}
	return ch
}

// live is the entry ids the chart shows for kind, in its order.
func (ch chartJSON) live(kind string) []string {
	var recs []chartRecord
	switch kind {
	case "diagnosis":
		recs = ch.Diagnoses
	case "coverage":
		recs = ch.Coverage
	case "authorization":
		ids := []string{}
		for _, a := range ch.Authorizations {
			ids = append(ids, a.EntryID)
		}
		return ids
	case "therapy":
		recs = ch.Therapies
	case "trial":
		recs = ch.Trials
	case "consent":
		recs = ch.Consents
	case "assessment":
		if ch.Assessment.Last != nil {
			recs = []chartRecord{*ch.Assessment.Last}
		}
	}
	ids := []string{}
	for _, r := range recs {
		ids = append(ids, r.EntryID)
	}
	return ids
}

// historyItem is what these tests read of `history --json`.
type historyItem struct {
	Entry struct {
		ID      string         `json:"id"`
		Kind    string         `json:"kind"`
		Payload map[string]any `json:"payload"`
	} `json:"entry"`
	VoidedBy   string `json:"voided_by"`
	VoidReason string `json:"void_reason"`
}

func (c *cli) history(mrn string) map[string]historyItem {
	c.t.Helper()
	var items []historyItem
	if err := json.Unmarshal([]byte(c.ok("", "history", "--mrn", mrn, "--json")), &items); err != nil {
		c.t.Fatal(err)
	}
	out := map[string]historyItem{}
	for _, it := range items {
		out[it.Entry.ID] = it
	}
	return out
}

// A clinical kind's life through the command line.
func TestClinicalKinds(t *testing.T) {
	const id = "7d3c2b1a-0f9e-4d8c-b7a6-958473625140"
	pdfSum := sha256Hex(consentPDF)
	cases := []struct {
		kind string
		// in is the input, with id; line what `KIND add` prints of it.
		in, line string
		// other is in with other content (a conflict under the same id).
		other [2]string
		// repl is the replacement's change to in (the id dropped).
		repl [2]string
		// field and want: a field of the replacement as chart --json shows it.
		field, want string
	}{
		{
			kind:  "diagnosis",
			in:    `{"id":"ID","mrn":"MRN-1","code":"G89.4","description":"Chronic pain syndrome","onset":"2025-06-01","clinician":"drx"}`,
			line:  "G89.4 Chronic pain syndrome, by drx, onset 2025-06-01",
			other: [2]string{`"onset":"2025-06-01"`, `"onset":"2025-06-02"`},
			repl:  [2]string{`"code":"G89.4","description":"Chronic pain syndrome"`, `"code":"M96.1","description":"Postlaminectomy syndrome"`},
			field: "code", want: "M96.1",
		},
		{
			kind:  "coverage",
			in:    `{"id":"ID","mrn":"MRN-1","payer":"commercial","member_id":"ABC123","plan":"PPO","from":"2026-01-01"}`,
			line:  "primary coverage by commercial, member ABC123, plan PPO, from 2026-01-01 in force",
			other: [2]string{`"plan":"PPO"`, `"plan":"HMO"`},
			repl:  [2]string{`"member_id":"ABC123"`, `"member_id":"ABC124"`},
			field: "member_id", want: "ABC124",
		},
		{
			kind:  "authorization",
			in:    `{"id":"ID","mrn":"MRN-1","payer":"commercial","number":"PA-1","codes":["J2278"],"drug":"ziconotide","amount":"300","unit":"mcg","from":"2026-01-01","to":"2099-12-31","status":"approved"}`,
			line:  "prior authorization PA-1 by commercial (approved): 300 mcg of ziconotide for J2278, 2026-01-01 to 2099-12-31",
			other: [2]string{`"amount":"300"`, `"amount":"600"`},
			repl:  [2]string{`"amount":"300"`, `"amount":"3000"`},
			field: "authorized", want: "3000",
		},
		{
			kind:  "therapy",
			in:    `{"id":"ID","mrn":"MRN-1","therapy":"oral opioids","from":"2023-01-01","to":"2024-06-30","outcome":"failed","details":"no lasting relief"}`,
			line:  "oral opioids failed, from 2023-01-01 to 2024-06-30: no lasting relief",
			other: [2]string{`"outcome":"failed"`, `"outcome":"intolerant"`},
			repl:  [2]string{`"outcome":"failed"`, `"outcome":"intolerant"`},
			field: "outcome", want: "intolerant",
		},
		{
			kind:  "trial",
			in:    `{"id":"ID","mrn":"MRN-1","date":"2025-12-01","drug":"ziconotide","route":"intrathecal bolus","dose":"2.5 mcg","relief_percent":60,"function":"walks 30 minutes","successful":true}`,
			line:  "trial of ziconotide 2.5 mcg (intrathecal bolus) on 2025-12-01: successful, 60 % relief, function: walks 30 minutes",
			other: [2]string{`"relief_percent":60`, `"relief_percent":70`},
			repl:  [2]string{`"relief_percent":60`, `"relief_percent":75`},
			field: "relief_percent", want: "75",
		},
		{
			kind:  "consent",
			in:    `{"id":"ID","mrn":"MRN-1","date":"2025-12-01","signed_by":"patient","witness":"asmith","document":"consent.pdf"}`,
			line:  "consent signed by patient on 2025-12-01, witnessed by asmith\n   document consent.pdf (application/pdf, 58 bytes) sha256 " + pdfSum,
			other: [2]string{`"witness":"asmith"`, `"witness":"bjones"`},
			repl:  [2]string{`"witness":"asmith"`, `"witness":"bjones"`},
			field: "witness", want: "bjones",
		},
		{
			kind:  "assessment",
			in:    `{"id":"ID","mrn":"MRN-1","at":"2026-03-31T10:00:00-04:00","clinician":"drx","pain_score":4,"cognition":"normal","psychiatric":"none"}`,
			line:  "assessment by drx at 2026-03-31T10:00:00-04:00: pain 4/10, cognition normal, psychiatric symptoms none",
			other: [2]string{`"pain_score":4`, `"pain_score":5`},
			repl:  [2]string{`"pain_score":4`, `"pain_score":3`},
			field: "pain_score", want: "3",
		},
	}
	if len(consentPDF) != 58 {
		t.Fatalf("consentPDF is %d bytes; the consent case says 58", len(consentPDF))
	}
	for _, tc := range cases {
		t.Run(tc.kind, func(t *testing.T) {
			c := newCLI(t)
			c.seed()
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "consent.pdf"), consentPDF)
			in := strings.Replace(tc.in, "ID", id, 1)
			file := writeFile(t, filepath.Join(dir, tc.kind+".json"), in)
			other := writeFile(t, filepath.Join(dir, "other.json"), strings.Replace(in, tc.other[0], tc.other[1], 1))
			repl := writeFile(t, filepath.Join(dir, "repl.json"), strings.Replace(strings.Replace(in, `"id":"`+id+`",`, "", 1), tc.repl[0], tc.repl[1], 1))
			add := []string{tc.kind, "add", "--file", file}

			// --dry-run: the preview, and not a byte written.
			before := readState(t, c)
			got := c.ok("", append(add, "--dry-run")...)
			want := "PREVIEW: nothing written. This is what the " + tc.kind + " will record.\nWould record " + tc.kind + " for patient MRN-1 (entry " + id + "):\n   " + tc.line + "\n"
			if got != want {
				t.Errorf("--dry-run printed\n%s\nwant\n%s", got, want)
			}
			if after := readState(t, c); !bytes.Equal(before.file, after.file) {
				t.Errorf("--dry-run changed the ledger file")
			}
			if ids := c.chart("MRN-1").live(tc.kind); len(ids) != 0 {
				t.Errorf("after --dry-run the chart shows %v", ids)
			}

			// Record.
			if got, want := c.ok("", add...), "Recorded "+tc.kind+" for patient MRN-1 (entry "+id+"):\n   "+tc.line+"\n"; got != want {
				t.Errorf("add printed\n%s\nwant\n%s", got, want)
			}
			if ids := c.chart("MRN-1").live(tc.kind); !slices.Equal(ids, []string{id}) {
				t.Errorf("chart shows %s entries %v, want [%s]", tc.kind, ids, id)
			}

			// Replay: the same input, the same id: nothing written.
			before = readState(t, c)
			if got, want := c.ok("", add...), "Already recorded: "+tc.kind+" for patient MRN-1 (entry "+id+"):\n   "+tc.line+"\n"; got != want {
				t.Errorf("replay printed\n%s\nwant\n%s", got, want)
			}
			if after := readState(t, c); !bytes.Equal(before.file, after.file) {
				t.Errorf("the replay changed the ledger file")
			}

			// --json: its shape, on a replay.
			var js map[string]any
			if err := json.Unmarshal([]byte(c.ok("", append(add, "--json")...)), &js); err != nil {
				t.Fatal(err)
			}
			keys := slices.Sorted(func(yield func(string) bool) {
				for k := range js {
					if !yield(k) {
						return
					}
				}
			})
			if !slices.Equal(keys, []string{"existing", "id", "kind", "record", "warnings"}) {
				t.Errorf("--json keys %v", keys)
			}
			rec, _ := js["record"].(map[string]any)
			if js["id"] != id || js["kind"] != tc.kind || js["existing"] != true || rec["id"] != id || rec["mrn"] != "MRN-1" {
				t.Errorf("--json: %v", js)
			}
			if w, ok := js["warnings"].([]any); !ok || len(w) != 0 {
				t.Errorf("--json warnings %v, want []", js["warnings"])
			}
			var dry map[string]any
			if err := json.Unmarshal([]byte(c.ok("", append(add, "--json", "--dry-run")...)), &dry); err != nil {
				t.Fatal(err)
			}
			if dry["dry_run"] != true {
				t.Errorf("--json --dry-run: dry_run %v, want true", dry["dry_run"])
			}

			// Conflict: the same id with other content.
			before = readState(t, c)
			code, out, errs := c.run("", tc.kind, "add", "--file", other)
			if code != 1 || out != "" || !strings.HasPrefix(errs, "pumpledger: id "+id+" is already recorded (entry ") || !strings.Contains(errs, "a "+tc.kind+" recorded on ") || !strings.Contains(errs, ") with different content;") {
				t.Errorf("conflict: exit %d, stdout %q, stderr %q", code, out, errs)
			}
			if after := readState(t, c); !bytes.Equal(before.file, after.file) {
				t.Errorf("the conflict changed the ledger file")
			}

			// Correct with a replacement: the old voided in history, the
			// new live in the chart.
			var cor struct{ ID, Voids, Replacement string }
			if err := json.Unmarshal([]byte(c.ok("", "correct", "--entry", id, "--reason", "typed wrong", "--file", repl, "--json")), &cor); err != nil {
				t.Fatal(err)
			}
			if cor.Voids != id || cor.Replacement == "" || cor.Replacement == id {
				t.Fatalf("correct --json: %+v", cor)
			}
			h := c.history("MRN-1")
			if it := h[id]; it.VoidedBy != cor.ID || it.VoidReason != "typed wrong" {
				t.Errorf("history: the corrected entry is voided by %q for %q, want %q for %q", it.VoidedBy, it.VoidReason, cor.ID, "typed wrong")
			}
			if it := h[cor.Replacement]; it.Entry.Kind != tc.kind || it.VoidedBy != "" || it.Entry.Payload["id"] != cor.Replacement {
				t.Errorf("history: the replacement %+v", it)
			}
			ch := c.chart("MRN-1")
			if ids := ch.live(tc.kind); !slices.Equal(ids, []string{cor.Replacement}) {
				t.Errorf("after the correction the chart shows %v, want [%s]", ids, cor.Replacement)
			}
			if got := chartField(ch, tc.kind, tc.field); got != tc.want {
				t.Errorf("the chart's %s is %q, want %q", tc.field, got, tc.want)
			}

			// Correct by a void alone: gone from the chart, in history as
			// VOIDED.
			var void struct{ ID, Voids string }
			if err := json.Unmarshal([]byte(c.ok("", "correct", "--entry", cor.Replacement, "--reason", "recorded for the wrong patient", "--json")), &void); err != nil {
				t.Fatal(err)
			}
			if ids := c.chart("MRN-1").live(tc.kind); len(ids) != 0 {
				t.Errorf("after the void the chart shows %v", ids)
			}
			text := c.ok("", "history", "--mrn", "MRN-1")
			for _, voided := range [][2]string{{id, cor.ID}, {cor.Replacement, void.ID}} {
				head := "#"
				for _, l := range strings.Split(text, "\n") {
					if strings.Contains(l, " "+tc.kind+" "+voided[0]+" ") {
						head = l
					}
				}
				if !strings.Contains(head, "[VOIDED by "+voided[1]+" on ") {
					t.Errorf("history's line of %s: %q, want it VOIDED by %s", voided[0], head, voided[1])
				}
			}
		})
	}
}

// chartField is a field of the one live record of kind as chart --json
// shows it.
func chartField(ch chartJSON, kind, field string) string {
	if kind == "authorization" {
		if len(ch.Authorizations) != 1 || field != "authorized" {
			return ""
		}
		return ch.Authorizations[0].Authorized
	}
	var recs []chartRecord
	switch kind {
	case "diagnosis":
		recs = ch.Diagnoses
	case "coverage":
		recs = ch.Coverage
	case "therapy":
		recs = ch.Therapies
	case "trial":
		recs = ch.Trials
	case "consent":
		recs = ch.Consents
	case "assessment":
		if ch.Assessment.Last != nil {
			recs = []chartRecord{*ch.Assessment.Last}
		}
	}
	if len(recs) != 1 {
		return ""
	}
	b, _ := json.Marshal(recs[0].Record[field])
	return strings.Trim(string(b), `"`)
}

// A signed form goes in and comes back as its hash: history shows the
// SHA-256 of the file's bytes, and the file is read relative to the input
// file's folder, not the working directory (which holds another
// consent.pdf to catch it).
func TestConsentDocument(t *testing.T) {
	c := newCLI(t)
	c.seed()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "forms", "consent.pdf"), consentPDF)
	writeFile(t, filepath.Join(dir, "forms", "consent.json"), `{"mrn":"MRN-1","date":"2025-12-01","signed_by":"patient","witness":"asmith","document":"consent.pdf"}`)
	const decoy = "%PDF-1.4\n% another form\n%%EOF\n"
	writeFile(t, filepath.Join(dir, "elsewhere", "consent.pdf"), decoy)
	t.Chdir(filepath.Join(dir, "elsewhere"))

	sum := sha256Hex(consentPDF)
	out := c.ok("", "consent", "add", "--file", filepath.Join("..", "forms", "consent.json"))
	want := "   document consent.pdf (application/pdf, 58 bytes) sha256 " + sum + "\n"
	if !strings.HasSuffix(out, want) {
		t.Errorf("consent add printed\n%s\nwant it to end\n%s", out, want)
	}
	text := c.ok("", "history", "--mrn", "MRN-1")
	if !strings.Contains(text, "\n   consent signed by patient on 2025-12-01, witnessed by asmith\n"+want) {
		t.Errorf("history does not show the document's hash %s:\n%s", sum, text)
	}
	if strings.Contains(text, sha256Hex(decoy)) {
		t.Errorf("the document was read from the working directory")
	}
	var doc map[string]any
	for _, it := range c.history("MRN-1") {
		if it.Entry.Kind == "consent" {
			doc, _ = it.Entry.Payload["document"].(map[string]any)
		}
	}
	if doc["sha256"] != sum || doc["media_type"] != "application/pdf" || doc["size"] != 58.0 || doc["name"] != "consent.pdf" {
		t.Errorf("the entry's document is %v", doc)
	}
	if _, ok := doc["path"]; ok {
		t.Errorf("the entry keeps the document's path: %v", doc)
	}

	// Cited again by its hash, the stored document needs no file; from
	// standard input a path is the working directory's (the decoy's).
	cite := `{"mrn":"MRN-1","date":"2025-12-02","signed_by":"patient","document":{"sha256":"` + sum + `"}}`
	if out := c.ok(cite, "consent", "add", "--file", "-"); !strings.Contains(out, "sha256 "+sum+"\n") {
		t.Errorf("consent citing the stored document printed\n%s", out)
	}
	stdin := `{"mrn":"MRN-1","date":"2025-12-03","signed_by":"patient","document":"consent.pdf"}`
	if out := c.ok(stdin, "consent", "add", "--file", "-"); !strings.Contains(out, "sha256 "+sha256Hex(decoy)+"\n") {
		t.Errorf("consent from standard input printed\n%s", out)
	}
}

// fill3 is fill2 a month on: the pump held 7.5 mcg/mL at 2.4 mcg/day, 0.32
// mL/day for 30 days, so 10.4 mL are left.
var fill3 = strings.NewReplacer(`"6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b"`, `"9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"`,
	`2026-03-31T10:00:00-04:00`, `2026-04-30T10:00:00-04:00`, `"residual_ml":5.5`, `"residual_ml":10.4`).Replace(fill2)

// Prior authorization drawdown through the command line: an authorization
// of 300 mcg of J2278 drawn down by the refills in its dates, a warning on
// a refill beyond what is left and on one outside its dates, and the chart's
// authorized, used, left and expiry.
func TestAuthorizationDrawdown(t *testing.T) {
	c := newCLI(t)
	c.ok("", "patient", "add", "--mrn", "MRN-1", "--name", "Test Patient")
	c.ok("", "pump", "implant", "--mrn", "MRN-1", "--serial", "S1", "--model", "synchromed-ii-20", "--date", "2026-02-20")
	const auth = `{"mrn":"MRN-1","payer":"commercial","number":"PA-2","codes":["J2278"],"drug":"ziconotide","amount":"300","unit":"mcg","from":"2026-03-05","to":"2099-12-31","status":"approved"}`
	// An earlier one, long expired, that no refill falls in.
	const old = `{"mrn":"MRN-1","payer":"commercial","number":"PA-1","codes":["J2278"],"drug":"ziconotide","amount":"300","unit":"mcg","from":"2026-01-01","to":"2026-02-28","status":"approved"}`
	c.ok(old, "authorization", "add", "--file", "-")
	c.ok(auth, "authorization", "add", "--file", "-")

	// Before the authorization's dates: recorded, with the warning, and
	// nothing drawn.
	const outside = "  ! This refill on 2026-03-01 bills 500 units of J2278 outside the dates of every authorization for it (the last, PA-2, runs 2026-03-05 to 2099-12-31); get one that covers the date before billing.\n"
	if out := c.ok(fill1, "refill", "--file", "-"); !strings.Contains(out, outside) || strings.Contains(out, "Prior authorization") {
		t.Errorf("the refill before the authorization's dates printed\n%s\nwant the warning\n%s", out, outside)
	}
	c.ok(change1, "reprogram", "--file", "-")

	// refill --json: what each refill drew, and what is left after it.
	type draw = map[string]any
	refill := func(in string) (draws []draw, warnings []string) {
		t.Helper()
		var rec struct {
			Authorizations []draw   `json:"authorizations"`
			Warnings       []string `json:"warnings"`
		}
		if err := json.Unmarshal([]byte(c.ok(in, "refill", "--file", "-", "--json")), &rec); err != nil {
			t.Fatal(err)
		}
		return rec.Authorizations, rec.Warnings
	}
	pa2 := func(units float64, amount, used, left string) []draw {
		return []draw{{"number": "PA-2", "payer": "commercial", "code": "J2278", "units": units, "amount": amount, "unit": "mcg",
			"authorized": "300", "used_to_date": used, "left": left, "to": "2099-12-31"}}
	}
	// fill2 bills 150 units administered and 50 JW: 200 mcg of 300.
	draws, warnings := refill(fill2)
	if want := pa2(200, "200", "200", "100"); !reflect.DeepEqual(draws, want) {
		t.Errorf("fill2 drew %v, want %v", draws, want)
	}
	for _, w := range warnings {
		if strings.Contains(w, "authorization") {
			t.Errorf("fill2 warns %q", w)
		}
	}

	// fill3 bills 200 more, 100 beyond what is left: recorded, with the
	// warning. Its preview says so first.
	const beyond = "This refill draws 200 mcg of J2278 on authorization PA-2, 100 more than was left; ask the payer for more before billing."
	preview := c.ok(fill3, "refill", "--file", "-", "--dry-run")
	for _, want := range []string{"  ! " + beyond + "\n",
		"Prior authorization PA-2 (commercial): this refill draws 200 units of J2278 = 200 mcg; authorized 300, used 400, left -100 mcg (100 mcg over), expires 2099-12-31.\n"} {
		if !strings.Contains(preview, want) {
			t.Errorf("fill3 --dry-run printed\n%s\nwant\n%s", preview, want)
		}
	}
	draws, warnings = refill(fill3)
	if want := pa2(200, "200", "400", "-100"); !reflect.DeepEqual(draws, want) {
		t.Errorf("fill3 drew %v, want %v", draws, want)
	}
	if !slices.Contains(warnings, beyond) {
		t.Errorf("fill3 warnings %q, want %q", warnings, beyond)
	}

	// The chart: each authorization's authorized, used, left and expiry,
	// and the refills that drew on it.
	const fill3ID = "9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
	auths := c.chart("MRN-1").Authorizations
	type drawn struct {
		id, date string
		units    int64
		amount   string
		left     string
	}
	type standing struct {
		number, authorized, used, left, to string
		expired                            bool
		draws                              []drawn
	}
	var got []standing
	for _, a := range auths {
		s := standing{a.Number, a.Authorized, a.Used, a.Left, a.To, a.Expired, nil}
		for _, d := range a.Draws {
			s.draws = append(s.draws, drawn{d.EntryID, d.DateOfService, d.Units, d.Amount, d.Left})
		}
		got = append(got, s)
	}
	want := []standing{
		{"PA-1", "300", "0", "300", "2026-02-28", true, nil},
		{"PA-2", "300", "400", "-100", "2099-12-31", false, []drawn{
			{"6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b", "2026-03-31", 200, "200", "100"},
			{fill3ID, "2026-04-30", 200, "200", "-100"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("chart authorizations\n%+v\nwant\n%+v", got, want)
	}
	text := c.ok("", "chart", "--mrn", "MRN-1")
	for _, line := range []string{
		"   PA-1 by Commercial plan (typical policy) (commercial) (approved) for J2278 of ziconotide: authorized 300 mcg, used 0 mcg, left 300 mcg; 2026-01-01 to 2026-02-28, EXPIRED 2026-02-28 (entry ",
		"   PA-2 by Commercial plan (typical policy) (commercial) (approved) for J2278 of ziconotide: authorized 300 mcg, used 400 mcg, left -100 mcg (100 mcg over); 2026-03-05 to 2099-12-31, expires 2099-12-31, in ",
		"      2026-04-30 refill " + fill3ID + ": 200 units of J2278 = 200 mcg, left -100 mcg (100 mcg over)\n",
	} {
		if !strings.Contains(text, line) {
			t.Errorf("chart\n%s\nwant a line\n%s", text, line)
		}
	}

	// A refill voided gives back what it drew.
	c.ok("", "correct", "--entry", fill3ID, "--reason", "recorded twice")
	if a := c.chart("MRN-1").Authorizations[1]; a.Used != "200" || a.Left != "100" || len(a.Draws) != 1 {
		t.Errorf("after the void PA-2 used %s, left %s, %d draws; want 200, 100, 1", a.Used, a.Left, len(a.Draws))
	}
}
