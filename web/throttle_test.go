package web

import (
	"fmt"
	"testing"
	"time"
)

// Fresh names or addresses at every wrong try cannot grow the counts past
// maxKeys, even when all of them are recent: the quietest is forgotten.
func TestThrottleStaysBounded(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	th := &throttle{now: func() time.Time { return now }}
	for i := range maxKeys + 100 {
		now = now.Add(time.Millisecond)
		th.fail(fmt.Sprintf("name-%d", i))
	}
	if n := len(th.m); n > maxKeys {
		t.Fatalf("%d counts kept, more than %d", n, maxKeys)
	}
	if _, ok := th.m["name-0"]; ok {
		t.Error("the quietest count was kept and a newer one dropped")
	}
	if _, ok := th.m[fmt.Sprintf("name-%d", maxKeys+99)]; !ok {
		t.Error("the newest count was not kept")
	}
}
