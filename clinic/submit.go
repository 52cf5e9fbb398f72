package clinic

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/x12"
)

// `bill` as one use case, for the command line and the web app alike:
// the range checked, the visits with error findings held back, the file
// written and, when submitted, its claims recorded as sent.

// Billed is one bill made: the check's findings, the lines held back, the
// claims an interchange left out (lacking something, or sent unchanged),
// what it holds, and the file.
type Billed struct {
	Findings []billing.Finding
	Held     int // lines of visits with error findings, left out
	Refused  []Refusal
	Sending  // an interchange's claims
	File     []byte
}

// Sending is what an interchange holds (or would): its control number and
// its claims by frequency.
type Sending struct {
	Interchange                    int64
	Originals, Replacements, Voids int
}

// Claims is how many claims the interchange holds.
func (s Sending) Claims() int { return s.Originals + s.Replacements + s.Voids }

func (s *Sending) count(freq string) {
	switch freq {
	case x12.Replacement:
		s.Replacements++
	case x12.Void:
		s.Voids++
	default:
		s.Originals++
	}
}

// submitting serializes submissions in the process that holds the
// ledger (the web app's and, through its socket, the command line's): two
// at once would read the same claims as unsent and both record them.
var submitting sync.Mutex

// RunBill is `bill`: [from, to]'s lines checked as of asOf ("" today),
// those of visits with error findings held back unless allow, written in
// format. submit (an interchange only) records its claims as sent, in
// ctx's actor's name, before the file is returned: whoever sends it must
// not find it unrecorded. On an error the findings and refusals gathered
// are returned with it, and no file.
func RunBill(ctx context.Context, db Ledger, format, from, to, asOf string, allow, submit bool) (Billed, error) {
	if submit {
		submitting.Lock()
		defer submitting.Unlock()
	}
	var b Billed
	lines, findings, err := db.BillChecked(ctx, from, to, asOf)
	if err != nil {
		return b, err
	}
	b.Findings = findings
	out, held := HoldBack(lines, findings, allow, format == "json")
	b.Held = held
	var buf bytes.Buffer
	b.Sending, b.Refused, err = writeBill(ctx, db, &buf, format, from, to, out, asOf, submit)
	if err != nil {
		return b, nothingNew(err, b, from, to)
	}
	b.File = buf.Bytes()
	return b, nil
}

// ToSend is what submitting [from, to] would send now, as RunBill would
// (lines and findings are BillChecked's): the bill page's confirmation.
// Nothing is written.
func ToSend(ctx context.Context, db Ledger, from, to, asOf string, lines []billing.Line, findings []billing.Finding) (Billed, error) {
	out, held := HoldBack(lines, findings, false, false)
	ic, refused, err := db.Interchange(ctx, from, to, out, asOf)
	return Billed{Findings: findings, Held: held, Refused: refused, Sending: sendingOf(ic)}, err
}

// sendingOf is what an interchange holds.
func sendingOf(ic x12.Interchange) Sending {
	s := Sending{Interchange: ic.Control}
	for _, c := range ic.Claims {
		s.count(c.Frequency)
	}
	return s
}

// nothingNew says plainly that an interchange of nothing was refused
// because the range's claims were sent before, unchanged (the refusal of
// an empty interchange speaks of claims lacking something), and what else
// kept claims out.
func nothingNew(err error, b Billed, from, to string) error {
	sent := 0
	for _, r := range b.Refused {
		if r.Sent != nil {
			sent++
		}
	}
	if sent == 0 || b.Claims() > 0 || pumpledger.ErrorCode(err) != pumpledger.EINVALID {
		return err
	}
	also := ""
	if n := len(b.Refused) - sent; n > 0 {
		also += fmt.Sprintf(", %d left out for what they lack", n)
	}
	if b.Held > 0 {
		also += fmt.Sprintf(", %d lines are held back by their visits' error findings", b.Held)
	}
	return pumpledger.Errorf(pumpledger.EINVALID, "Nothing new to send for %s to %s: %s sent before and unchanged since%s; nothing is written or recorded.", from, to, claims(sent), also)
}

func claims(n int) string {
	if n == 1 {
		return "1 claim"
	}
	return fmt.Sprintf("%d claims", n)
}
