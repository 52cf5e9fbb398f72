// Package web is the clinic's web app over one open ledger: the JSON API
// of SPEC §11 for programs (and, later, for the pages' own previews), the
// sign-in page, accounts, sessions and roles. It only wires HTTP to the
// use cases of clinic.Ledger, as cmd/pumpledger wires the command line.
//
// It is package web, not http: a package named http would shadow
// net/http in every file that uses both, which here is every file.
package web

import (
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/shopspring/decimal"
)

// DefaultIdle is how long a session may stay unused before it is over:
// HIPAA's automatic logoff, 15 minutes as most clinics set it.
const DefaultIdle = 15 * time.Minute

// Config is what a Server serves and how.
type Config struct {
	Ledger    clinic.Ledger
	UsersPath string        // the users file (UsersPath of the ledger)
	Idle      time.Duration // session idle timeout; 0 = DefaultIdle
	TLS       bool          // served over TLS: cookies are Secure, HSTS is sent
	Now       func() time.Time
	Log       *slog.Logger // nil: discarded
}

// Server is the web app. Its Handler is safe for concurrent use.
type Server struct {
	db       clinic.Ledger
	users    string
	tls      bool
	now      func() time.Time
	log      *slog.Logger
	sessions *sessions
	throttle *throttle
	handler  http.Handler
	access   *ledger.AccessLog // who viewed which patient (access.go)
	patterns []string          // every route, for the role x route test
}

// New makes the server of cfg.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Idle <= 0 {
		cfg.Idle = DefaultIdle
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{db: cfg.Ledger, users: cfg.UsersPath, tls: cfg.TLS, now: cfg.Now, log: cfg.Log,
		sessions: &sessions{idle: cfg.Idle, now: cfg.Now}, throttle: &throttle{now: cfg.Now}}
	if l, ok := cfg.Ledger.(interface{ AccessLog() *ledger.AccessLog }); ok {
		s.access = l.AccessLog()
	}
	s.handler = s.routes()
	return s
}

// ServeHTTP serves the web app.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Who may do what, checked on the server at every route: a nurse and a
// clinician record and read their patients' charts; a biller bills and
// checks, and reads the chart (coverage, authorizations, what the payer
// still needs); an auditor reads everything and records nothing; an admin
// manages the users and reads no patient's data.
var (
	recorders = []pumpledger.Role{pumpledger.RoleNurse, pumpledger.RoleClinician}
	billers   = []pumpledger.Role{pumpledger.RoleBiller, pumpledger.RoleAuditor}
	senders   = []pumpledger.Role{pumpledger.RoleBiller} // submit claims: record them as sent
	charts    = []pumpledger.Role{pumpledger.RoleNurse, pumpledger.RoleClinician, pumpledger.RoleBiller, pumpledger.RoleAuditor}
	histories = []pumpledger.Role{pumpledger.RoleNurse, pumpledger.RoleClinician, pumpledger.RoleAuditor}
	auditors  = []pumpledger.Role{pumpledger.RoleAuditor}
	admins    = []pumpledger.Role{pumpledger.RoleAdmin}
	anyone    = pumpledger.WebRoles
)

// Body limits: a sign-in is a name and a password; an entry is bounded as
// at the command line.
const (
	maxLoginBody = 4 << 10
	maxEntryBody = pumpledger.MaxInputBytes
)

