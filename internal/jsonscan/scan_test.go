package jsonscan

import (
	"math/rand/v2"
	"testing"
)

// Run, eight bytes at a time, stops where a byte at a time would: at the
// first quote, backslash or control character, or (plain) non-ASCII byte,
// wherever it falls in a word. Random strings of ordinary bytes with one
// or two special ones at every position, and every byte value.
func TestRunStopsWhereBytewiseWould(t *testing.T) {
	naive := func(b []byte, plain bool) int {
		for i, c := range b {
			if c == '"' || c == '\\' || c < 0x20 || plain && c >= 0x80 {
				return i
			}
		}
		return len(b)
	}
	r := rand.New(rand.NewPCG(1, 2))
	ordinary := func() byte {
		for {
			c := byte(0x20 + r.IntN(0xE0))
			if c != '"' && c != '\\' {
				return c
			}
		}
	}
	checked := 0
	for n := range 40 {
		for special := range 256 {
			b := make([]byte, n)
			for i := range b {
				b[i] = ordinary()
			}
			if n > 0 {
				b[r.IntN(n)] = byte(special)
				if r.IntN(2) == 0 {
					b[r.IntN(n)] = byte(r.IntN(256))
				}
			}
			for _, plain := range []bool{true, false} {
				if got, want := Run(b, plain), naive(b, plain); got != want {
					t.Fatalf("Run(%q, plain %v) = %d, want %d", b, plain, got, want)
				}
				checked++
			}
		}
	}
	if checked != 40*256*2 {
		t.Fatal(checked)
	}
}
