package web

import (
	"net/http"

	"github.com/pumpledger/pumpledger"
)

// The admin's page: the users and their roles, and a user added. The
// admin reads no patient's data here: the users file holds none.

type usersData struct {
	base
	Users []User // without their hashes
	Roles []pumpledger.Role
	formError
	Name             string // as typed, when refused
	Role             string
	Added            string
	Changed, Removed string
	Status           int
}

func (s *Server) usersData(r *http.Request) (usersData, error) {
	d := usersData{base: s.base(r, "Users"), Roles: pumpledger.WebRoles}
	users, err := readUsers(s.users)
	for _, u := range users {
		d.Users = append(d.Users, User{Name: u.Name, Role: u.Role})
	}
	return d, err
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request) {
	d, err := s.usersData(r)
	if err != nil {
		d.Error = pumpledger.ErrorMessage(errShown(err))
	}
	q := r.URL.Query()
	d.Added, d.Changed, d.Removed = q.Get("added"), q.Get("changed"), q.Get("removed")
	s.show(w, http.StatusOK, "users.html", d)
}

// readForm parses a posted form; when it cannot, it answers the request
// (too large: 413; else one sentence) and says false.
func (s *Server) readForm(w http.ResponseWriter, r *http.Request) bool {
	err := r.ParseForm()
	switch {
	case err == nil:
		return true
	case tooBig(err):
		writeError(w, r, http.StatusRequestEntityTooLarge, pumpledger.EINVALID, "", tooLarge(maxLoginBody))
	default:
		writeErr(w, r, s.log, pumpledger.Invalid("form", "The form could not be read; try again."))
	}
	return false
}

// usersForm adds a user: name, role, the password typed twice.
func (s *Server) usersForm(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r) {
		return
	}
	f := r.PostForm
	name, role, pw := f.Get("name"), f.Get("role"), f.Get("password")
	err := func() error {
		if _, err := CheckRole(role); err != nil {
			return err
		}
		if pw != f.Get("password2") {
			return pumpledger.Invalid("password2", "The two passwords differ; type the same password twice.")
		}
		usersMu.Lock()
		defer usersMu.Unlock()
		return AddUser(s.users, name, pumpledger.Role(role), []byte(pw))
	}()
	if err != nil {
		d, rerr := s.usersData(r)
		if rerr != nil {
			err = rerr
		}
		if pumpledger.ErrorCode(err) == pumpledger.ECONFLICT {
			err = pumpledger.Invalid("name", "%s", pumpledger.ErrorMessage(err))
		}
		refusal(&d.base, &d.formError, err)
		d.Name, d.Role = name, role
		s.show(w, httpStatus(err), "users.html", d)
		return
	}
	// Who added whom is the process log's (no patient data); never the
	// password.
	a, _ := pumpledger.ActorFrom(r.Context())
	s.log.Info("user added", "by", a.Name, "role", role)
	http.Redirect(w, r, "/admin/users?added="+urlQuery(name), http.StatusSeeOther)
}

// userChange changes a user's role (role given) or removes the user
// (remove=1), and ends their sessions.
func (s *Server) userChange(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r) {
		return
	}
	name := r.PostForm.Get("name")
	var err error
	done := "changed"
	if r.PostForm.Get("remove") != "" {
		err, done = RemoveUser(s.users, name), "removed"
	} else {
		err = SetRole(s.users, name, pumpledger.Role(r.PostForm.Get("role")))
	}
	if err != nil {
		d, rerr := s.usersData(r)
		if rerr != nil {
			err = rerr
		}
		refusal(&d.base, &d.formError, err)
		d.Error = pumpledger.ErrorMessage(errShown(err)) // about a row, not the add form
		d.formError = formError{}
		s.show(w, httpStatus(err), "users.html", d)
		return
	}
	s.sessions.endUser(name)
	a, _ := pumpledger.ActorFrom(r.Context())
	s.log.Info("user "+done, "by", a.Name)
	http.Redirect(w, r, "/admin/users?"+done+"="+urlQuery(name), http.StatusSeeOther)
}
