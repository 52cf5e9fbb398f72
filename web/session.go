package web

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"

	"github.com/pumpledger/pumpledger"
)

// Sessions are kept on the server: the cookie holds only a random id (32
// bytes from crypto/rand), which names nothing and can be revoked. A
// session idle longer than the timeout is over (HIPAA's automatic logoff,
// §164.312(a)(2)(iii)); one is over after maxSession whatever its use.

const maxSession = 12 * time.Hour // one shift, with its overrun

type session struct {
	actor         pumpledger.Actor
	created, last time.Time
}

type sessions struct {
	mu   sync.Mutex
	m    map[string]*session
	idle time.Duration
	now  func() time.Time
}

// start opens a session for a and returns its id.
func (s *sessions) start(a pumpledger.Actor) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	id := base64.RawURLEncoding.EncodeToString(b)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*session{}
	}
	for k, v := range s.m { // sessions are few: sweep the expired at each sign-in
		if s.expired(v, now) {
			delete(s.m, k)
		}
	}
	s.m[id] = &session{actor: a, created: now, last: now}
	return id, nil
}

func (s *sessions) expired(v *session, now time.Time) bool {
	return now.Sub(v.last) > s.idle || now.Sub(v.created) > maxSession
}

// get is the actor of the live session id, and marks it used now; an
// expired session is ended.
func (s *sessions) get(id string) (pumpledger.Actor, bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[id]
	if !ok {
		return pumpledger.Actor{}, false
	}
	if s.expired(v, now) {
		delete(s.m, id)
		return pumpledger.Actor{}, false
	}
	v.last = now
	return v.actor, true
}

// end ends the session id.
func (s *sessions) end(id string) {
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
}
