package web

import (
	"slices"
	"strings"
	"sync"

	"github.com/pumpledger/pumpledger"
)

// usersMu orders this process's changes to the users file: each reads it
// whole and replaces it whole, so two at once would lose one.
var usersMu sync.Mutex

// SetRole gives the user named name the role role. The last admin keeps
// theirs: without one, nobody could manage the users from the web.
func SetRole(path, name string, role pumpledger.Role) error {
	if _, err := CheckRole(string(role)); err != nil {
		return err
	}
	return changeUser(path, name, func(users []User, i int) ([]User, error) {
		if users[i].Role == pumpledger.RoleAdmin && role != pumpledger.RoleAdmin && countAdmins(users) == 1 {
			return nil, lastAdmin(users[i].Name)
		}
		users[i].Role = role
		return users, nil
	})
}

// RemoveUser removes the user named name; they can no longer sign in. The
// entries they recorded keep their name.
func RemoveUser(path, name string) error {
	return changeUser(path, name, func(users []User, i int) ([]User, error) {
		if users[i].Role == pumpledger.RoleAdmin && countAdmins(users) == 1 {
			return nil, lastAdmin(users[i].Name)
		}
		return slices.Delete(users, i, i+1), nil
	})
}

func changeUser(path, name string, fn func([]User, int) ([]User, error)) error {
	usersMu.Lock()
	defer usersMu.Unlock()
	users, err := readUsers(path)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(users, func(u User) bool { return strings.EqualFold(u.Name, strings.TrimSpace(name)) })
	if i < 0 {
		return pumpledger.Errorf(pumpledger.ENOTFOUND, "No user is named %q; choose one of the list.", name)
	}
	if users, err = fn(users, i); err != nil {
		return err
	}
	return writeUsers(path, users)
}

func countAdmins(users []User) int {
	n := 0
	for _, u := range users {
		if u.Role == pumpledger.RoleAdmin {
			n++
		}
	}
	return n
}

func lastAdmin(name string) error {
	return pumpledger.Errorf(pumpledger.ECONFLICT, "%s is the only admin; make another user admin first.", name)
}

// endUser ends every session of the user named name: a role changed or a
// user removed takes effect at their next request, not at their session's
// end. name is matched as changeUser matches it, trimmed.
func (s *sessions) endUser(name string) {
	name = strings.TrimSpace(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, v := range s.m {
		if strings.EqualFold(v.actor.Name, name) {
			delete(s.m, id)
		}
	}
}