func (s *Server) routes() http.Handler {
	mux := &routeMux{ServeMux: http.NewServeMux()}
	defer func() { s.patterns = mux.patterns }()
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /login", s.loginPage)
	mux.Handle("POST /login", limit(maxLoginBody, http.HandlerFunc(s.loginForm)))
	mux.HandleFunc("POST /logout", s.logoutForm)
	mux.Handle("GET /static/", http.FileServerFS(assets))

	mux.Handle("POST /api/login", limit(maxLoginBody, http.HandlerFunc(s.apiLogin)))
	mux.HandleFunc("POST /api/logout", s.apiLogout)
	mux.Handle("GET /api/me", s.as(anyone, s.apiMe))
	mux.Handle("POST /api/refill", limit(maxEntryBody, s.as(recorders, s.apiRefill)))
	mux.Handle("GET /api/bill", s.as(billers, s.apiBill))
	mux.Handle("GET /api/check", s.as(billers, s.apiCheck))
	mux.Handle("GET /api/submissions", s.as(billers, s.apiSubmissions))
	mux.Handle("POST /api/submit", s.as(senders, s.apiSubmit))
	mux.Handle("GET /api/chart", s.as(charts, s.apiChart))
	mux.Handle("GET /api/history", s.as(histories, s.apiHistory))
	mux.Handle("GET /api/fhir", s.as(charts, s.apiFHIR))
	mux.Handle("GET /api/verify", s.as(auditors, s.apiVerify))
	mux.Handle("GET /api/users", s.as(admins, s.apiUsers))
	mux.Handle("GET /api/plan", s.as(recorders, s.apiPlan))
	mux.Handle("POST /api/scan", limit(maxLoginBody, s.as(recorders, s.apiScan)))
	mux.Handle("POST /api/reprogram", limit(maxEntryBody, s.as(recorders, s.apiReprogram)))

	// The nurse's pages (nurse.go).
	mux.Handle("GET /worklist", s.page(recorders, s.worklistPage))
	mux.Handle("GET /patient", s.page(charts, s.patientPage))
	mux.Handle("GET /refill/new", s.page(recorders, s.refillFormPage))
	mux.Handle("POST /refill", limit(maxEntryBody, s.as(recorders, s.refillSave)))
	mux.Handle("POST /reprogram", limit(maxEntryBody, s.as(recorders, s.reprogramSave)))
	mux.Handle("GET /refill/correct", s.page(recorders, s.correctFormPage))
	mux.Handle("GET /reprogram/new", s.page(recorders, s.reprogramFormPage))
	mux.Handle("GET /refill/record", s.page(charts, s.refillRecordPage))

	// The biller's, the auditor's and the admin's pages, the clinical
	// record's forms and the access log (billing_pages.go, audit_pages.go,
	// admin_pages.go, record_pages.go, access.go).
	mux.Handle("GET /bill", s.page(billers, s.billPage))
	mux.Handle("POST /bill/submit", limit(maxLoginBody, s.as(senders, s.submitForm)))
	mux.Handle("GET /audit", s.page(auditors, s.auditPage))
	mux.Handle("GET /audit/checkpoint", s.as(auditors, s.checkpointDownload))
	mux.Handle("GET /history", s.page(histories, s.historyPage))
	mux.Handle("GET /access", s.page(accessReaders, s.accessPage))
	mux.Handle("GET /admin/users", s.page(admins, s.usersPage))
	mux.Handle("POST /admin/users", limit(maxLoginBody, s.as(admins, s.usersForm)))
	mux.Handle("POST /admin/users/change", limit(maxLoginBody, s.as(admins, s.userChange)))
	mux.Handle("GET /record/{kind}", s.page(recorders, s.recordPage))
	mux.Handle("POST /record/{kind}", limit(maxRecordBody, s.as(recorders, s.recordForm)))

	// Every state-changing request from a browser must come from this
	// origin (Sec-Fetch-Site, else Origin against Host): a page elsewhere
	// cannot post a refill with the nurse's cookie, nor sign her in as
	// someone else. Programs, which send neither header, are let through.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, http.StatusForbidden, "cross_origin", "", "A request from another site is refused; use the pages of this server.")
	}))
	return s.headers(s.logged(cop.Handler(mux)))
}

// headers sets the security headers of every answer. The policy allows
// only this server's own scripts, styles and images, no inline script or
// style, no framing; nothing is cached (every page may hold PHI).
func (s *Server) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		if s.tls {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// logged logs each request: method, path, status, time. Never the query
// (an MRN), a body (a password, a patient's name) or a cookie.
func (s *Server) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		s.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "ms", time.Since(start).Milliseconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// limit bounds the request body to n bytes; reading past it fails with
// *http.MaxBytesError, answered 413 (readBody).
func limit(n int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > n {
			writeError(w, r, http.StatusRequestEntityTooLarge, pumpledger.EINVALID, "", tooLarge(n))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, n)
		next.ServeHTTP(w, r)
	})
}

