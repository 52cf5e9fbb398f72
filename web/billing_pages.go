package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/clinic"
)

// The biller's page: a date range billed, visit by visit: its lines, and
// the check's findings about the visit once under them (a finding naming
// a code beside that code's line), and the bill to download in each
// format (/api/bill serves the files, holding back as `bill` does), and
// the claims sent for the range, each with where it stands now.

type billData struct {
	base
	From, To, AsOf string
	formError
	Shown     bool // a range was billed
	Lines     int
	Visits    []billVisit
	Unbilled  []billing.Finding // findings about no line of the bill
	Errors    int
	Warnings  int
	Downloads []link
	Sent      []clinic.SentClaim // the claims sent for the range (`submissions`)
	// ToSend is what submitting the range would send now (the biller's
	// confirmation before the button); Submitted the interchange just
	// sent (?sent=), SubmittedClaims its claims among Sent.
	ToSend          *clinic.Billed
	Submitted       int64
	SubmittedClaims int
}

// billVisit is one visit's lines (one entry's: the check's findings are
// by entry) and its findings that name no one line.
type billVisit struct {
	Lines    []billLine
	Findings []billing.Finding
}

type billLine struct {
	billing.Line
	Held   bool              // findings hold the line back from the downloads
	Beside []billing.Finding // the visit's findings naming this line's code
}

// billVisits groups a bill's lines by visit, in the bill's order, each
// finding shown once: beside the line whose code it names when the visit
// has one line of that code, else under the visit's lines. unbilled are
// the findings of visits with no line in lines.
func billVisits(lines []billing.Line, findings []billing.Finding) (visits []billVisit, unbilled []billing.Finding) {
	held := clinic.Holds(findings)
	at := map[string]int{}
	for _, l := range lines {
		i, ok := at[l.EntryID]
		if !ok {
			i = len(visits)
			at[l.EntryID] = i
			visits = append(visits, billVisit{})
		}
		visits[i].Lines = append(visits[i].Lines, billLine{Line: l, Held: held(l)})
	}
	for _, f := range findings {
		i, ok := at[f.EntryID]
		if !ok {
			unbilled = append(unbilled, f)
			continue
		}
		v := &visits[i]
		line := -1
		for j, l := range v.Lines {
			if f.Code == "" || l.Code != f.Code {
				continue
			}
			if line >= 0 { // two lines of the code: the visit's
				line = -1
				break
			}
			line = j
		}
		if line >= 0 {
			v.Lines[line].Beside = append(v.Lines[line].Beside, f)
		} else {
			v.Findings = append(v.Findings, f)
		}
	}
	return visits, unbilled
}

func (s *Server) billPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := billData{base: s.base(r, "Bill"), From: q.Get("from"), To: q.Get("to"), AsOf: q.Get("as_of")}
	if d.From == "" && d.To == "" {
		s.show(w, http.StatusOK, "bill.html", d)
		return
	}
	if _, _, err := dates(r); err != nil {
		s.billRefused(w, d, err)
		return
	}
	d.Submitted, _ = strconv.ParseInt(q.Get("sent"), 10, 64)
	s.billShow(w, r, d, http.StatusOK)
}

func (s *Server) billRefused(w http.ResponseWriter, d billData, err error) {
	refusal(&d.base, &d.formError, err)
	s.show(w, httpStatus(err), "bill.html", d)
}

