package web

import (
	"sync"
	"time"
)

// throttle slows the guessing of passwords: after freeTries wrong
// passwords for a name, or from an address, each next try is refused for
// a time that doubles with every further wrong one, from a second up to
// maxLockout. A right password clears its name's count, not its address's
// (one address guessing at many names stays slowed).

const (
	freeTries  = 5
	maxLockout = 15 * time.Minute
	maxKeys    = 1 << 16 // names and addresses counted, at most
)

type strikes struct {
	n           int
	until, last time.Time
}

type throttle struct {
	mu  sync.Mutex
	m   map[string]*strikes
	now func() time.Time
}

// wait is how long the tries for keys are still refused: 0 if they may try.
func (t *throttle) wait(keys ...string) time.Duration {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	var d time.Duration
	for _, k := range keys {
		if s, ok := t.m[k]; ok && s.until.After(now) {
			d = max(d, s.until.Sub(now))
		}
	}
	return d
}

// fail counts a wrong password against keys.
func (t *throttle) fail(keys ...string) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]*strikes{}
	}
	if len(t.m) >= maxKeys { // forget the counts long quiet
		for k, s := range t.m {
			if now.Sub(s.last) > maxLockout {
				delete(t.m, k)
			}
		}
	}
	for _, k := range keys {
		s := t.m[k]
		if s == nil {
			// Still full of recent counts (fresh names or addresses at
			// every try): the quietest goes, so memory stays bounded.
			// A scan of the map is little beside the password hash each
			// sign-in costs.
			if len(t.m) >= maxKeys {
				oldest := ""
				for ok, os := range t.m {
					if oldest == "" || os.last.Before(t.m[oldest].last) {
						oldest = ok
					}
				}
				delete(t.m, oldest)
			}
			s = &strikes{}
			t.m[k] = s
		}
		if now.Sub(s.last) > 24*time.Hour { // a day without a wrong try starts over
			s.n = 0
		}
		s.n++
		s.last = now
		if over := s.n - freeTries; over > 0 {
			s.until = now.Add(min(time.Second<<min(over-1, 20), maxLockout))
		}
	}
}

// clear forgets the wrong passwords counted against key.
func (t *throttle) clear(key string) {
	t.mu.Lock()
	delete(t.m, key)
	t.mu.Unlock()
}