func tooLarge(n int64) string {
	return "The request is larger than " + itoa(n) + " bytes; send one entry at a time."
}

// Sessions: the cookie.

func (s *Server) cookieName() string {
	if s.tls {
		return "__Host-pumpledger" // bound to this host, Secure, path /
	}
	return "pumpledger"
}

func (s *Server) setSession(w http.ResponseWriter, id string) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: id, Path: "/", HttpOnly: true, Secure: s.tls, SameSite: http.SameSiteStrictMode})
}

func (s *Server) clearSession(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(s.cookieName()); err == nil {
		s.sessions.end(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.tls, SameSite: http.SameSiteStrictMode})
}

// actor is the signed-in user of r, if any.
func (s *Server) actor(r *http.Request) (pumpledger.Actor, bool) {
	c, err := r.Cookie(s.cookieName())
	if err != nil {
		return pumpledger.Actor{}, false
	}
	return s.sessions.get(c.Value)
}

// as serves h to a signed-in user whose role is one of roles: 401 without
// a session (or with one expired), 403 for another role. h's context
// carries the user as the actor, the entry's recorded_by.
func (s *Server) as(roles []pumpledger.Role, h func(http.ResponseWriter, *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := s.actor(r)
		if !ok {
			writeError(w, r, http.StatusUnauthorized, pumpledger.EUNAUTHORIZED, "", "Sign in first (POST /api/login); a session ends after a time unused.")
			return
		}
		if !slices.Contains(roles, a.Role) {
			writeError(w, r, http.StatusForbidden, pumpledger.EUNAUTHORIZED, "", "A user with the role "+string(a.Role)+" may not do this.")
			return
		}
		h(w, r.WithContext(pumpledger.WithActor(r.Context(), a)))
	})
}

// Signing in.

type credentials struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

// login checks c, throttled by name and by address; wait > 0 when the
// try is refused unchecked.
func (s *Server) login(r *http.Request, c credentials) (a pumpledger.Actor, wait time.Duration, err error) {
	keys := []string{"name:" + foldName(c.Name), "addr:" + clientAddr(r)}
	if wait := s.throttle.wait(keys...); wait > 0 {
		return a, wait, nil
	}
	if len(c.Password) > MaxPassword {
		s.throttle.fail(keys...)
		return a, 0, errSignIn
	}
	u, ok, err := authenticate(s.users, c.Name, []byte(c.Password))
	if err != nil {
		return a, 0, err
	}
	if !ok {
		s.throttle.fail(keys...)
		s.log.Warn("sign-in refused", "addr", clientAddr(r))
		return a, 0, errSignIn
	}
	s.throttle.clear(keys[0])
	return pumpledger.Actor{Name: u.Name, Role: u.Role}, 0, nil
}

// foldName is the one spelling of every name that signs in as the same
// user: authenticate matches names with strings.EqualFold (Unicode simple
// folding: "ſ" is "s", "K" is "k"), which strings.ToLower does not
// follow, so each rune becomes the least of its folding orbit, lower-cased
// (the keys of plain names read as before: "name:nurse1").
func foldName(name string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return unicode.ToLower(least)
	}, strings.TrimSpace(name))
}

var errSignIn = pumpledger.Errorf(pumpledger.EUNAUTHORIZED, "The name or the password is wrong; check both and try again.")

// clientAddr is the address a request came from (not a header a client
// sets: the server listens on its own, with no proxy in front).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) apiLogin(w http.ResponseWriter, r *http.Request) {
	var c credentials
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&c); err != nil {
		if tooBig(err) {
			writeError(w, r, http.StatusRequestEntityTooLarge, pumpledger.EINVALID, "", tooLarge(maxLoginBody))
			return
		}
		writeError(w, r, http.StatusBadRequest, pumpledger.EINVALID, "", `The sign-in must be JSON: {"name": "...", "password": "..."}.`)
		return
	}
	a, wait, err := s.login(r, c)
	if wait > 0 {
		refuseFor(w, r, wait)
		return
	}
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	// A sign-in ends the session the request came with: a session id
	// known before sign-in never carries the new user.
	if c, err := r.Cookie(s.cookieName()); err == nil {
		s.sessions.end(c.Value)
	}
	id, err := s.sessions.start(a)
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	s.setSession(w, id)
	writeJSON(w, http.StatusOK, map[string]any{"name": a.Name, "role": a.Role})
}