// billShow shows the bill of d's range with status (a refused
// submission's, its reason already in d).
func (s *Server) billShow(w http.ResponseWriter, r *http.Request, d billData, status int) {
	lines, findings, err := s.db.BillChecked(r.Context(), d.From, d.To, d.AsOf)
	if err != nil {
		s.billRefused(w, d, err)
		return
	}
	sent, err := s.db.Submissions(r.Context(), d.From, d.To)
	if err != nil {
		s.billRefused(w, d, err)
		return
	}
	// A bill names its patients by MRN: one view of many patients.
	if err := s.viewed(r, "", "bill "+d.From+".."+d.To); err != nil {
		s.billRefused(w, d, err)
		return
	}
	// The biller confirms what a submit sends before the button: the
	// same reading of the ledger as the submit's own.
	if d.User.Role == pumpledger.RoleBiller {
		b, err := clinic.ToSend(r.Context(), s.db, d.From, d.To, d.AsOf, lines, findings)
		if err != nil {
			s.billRefused(w, d, err)
			return
		}
		d.ToSend = &b
	}
	for _, f := range findings {
		if f.Severity == billing.Error {
			d.Errors++
		} else {
			d.Warnings++
		}
	}
	d.Lines, d.Sent = len(lines), sent
	for _, c := range sent {
		if d.Submitted != 0 && c.Interchange == d.Submitted {
			d.SubmittedClaims++
		}
	}
	d.Visits, d.Unbilled = billVisits(lines, findings)
	formats := make([]string, 0, len(billing.Formats))
	for f := range billing.Formats {
		formats = append(formats, f)
	}
	slices.Sort(formats)
	for _, f := range formats {
		v := url.Values{"from": {d.From}, "to": {d.To}, "format": {f}}
		if d.AsOf != "" {
			v.Set("as_of", d.AsOf)
		}
		d.Downloads = append(d.Downloads, link{"/api/bill?" + v.Encode(), f})
	}
	d.Shown = true
	s.show(w, status, "bill.html", d)
}

// Submitting: `bill --format 837p --submit` (clinic.RunBill), for the
// biller alone (an auditor reads the bills and records nothing). The
// claims are recorded as sent, committed, before the file is answered:
// the answer is the file, and a file that went out unrecorded would be
// sent again. The ledger keeps the file's hash, not the file: a later
// rendering of the range is not the same file (its control number is the
// ledger's size then, its date the day it is made, and the claims sent
// since are left out), so the download is the one copy.

// submitForm is the bill page's "Submit these claims": the 837P as a
// download; a refusal is the bill page again, its reason at the top.
func (s *Server) submitForm(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r) {
		return
	}
	f := r.PostForm
	d := billData{base: s.base(r, "Bill"), From: f.Get("from"), To: f.Get("to"), AsOf: f.Get("as_of")}
	b, err := s.submit(r, d.From, d.To, d.AsOf)
	if err != nil {
		refusal(&d.base, &d.formError, err)
		if pumpledger.ErrorCode(err) == pumpledger.EINTERNAL || billing.CheckPeriod(d.From, d.To) != nil {
			s.show(w, httpStatus(err), "bill.html", d)
			return
		}
		s.billShow(w, r, d, httpStatus(err))
		return
	}
	sendInterchange(w, b, d.From, d.To)
}

// apiSubmit is the same for programs: POST /api/submit?from=&to=[&as_of=].
func (s *Server) apiSubmit(w http.ResponseWriter, r *http.Request) {
	from, to, err := dates(r)
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	b, err := s.submit(r, from, to, r.URL.Query().Get("as_of"))
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	sendInterchange(w, b, from, to)
}

func (s *Server) submit(r *http.Request, from, to, asOf string) (clinic.Billed, error) {
	if err := billing.CheckPeriod(from, to); err != nil {
		return clinic.Billed{}, err
	}
	// The file names its patients: one view of many, logged first.
	if err := s.viewed(r, "", "submit "+from+".."+to); err != nil {
		return clinic.Billed{}, err
	}
	return clinic.RunBill(r.Context(), s.db, "837p", from, to, asOf, false, true)
}

// sendInterchange answers a submitted 837P as a download named with its
// control number (ISA13), and what it holds in headers.
func sendInterchange(w http.ResponseWriter, b clinic.Billed, from, to string) {
	h := w.Header()
	h.Set("Content-Type", billing.Formats["837p"].ContentType)
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="bill-%s-%s-%09d.837p"`, from, to, b.Interchange))
	h.Set("X-Pumpledger-Interchange", strconv.FormatInt(b.Interchange, 10))
	h.Set("X-Pumpledger-Claims", fmt.Sprintf("originals=%d, replacements=%d, voids=%d", b.Originals, b.Replacements, b.Voids))
	h.Set("X-Pumpledger-Held-Lines", strconv.Itoa(b.Held))
	h.Set("X-Pumpledger-Refused-Claims", strconv.Itoa(len(b.Refused)))
	w.WriteHeader(http.StatusOK)
	w.Write(b.File)
}

// fieldOf is the input field err names, "" for none.
func fieldOf(err error) string {
	var e *pumpledger.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
