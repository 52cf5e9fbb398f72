package web

import "net/http"

// viewed notes that the signed-in user of r opened patient mrn's data
// (what: which page). The access log is not built yet: this records
// nothing, and says so in the README.
func (s *Server) viewed(r *http.Request, mrn, what string) {}