// refuseFor answers a throttled sign-in: 429, with when to try again.
func refuseFor(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	secs := int64((wait + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", itoa(secs))
	writeError(w, r, http.StatusTooManyRequests, "throttled", "", "Too many wrong passwords; try again in "+itoa(secs)+" seconds.")
}

func (s *Server) apiLogout(w http.ResponseWriter, r *http.Request) {
	s.clearSession(w, r)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) {
	a, _ := pumpledger.ActorFrom(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{"name": a.Name, "role": a.Role})
}

func (s *Server) apiUsers(w http.ResponseWriter, r *http.Request) {
	users, err := readUsers(s.users)
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	type user struct {
		Name string          `json:"name"`
		Role pumpledger.Role `json:"role"`
	}
	out := []user{}
	for _, u := range users { // never the hashes
		out = append(out, user{u.Name, u.Role})
	}
	writeJSON(w, http.StatusOK, out)
}

// The pages: only the sign-in, for now.

//go:embed templates static
var assets embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	// nd prints a decimal that may be null (NullDecimal) as "–".
	"nd": func(d decimal.NullDecimal) string {
		if !d.Valid {
			return "–"
		}
		return d.Decimal.String()
	},
	"join": strings.Join,
	// frequencyName words a claim's frequency code (CLM05-3).
	"frequencyName": func(code string) string {
		return map[string]string{"1": "original", "7": "replacement", "8": "void"}[code]
	},
	"abs": func(n int) int {
		if n < 0 {
			return -n
		}
		return n
	},
}).ParseFS(assets, "templates/*.html"))

type page struct {
	Title, Error string
	User         pumpledger.Actor
	IdleMinutes  int
	Data         any // the page's own
}

// Links is what the signed-in user's role may open, for the nav.
func (p page) Links() []link { return linksFor(p.User.Role) }

func (s *Server) render(w http.ResponseWriter, status int, name string, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	p.IdleMinutes = int(s.sessions.idle / time.Minute)
	if err := pages.ExecuteTemplate(w, name, p); err != nil {
		s.log.Error("render", "page", name, "err", err)
	}
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	a, ok := s.actor(r)
	if !ok {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if slices.Contains(recorders, a.Role) { // a nurse's day starts at the worklist
		http.Redirect(w, r, "/worklist", http.StatusSeeOther)
		return
	}
	s.render(w, http.StatusOK, "home.html", page{Title: "pumpledger", User: a})
}

// page serves a page to a signed-in user of one of roles: without a
// session, the sign-in page (then back here); another role, 403 in words.
func (s *Server) page(roles []pumpledger.Role, h func(http.ResponseWriter, *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := s.actor(r)
		if !ok {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if !slices.Contains(roles, a.Role) {
			s.render(w, http.StatusForbidden, "error.html", page{Title: "Not for your role", User: a,
				Error: "A user with the role " + string(a.Role) + " may not open this page."})
			return
		}
		h(w, r.WithContext(pumpledger.WithActor(r.Context(), a)))
	})
}

// renderErr shows err on the error page, with the status its code maps to.
func (s *Server) renderErr(w http.ResponseWriter, r *http.Request, err error) {
	status := httpStatus(err)
	if status == http.StatusInternalServerError {
		s.log.Error("internal error", "path", r.URL.Path, "code", pumpledger.ErrorCode(err))
	}
	s.render(w, status, "error.html", page{Title: "Cannot show this", User: actorOf(r), Error: pumpledger.ErrorMessage(errShown(err))})
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "login.html", page{Title: "Sign in", Data: localNext(r.URL.Query().Get("next"))})
}

