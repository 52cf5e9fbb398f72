package pumpledger

import (
	"encoding/json"
	"fmt"
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
// ("2026-03-02T09:30:00-05:00" or "...Z").
func ParseInstant(s string) (Instant, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return Instant{}, err
	}
	if t.Year() < 1900 || t.Year() > 9999 {
		return Instant{}, fmt.Errorf("year %d out of range", t.Year())
	}
	return NewInstant(t), nil
}

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
