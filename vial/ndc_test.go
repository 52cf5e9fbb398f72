package vial_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger/vial"
)

func TestParseNDCAccepted(t *testing.T) {
	tests := []struct {
		in     string
		want   string // hyphenated 5-4-2
		digits string
	}{
		{"70720-720-10", "70720-0720-10", "70720072010"}, // 5-3-2, SPEC §2 example
		{"68118-722-10", "68118-0722-10", "68118072210"}, // 5-3-2
		{"1234-5678-90", "01234-5678-90", "01234567890"}, // 4-4-2
		{"12345-6789-1", "12345-6789-01", "12345678901"}, // 5-4-1
		{"70720-0720-10", "70720-0720-10", "70720072010"},
		{"70720072010", "70720-0720-10", "70720072010"},      // 11 bare digits
		{"  70720-720-10\t", "70720-0720-10", "70720072010"}, // surrounding blanks
		{"00000-000-00", "00000-0000-00", "00000000000"},
	}
	for _, tt := range tests {
		n, err := vial.ParseNDC(tt.in)
		if err != nil {
			t.Errorf("ParseNDC(%q): %v", tt.in, err)
			continue
		}
		if n.String() != tt.want || n.Digits() != tt.digits {
			t.Errorf("ParseNDC(%q) = %s / %s, want %s / %s", tt.in, n, n.Digits(), tt.want, tt.digits)
		}
		if n.IsZero() {
			t.Errorf("ParseNDC(%q).IsZero() = true", tt.in)
		}
		// The billing form parses back to itself, hyphenated or not.
		for _, s := range []string{n.String(), n.Digits()} {
			if m, err := vial.ParseNDC(s); err != nil || m != n {
				t.Errorf("ParseNDC(%q) = %v, %v; want %v", s, m, err, n)
			}
		}
	}
}

func TestParseNDCRejected(t *testing.T) {
	for _, in := range []string{
		"",
		"   ",
		"7072072010",      // 10 bare digits: ambiguous
		"707200720100",    // 12 digits
		"7072007201",      // 10 digits again, another split
		"70720-720-1",     // 5-3-1: 9 digits
		"7072-720-10",     // 4-3-2
		"70720-07201-0",   // 5-5-1
		"707200-720-10",   // 6-3-2
		"70720-0720-100",  // 5-4-3
		"70720--720-10",   // empty segment
		"-70720-720-10",   // leading hyphen
		"70720-720-10-",   // trailing hyphen
		"70720-720",       // two segments
		"70720-0720-10-1", // four segments
		"70720 720 10",    // blanks for hyphens
		"70720_720_10",
		"70720-720-1O", // letter O
		"+70720072010", // sign
		"70720.720.10", // dots
		"٧٠٧٢٠-720-10", // non-ASCII digits
		"70720–720–10", // en dashes
		"NDC 70720-720-10",
	} {
		n, err := vial.ParseNDC(in)
		if err == nil {
			t.Errorf("ParseNDC(%q) = %v, want an error", in, n)
			continue
		}
		if !errors.Is(err, vial.ErrNDC) {
			t.Errorf("ParseNDC(%q) error %v does not wrap ErrNDC", in, err)
		}
		if !strings.Contains(err.Error(), "4-4-2") {
			t.Errorf("ParseNDC(%q) error %q does not say which forms are accepted", in, err)
		}
	}
}

func TestNDCZero(t *testing.T) {
	if !(vial.NDC{}).IsZero() {
		t.Error("NDC{}.IsZero() = false")
	}
}

// FuzzParseNDC: ParseNDC never panics; what it accepts is one of the printed
// forms, gives 11 digits, keeps every digit of the input in order with at most
// one zero inserted at the start of the short segment, and parses back to itself.
func FuzzParseNDC(f *testing.F) {
	for _, s := range []string{"70720-720-10", "68118-722-10", "1234-5678-90", "12345-6789-1", "70720-0720-10",
		"70720072010", "7072072010", "70720--720-10", "", "-", "--", "0-0-0", " 70720-720-10 ", "٧", "70720-720-1O"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := vial.ParseNDC(s)
		if err != nil {
			if !errors.Is(err, vial.ErrNDC) {
				t.Fatalf("ParseNDC(%q): error %v does not wrap ErrNDC", s, err)
			}
			return
		}
		d := n.Digits()
		if len(d) != 11 || strings.Trim(d, "0123456789") != "" {
			t.Fatalf("ParseNDC(%q).Digits() = %q, want 11 digits", s, d)
		}
		if len(n.Labeler) != 5 || len(n.Product) != 4 || len(n.Package) != 2 {
			t.Fatalf("ParseNDC(%q) = %#v, want 5-4-2 segments", s, n)
		}
		in := strings.TrimSpace(s)
		segs := strings.Split(in, "-")
		switch len(segs) {
		case 1:
			if in != d {
				t.Fatalf("ParseNDC(%q) digits %q, want the input", s, d)
			}
		case 3:
			got := []string{n.Labeler, n.Product, n.Package}
			want := []int{5, 4, 2}
			padded := 0
			for i, seg := range segs {
				switch {
				case seg == got[i]:
				case len(seg) == want[i]-1 && "0"+seg == got[i]:
					padded++
				default:
					t.Fatalf("ParseNDC(%q) segment %d = %q, from %q", s, i, got[i], seg)
				}
			}
			if padded > 1 {
				t.Fatalf("ParseNDC(%q) padded %d segments", s, padded)
			}
		default:
			t.Fatalf("ParseNDC(%q) accepted %d segments", s, len(segs))
		}
		for _, again := range []string{n.String(), n.Digits()} {
			if m, err := vial.ParseNDC(again); err != nil || m != n {
				t.Fatalf("ParseNDC(%q) = %v, %v; want %v", again, m, err, n)
			}
		}
	})
}