// localNext is where a sign-in goes on: a path of this server only (never
// //host or a scheme: no open redirect), else home.
func localNext(next string) string {
	u, err := url.Parse(next)
	if next == "" || err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	return next
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		if tooBig(err) {
			writeError(w, r, http.StatusRequestEntityTooLarge, pumpledger.EINVALID, "", tooLarge(maxLoginBody))
			return
		}
		s.render(w, http.StatusBadRequest, "login.html", page{Title: "Sign in", Error: "The form could not be read; try again."})
		return
	}
	a, wait, err := s.login(r, credentials{Name: r.PostForm.Get("name"), Password: r.PostForm.Get("password")})
	switch {
	case wait > 0:
		w.Header().Set("Retry-After", itoa(int64((wait+time.Second-1)/time.Second)))
		s.render(w, http.StatusTooManyRequests, "login.html", page{Title: "Sign in", Data: localNext(r.PostForm.Get("next")), Error: "Too many wrong passwords; wait " + itoa(int64((wait+time.Second-1)/time.Second)) + " seconds and try again."})
		return
	case err != nil:
		status := httpStatus(err)
		if status == http.StatusForbidden {
			status = http.StatusUnauthorized
		}
		s.render(w, status, "login.html", page{Title: "Sign in", Data: localNext(r.PostForm.Get("next")), Error: pumpledger.ErrorMessage(errShown(err))})
		return
	}
	// A sign-in ends the session the request came with: a session id
	// known before sign-in never carries the new user.
	if c, err := r.Cookie(s.cookieName()); err == nil {
		s.sessions.end(c.Value)
	}
	id, err := s.sessions.start(a)
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	s.setSession(w, id)
	http.Redirect(w, r, localNext(r.PostForm.Get("next")), http.StatusSeeOther)
}

func (s *Server) logoutForm(w http.ResponseWriter, r *http.Request) {
	s.clearSession(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// Errors: each code maps once to an HTTP status, as once to an exit
// status at the command line.

func httpStatus(err error) int {
	switch pumpledger.ErrorCode(err) {
	case pumpledger.EINVALID:
		return http.StatusBadRequest
	case pumpledger.ENOTFOUND:
		return http.StatusNotFound
	case pumpledger.ECONFLICT:
		return http.StatusConflict
	case pumpledger.EUNAUTHORIZED:
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

// errShown is err as a user may read it: an internal error's detail goes
// to the log only.
func errShown(err error) error {
	if pumpledger.ErrorCode(err) == pumpledger.EINTERNAL {
		return pumpledger.Errorf(pumpledger.EINTERNAL, "Internal error; the server's log has the detail.")
	}
	return err
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Field   string `json:"field,omitempty"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeErr answers err with its status and sentence; the sign-in's
// refusal is 401, as is any use case's refusal of a missing actor.
func writeErr(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if tooBig(err) {
		writeError(w, r, http.StatusRequestEntityTooLarge, pumpledger.EINVALID, "", tooLarge(maxEntryBody))
		return
	}
	status := httpStatus(err)
	if errors.Is(err, errSignIn) {
		status = http.StatusUnauthorized
	}
	if status == http.StatusInternalServerError {
		// Not the error's text: an internal error may name a pump or an
		// MRN, and the log holds no patient data. The person who sees the
		// answer gets the sentence; the log, where to look.
		log.Error("internal error", "path", r.URL.Path, "code", pumpledger.ErrorCode(err))
	}
	var e *pumpledger.Error
	field := ""
	if errors.As(err, &e) {
		field = e.Field
	}
	shown := errShown(err)
	writeError(w, r, status, pumpledger.ErrorCode(shown), field, pumpledger.ErrorMessage(shown))
}

func writeError(w http.ResponseWriter, _ *http.Request, status int, code, field, msg string) {
	var b errorBody
	b.Error.Code, b.Error.Field, b.Error.Message = code, field, msg
	writeJSON(w, status, b)
}

// writeJSON writes v as the command line's --json does: indented by two
// spaces, one object, a newline.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func tooBig(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}
