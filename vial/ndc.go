// Package vial holds drugs, their products (containers with an NDC), and the
// rules for drawing drug out of containers: what is opened, what goes in the
// pump, what is left and discarded, and which combination of containers wastes
// least. It knows nothing of storage or of pumps.
package vial

import (
	"fmt"
	"strings"
)

// NDC is a National Drug Code in the 11-digit 5-4-2 billing form.
//
// Labels print NDCs as 10 digits in one of three segment layouts (4-4-2, 5-3-2,
// 5-4-1); claims carry 11 digits, 5-4-2, with a leading zero padding the short
// segment: 70720-720-10 → 70720-0720-10 → 70720072010.
type NDC struct {
	Labeler string // 5 digits
	Product string // 4 digits
	Package string // 2 digits
}

// ErrNDC is the cause of every NDC parse failure.
var ErrNDC = fmt.Errorf("an NDC is 10 digits in three hyphenated segments (4-4-2, 5-3-2 or 5-4-1, as printed on the label) or 11 digits (5-4-2, with or without hyphens)")

// ParseNDC accepts the printed 10-digit forms (4-4-2, 5-3-2, 5-4-1, hyphens
// required because 10 bare digits are ambiguous) and the 11-digit form with or
// without hyphens, and returns the 5-4-2 NDC.
func ParseNDC(s string) (NDC, error) {
	s = strings.TrimSpace(s)
	if !digitsAndHyphens(s) {
		return NDC{}, fmt.Errorf("%q: %w", s, ErrNDC)
	}
	parts := strings.Split(s, "-")
	switch len(parts) {
	case 1:
		if len(s) == 11 {
			return NDC{s[:5], s[5:9], s[9:]}, nil
		}
	case 3:
		a, b, c := parts[0], parts[1], parts[2]
		switch [3]int{len(a), len(b), len(c)} {
		case [3]int{4, 4, 2}:
			return NDC{"0" + a, b, c}, nil
		case [3]int{5, 3, 2}:
			return NDC{a, "0" + b, c}, nil
		case [3]int{5, 4, 1}:
			return NDC{a, b, "0" + c}, nil
		case [3]int{5, 4, 2}:
			return NDC{a, b, c}, nil
		}
	}
	return NDC{}, fmt.Errorf("%q: %w", s, ErrNDC)
}

func digitsAndHyphens(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}

// String is the hyphenated 11-digit form, 70720-0720-10.
func (n NDC) String() string { return n.Labeler + "-" + n.Product + "-" + n.Package }

// Digits is the 11-digit billing form without hyphens, 70720072010, as claims
// (X12 LIN03, CMS-1500 24A) carry it.
func (n NDC) Digits() string { return n.Labeler + n.Product + n.Package }

// IsZero reports whether n was never set.
func (n NDC) IsZero() bool { return n == NDC{} }
