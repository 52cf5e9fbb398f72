package web

import (
	"net/http"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/ledger"
)

// The access log (ledger.AccessLog): every view of a patient's data
// through the web is kept, append-only and signed, before the data is
// sent. A view that cannot be logged is not served: an unlogged view is
// what the log exists to rule out. Views at once share one synced commit
// (the log's group commit), each answered once its own record is durable.
// The log holds MRNs, so nothing of it goes to the process log.

// accessReaders read the access log: the auditor, and the admin who
// answers for the system (the log names patients by MRN only).
var accessReaders = []pumpledger.Role{pumpledger.RoleAuditor, pumpledger.RoleAdmin}

// viewed logs that the signed-in user of r is shown what of patient mrn
// (many patients: mrn ""). Every handler that shows a patient's data
// calls it before writing the data; on an error it shows nothing.
func (s *Server) viewed(r *http.Request, mrn, what string) error {
	if s.access == nil {
		return nil // a ledger without one (a test double): nothing to keep
	}
	a, _ := pumpledger.ActorFrom(r.Context())
	_, err := s.access.Append(ledger.Access{User: a.Name, Role: string(a.Role), MRN: mrn, What: what, From: clientAddr(r)})
	return err
}

// viewedEach logs that the signed-in user of r is shown what of each of
// mrns (a page naming many patients), one record each in one commit: each
// patient's views then list it.
func (s *Server) viewedEach(r *http.Request, mrns []string, what string) error {
	if s.access == nil || len(mrns) == 0 {
		return nil
	}
	a, _ := pumpledger.ActorFrom(r.Context())
	recs := make([]ledger.Access, len(mrns))
	for i, mrn := range mrns {
		recs[i] = ledger.Access{User: a.Name, Role: string(a.Role), MRN: mrn, What: what, From: clientAddr(r)}
	}
	_, err := s.access.AppendAll(recs)
	return err
}

type accessData struct {
	base
	MRN     string
	Records []ledger.Access
	Checked *ledger.AccessVerified
}

// accessPage lists the access log, newest first, all or one patient's,
// with its verification.
func (s *Server) accessPage(w http.ResponseWriter, r *http.Request) {
	d := accessData{base: s.base(r, "Access log"), MRN: r.URL.Query().Get("mrn")}
	if s.access == nil {
		s.show(w, http.StatusOK, "access.html", d)
		return
	}
	res, err := s.access.Verify()
	if err != nil {
		d.Error = pumpledger.ErrorMessage(errShown(err))
		s.show(w, httpStatus(err), "access.html", d)
		return
	}
	d.Checked = &res
	recs, err := s.access.List(d.MRN)
	if err != nil {
		d.Error = pumpledger.ErrorMessage(errShown(err))
		s.show(w, httpStatus(err), "access.html", d)
		return
	}
	for i := len(recs) - 1; i >= 0; i-- {
		d.Records = append(d.Records, recs[i])
	}
	s.show(w, http.StatusOK, "access.html", d)
}
