package web

import (
	"bytes"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/fhir"
)

// The JSON API of SPEC §11: each route is a command of the command line,
// the same use case, the same answer as its --json.

// readInput reads the request's body as one input of the command line,
// by parse; when it cannot, it answers the request (the parser's sentence)
// and says false.
func readInput[T any](s *Server, w http.ResponseWriter, r *http.Request, parse func(io.Reader) (T, error)) (T, bool) {
	data, err := io.ReadAll(r.Body)
	if err == nil {
		var in T
		if in, err = parse(bytes.NewReader(data)); err == nil {
			return in, true
		}
	}
	writeErr(w, r, s.log, err)
	var zero T
	return zero, false
}

// apiRefill is `refill --json`, and with ?dry_run=1 `refill --dry-run
// --json`: everything recording does, rolled back.
func (s *Server) apiRefill(w http.ResponseWriter, r *http.Request) {
	in, ok := readInput(s, w, r, pumpledger.ParseRefill)
	if !ok {
		return
	}
	ctx, dry := r.Context(), flag(r, "dry_run")
	if dry {
		ctx = clinic.Preview(ctx)
	}
	res, err := s.db.RecordRefill(ctx, in)
	if err != nil {
		writeErr(w, r, s.log, s.savedAlready(err, in.ID))
		return
	}
	var ready []billing.Finding // a preview has nothing recorded to check
	if !dry {
		if ready, err = s.db.CheckEntry(r.Context(), res.Entry.ID); err != nil {
			writeErr(w, r, s.log, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, clinic.RefillAnswer(res, ready))
}

// flag reads a boolean query parameter: 1 or true.
func flag(r *http.Request, name string) bool {
	v, err := strconv.ParseBool(r.URL.Query().Get(name))
	return err == nil && v
}

// need is the query parameter name, refused when missing.
func need(r *http.Request, name, example string) (string, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return "", pumpledger.Invalid(name, "%s is missing; add ?%s=%s.", name, name, example)
	}
	return v, nil
}

func dates(r *http.Request) (from, to string, err error) {
	if from, err = need(r, "from", "YYYY-MM-DD"); err != nil {
		return
	}
	to, err = need(r, "to", "YYYY-MM-DD")
	return
}

// apiBill is `bill`: the claim lines of [from, to] in the format asked,
// the lines of visits with error findings held back unless
// allow_findings. In JSON each line carries its visit's findings; in
// every format the headers count them (the findings themselves:
// /api/check).
func (s *Server) apiBill(w http.ResponseWriter, r *http.Request) {
	from, to, err := dates(r)
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "csv"
	}
	ex, ok := billing.Formats[format]
	if !ok {
		writeErr(w, r, s.log, pumpledger.Invalid("format", "format must be %s, not %q.", billing.FormatNames, format))
		return
	}
	// One pass, as the command line's: the check reads each visit's
	// entry as the bill does.
	lines, findings, err := s.db.BillChecked(r.Context(), from, to, r.URL.Query().Get("as_of"))
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	if err := s.viewed(r, "", "bill "+from+".."+to+" "+format); err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	out, held := clinic.HoldBack(lines, findings, flag(r, "allow_findings"), format == "json")
	var buf bytes.Buffer
	// An interchange is not recorded as sent from here: a file fetched
	// may never go out (`bill --format 837p --submit` records one).
	refused, err := clinic.WriteBill(r.Context(), s.db, &buf, format, from, to, out, r.URL.Query().Get("as_of"), false)
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ex.ContentType)
	h.Set("Content-Disposition", `attachment; filename="bill-`+from+`-`+to+`.`+format+`"`)
	h.Set("X-Pumpledger-Findings", strconv.Itoa(len(findings)))
	h.Set("X-Pumpledger-Held-Lines", strconv.Itoa(held))
	// How many of an 837P's claims were left out: not filled, or sent
	// before unchanged (the command line names each, and why).
	h.Set("X-Pumpledger-Refused-Claims", strconv.Itoa(len(refused)))
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

// apiCheck is `check --json`: the pre-billing check's findings, [] when
// there are none. Unlike the command, an error finding is not a failed
// request: the check ran.
func (s *Server) apiCheck(w http.ResponseWriter, r *http.Request) {
	from, to, err := dates(r)
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	findings, err := s.db.Check(r.Context(), from, to, r.URL.Query().Get("as_of"))
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	if err := s.viewed(r, "", "check "+from+".."+to); err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	if findings == nil {
		findings = []billing.Finding{}
	}
	writeJSON(w, http.StatusOK, findings)
}

// apiSubmissions is `submissions --json`: the claims sent for the dates
// of service [from, to], [] when none were.
func (s *Server) apiSubmissions(w http.ResponseWriter, r *http.Request) {
	from, to, err := dates(r)
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	sent, err := s.db.Submissions(r.Context(), from, to)
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	if err := s.viewed(r, "", "submissions "+from+".."+to); err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, sent)
}

// apiChart is `chart --json`.
func (s *Server) apiChart(w http.ResponseWriter, r *http.Request) {
	mrn, err := need(r, "mrn", "MRN")
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	c, err := s.db.Chart(r.Context(), mrn)
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	if err := s.viewed(r, mrn, "api chart"); err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// apiHistory is `history --json`.
func (s *Server) apiHistory(w http.ResponseWriter, r *http.Request) {
	mrn, err := need(r, "mrn", "MRN")
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	items, err := s.db.History(r.Context(), mrn)
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	if err := s.viewed(r, mrn, "api history"); err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, items)
}

// apiFHIR is `fhir`: the patient's FHIR R4 Bundle, the visits of
// [from, to] when given, for the roles that read charts.
func (s *Server) apiFHIR(w http.ResponseWriter, r *http.Request) {
	mrn, err := need(r, "mrn", "MRN")
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	q := r.URL.Query()
	b, err := fhir.Export(r.Context(), s.db, mrn, q.Get("from"), q.Get("to"))
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	if err := s.viewed(r, mrn, "api fhir"); err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	w.Header().Set("Content-Type", "application/fhir+json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	fhir.Write(w, b)
}

// apiVerify is `verify`: every entry against the tree.
func (s *Server) apiVerify(w http.ResponseWriter, r *http.Request) {
	res, err := s.db.Verify()
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "entries": res.Entries, "checkpoints": res.Checkpoints,
		"documents": res.Documents, "root": hex.EncodeToString(res.Tree.Hash[:])})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
