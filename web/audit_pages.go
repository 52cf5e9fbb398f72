package web

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/ledger"
)

// The auditor's pages: read-only. verify's result, the signed checkpoints
// to download and keep apart from the server (what proves later that
// nothing before them was changed), and a patient's history.

type auditData struct {
	base
	Verified bool
	Entries  int64
	Checks   int
	Docs     int
	Root     string
	Access   *ledger.AccessVerified
	AccessOK string // the access log's refusal, if it fails
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	d := auditData{base: s.base(r, "Audit")}
	res, err := s.db.Verify()
	if err != nil {
		d.Error = pumpledger.ErrorMessage(errShown(err))
	} else {
		d.Verified, d.Entries, d.Checks, d.Docs, d.Root = true, res.Entries, res.Checkpoints, int(res.Documents), hex.EncodeToString(res.Tree.Hash[:])
	}
	if s.access != nil {
		if a, err := s.access.Verify(); err != nil {
			d.AccessOK = pumpledger.ErrorMessage(errShown(err))
		} else {
			d.Access = &a
		}
	}
	s.show(w, http.StatusOK, "audit.html", d)
}

// checkpointDownload is the current signed checkpoint as a text file: the
// ledger's, or with ?log=access the access log's.
func (s *Server) checkpointDownload(w http.ResponseWriter, r *http.Request) {
	var msg []byte
	var n int64
	name := "checkpoint"
	switch r.URL.Query().Get("log") {
	case "":
		cp, err := s.db.Checkpoint()
		if err != nil {
			writeErr(w, r, s.log, err)
			return
		}
		msg, n = cp.Note, cp.Tree.N
	case "access":
		if s.access == nil {
			writeErr(w, r, s.log, pumpledger.Errorf(pumpledger.ENOTFOUND, "This server keeps no access log."))
			return
		}
		res, err := s.access.Verify()
		if err != nil {
			writeErr(w, r, s.log, err)
			return
		}
		if res.Note == nil {
			writeErr(w, r, s.log, pumpledger.Errorf(pumpledger.ENOTFOUND, "The access log is empty: no checkpoint is signed yet."))
			return
		}
		msg, n, name = res.Note, res.Records, "access-checkpoint"
	default:
		writeErr(w, r, s.log, pumpledger.Invalid("log", "log must be access or left out, not %q.", r.URL.Query().Get("log")))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%d.txt"`, name, n))
	w.Write(msg)
}

type historyData struct {
	base
	formError
	MRN   string
	Items []historyItem
}

type historyItem struct {
	clinic.Item
	Payload value  // the payload, field by field, lists as lists
	Decoded bool   // false: not JSON, only the bytes are shown
	Raw     string // the payload's bytes, as recorded
}

// historyPage is `history`: every entry of a patient, corrections linked,
// each payload shown field by field.
func (s *Server) historyPage(w http.ResponseWriter, r *http.Request) {
	d := historyData{base: s.base(r, "History"), MRN: strings.TrimSpace(r.URL.Query().Get("mrn"))}
	if d.MRN == "" {
		s.show(w, http.StatusOK, "patient_history.html", d)
		return
	}
	items, err := s.db.History(r.Context(), d.MRN)
	if err == nil {
		err = s.viewed(r, d.MRN, "history")
	}
	if err != nil {
		if fieldOf(err) == "" && pumpledger.ErrorCode(err) == pumpledger.ENOTFOUND {
			err = pumpledger.Invalid("mrn", "%s", pumpledger.ErrorMessage(err)) // no such patient: the MRN typed
		}
		refusal(&d.base, &d.formError, err)
		s.show(w, httpStatus(err), "patient_history.html", d)
		return
	}
	for _, it := range items {
		v, ok := readPayload(it.Entry.Payload)
		d.Items = append(d.Items, historyItem{Item: it, Payload: v, Decoded: ok, Raw: string(it.Entry.Payload)})
	}
	s.show(w, http.StatusOK, "patient_history.html", d)
}
