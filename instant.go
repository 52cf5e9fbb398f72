package pumpledger

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Instant is a clinical time as the user wrote it: the instant, kept in UTC,
// and the UTC offset of the wall clock it was written in, kept for display.
// Durations between instants are real elapsed time (UTC), so a daylight-saving
// change inside a refill interval neither adds nor loses an hour.
type Instant struct {
	UTC    time.Time // always in time.UTC
	Offset int       // seconds east of UTC of the wall clock the user wrote
}

// NewInstant returns the Instant of t, keeping t's offset for display.
func NewInstant(t time.Time) Instant {
	_, off := t.Zone()
	return Instant{UTC: t.UTC(), Offset: off}
}

// ParseInstant parses an RFC 3339 time that carries its offset
// ("2026-03-02T09:30:00-05:00" or "...Z"). The offset is one a clock can
// show: -12:00 to +14:00, minutes below 60 (Go reads "-04:60" as -05:00);
// the year is 1900 to 9999.
func ParseInstant(s string) (Instant, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		var pe *time.ParseError
		switch {
		case noOffset.MatchString(s):
			return Instant{}, instantError{`a date and time with its UTC offset, like "2026-03-02T09:30:00-05:00"`, fmt.Sprintf("add the clinic's offset to %q", clip(s)), err}
		case errors.As(err, &pe) && strings.HasSuffix(pe.Message, " out of range"):
			what := strings.TrimSuffix(strings.TrimPrefix(pe.Message, ": "), " out of range")
			return Instant{}, instantError{"a real date and time", fmt.Sprintf("check the %s of %q", what, clip(s)), err}
		}
		return Instant{}, err
	}
	// time.Parse accepted it: it ends in Z or a ±hh:mm offset (read here
	// without a regexp: every stored entry's time passes through).
	if n := len(s); n >= 6 && (s[n-6] == '+' || s[n-6] == '-') && s[n-3] == ':' {
		_, off := t.Zone()
		if s[n-2:] >= "60" || off < -12*3600 || off > 14*3600 {
			return Instant{}, instantError{"at a UTC offset from -12:00 to +14:00", fmt.Sprintf("check the offset %s of %q", s[n-6:], clip(s)), nil}
		}
	}
	if t.Year() < 1900 || t.Year() > 9999 {
		return Instant{}, instantError{"in a year from 1900 to 9999", fmt.Sprintf("check the year of %q", clip(s)), nil}
	}
	return NewInstant(t), nil
}

var (
	noOffset = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?$`)
)

// instantError is a refused time with what it must be instead, worded to
// follow "performed_at must be ".
type instantError struct {
	want, fix string
	err       error
}

func (e instantError) Error() string { return "must be " + e.want + "; " + e.fix }
func (e instantError) Unwrap() error { return e.err }

// Local returns the instant on the wall clock it was written in.
func (i Instant) Local() time.Time {
	return i.UTC.In(time.FixedZone("", i.Offset))
}

// IsZero reports whether the instant was never set.
func (i Instant) IsZero() bool { return i.UTC.IsZero() }

// String prints RFC 3339 in the original offset: it names the UTC instant and
// the offset at once.
func (i Instant) String() string { return i.Local().Format(time.RFC3339Nano) }

// Date is the calendar date on the wall clock it was written in: the date of
// service a clinic and a payer both mean.
func (i Instant) Date() string { return i.Local().Format(time.DateOnly) }

func (i Instant) MarshalJSON() ([]byte, error) { return json.Marshal(i.String()) }

func (i *Instant) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := ParseInstant(s)
	if err != nil {
		return err
	}
	*i = v
	return nil
}
