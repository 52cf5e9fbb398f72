package web

import (
	"net/http"
	"net/url"
	"time"

	"github.com/pumpledger/pumpledger"
)

// routeMux is a ServeMux that remembers its patterns, so that the role x
// route test covers every route: one added without a row fails it.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

// base is what every page of the biller, the auditor and the admin, and
// the record's forms, shows around its own data: its title, who is signed
// in, and the links that user's role may follow.
type base struct {
	Title       string
	User        pumpledger.Actor
	IdleMinutes int
	Error       string // a refusal not about one field
}

func (s *Server) base(r *http.Request, title string) base {
	a, _ := pumpledger.ActorFrom(r.Context())
	return base{Title: title, User: a, IdleMinutes: int(s.sessions.idle / time.Minute)}
}

// Links is what the signed-in user's role may open, for the nav.
func (b base) Links() []link { return linksFor(b.User.Role) }

type link struct{ Href, Text string }

func linksFor(role pumpledger.Role) []link {
	switch role {
	case pumpledger.RoleBiller:
		return []link{{"/bill", "Bill"}}
	case pumpledger.RoleAuditor:
		return []link{{"/audit", "Audit"}, {"/bill", "Bill"}, {"/history", "History"}, {"/access", "Access log"}}
	case pumpledger.RoleAdmin:
		return []link{{"/admin/users", "Users"}, {"/access", "Access log"}}
	case pumpledger.RoleNurse, pumpledger.RoleClinician:
		return []link{{"/worklist", "Worklist"}, {"/history", "History"}, {"/record/diagnosis", "Document"}}
	}
	return nil
}

// show renders one of these pages with data (which embeds base).
func (s *Server) show(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		s.log.Error("render", "page", name, "err", err)
	}
}

func urlQuery(s string) string { return url.QueryEscape(s) }

// formError is a refusal shown beside the field it names (Field, FieldError)
// or, naming none, at the top of the page (Error).
type formError struct {
	Field, FieldError string
}

// refusal splits err's sentence between the page and its field.
func refusal(b *base, fe *formError, err error) {
	msg, field := pumpledger.ErrorMessage(errShown(err)), fieldOf(err)
	if field == "" {
		b.Error = msg
		return
	}
	fe.Field, fe.FieldError = field, msg
}
