//go:build race

package demo

// raceEnabled: the race detector makes the 2000-patient history ten times
// slower; TestGenerateLarge runs without it.
const raceEnabled = true
