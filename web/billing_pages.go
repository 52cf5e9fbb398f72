package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

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
	fail := func(err error) {
		refusal(&d.base, &d.formError, err)
		s.show(w, httpStatus(err), "bill.html", d)
	}
	if _, _, err := dates(r); err != nil {
		fail(err)
		return
	}
	lines, findings, err := s.db.BillChecked(r.Context(), d.From, d.To, d.AsOf)
	if err != nil {
		fail(err)
		return
	}
	sent, err := s.db.Submissions(r.Context(), d.From, d.To)
	if err != nil {
		fail(err)
		return
	}
	// A bill names its patients by MRN: one view of many patients.
	if err := s.viewed(r, "", "bill "+d.From+".."+d.To); err != nil {
		fail(err)
		return
	}
	for _, f := range findings {
		if f.Severity == billing.Error {
			d.Errors++
		} else {
			d.Warnings++
		}
	}
	d.Lines, d.Sent = len(lines), sent
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
	s.show(w, http.StatusOK, "bill.html", d)
}

// fieldOf is the input field err names, "" for none.
func fieldOf(err error) string {
	var e *pumpledger.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
