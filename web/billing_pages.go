package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
)

// The biller's page: a date range billed, each line with the check's
// findings about its visit beside it, and the bill to download in each
// format (/api/bill serves the files, holding back as `bill` does).

type billData struct {
	base
	From, To, AsOf string
	formError
	Shown     bool // a range was billed
	Lines     []billLine
	Visits    []billing.Finding // findings about no line of the bill
	Errors    int
	Warnings  int
	Downloads []link
}

type billLine struct {
	billing.Line
	Held bool // an error finding holds its visit's lines back
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
	// A bill names its patients by MRN: one view of many patients.
	if err := s.viewed(r, "", "bill "+d.From+".."+d.To); err != nil {
		fail(err)
		return
	}
	byEntry := map[string][]billing.Finding{}
	held := map[string]bool{}
	for _, f := range findings {
		byEntry[f.EntryID] = append(byEntry[f.EntryID], f)
		if f.Severity == billing.Error {
			held[f.EntryID] = true
			d.Errors++
		} else {
			d.Warnings++
		}
	}
	billed := map[string]bool{}
	for _, l := range lines {
		l.Findings = byEntry[l.EntryID]
		billed[l.EntryID] = true
		d.Lines = append(d.Lines, billLine{Line: l, Held: held[l.EntryID]})
	}
	for _, f := range findings {
		if !billed[f.EntryID] {
			d.Visits = append(d.Visits, f)
		}
	}
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
