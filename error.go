// Package pumpledger holds the domain vocabulary shared by every other package:
// the entries a clinic records (patients, pumps, refills, reprogrammings,
// corrections) and the error type whose code is mapped once to exit status
// (cmd) or HTTP status (later: serve).
//
// The rules live in small packages beside it: vial (drugs, products, NDCs,
// drawing containers, the vial plan), pump (models, interval reconciliation,
// next refill, label dose checks), billing (units, JW/JZ, claim lines),
// catalog (the site-editable file of all of those facts) and refill (one
// visit derived end to end). None of them imports storage; ledger does.
package pumpledger

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one exit status in cmd and, later, one HTTP status.
const (
	EINVALID  = "invalid"   // the input is refused; the message names the field and the fix
	ENOTFOUND = "not_found" // an entry the input refers to does not exist
	ECONFLICT = "conflict"  // the input contradicts what is already recorded
	EINTERNAL = "internal"  // a fault of ours or of the machine, never the user's input
	// EUNAUTHORIZED: no actor, or one whose role may not do this.
	EUNAUTHORIZED = "unauthorized"
)

// Error is a domain error: a code for programs and one plain sentence for people.
// Field names the input field at fault when there is one ("vials[1].ndc").
type Error struct {
	Code    string
	Field   string
	Message string
	Err     error // the sentinel or cause, for errors.Is; not shown to users
}

func (e *Error) Error() string { return e.Message }

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted sentence.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error naming field. The message should already
// contain the field name and the fix; Field is kept for programs (web forms).
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing sentence of err: the *Error's message, or
// a generic sentence for internal errors (whose detail belongs in logs).
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error: " + err.Error()
}
