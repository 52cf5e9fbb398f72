package pumpledger

import "context"

// Actor is who asks for a use case: the login name at the command line,
// later the signed-in user of the web app. Every entry records its actor
// as recorded_by, kept apart from the clinical nurse, witness or clinician
// the entry names.
type Actor struct {
	Name string
	Role Role
}

// Role is what an actor may do. The command line acts as RoleClinic (who
// runs it has the ledger file and its key); the web app's roles come with
// it.
type Role string

const (
	RoleClinic Role = "clinic" // the command line: every use case

	// The web app's: each signs in and may do only what the role does.
	RoleNurse     Role = "nurse"     // records refills, and reads the patients' charts
	RoleClinician Role = "clinician" // records as a nurse does (dose changes, the clinical record)
	RoleBiller    Role = "biller"    // bills and checks
	RoleAuditor   Role = "auditor"   // reads everything, records nothing
	RoleAdmin     Role = "admin"     // manages the users, reads no patient's data
)

// WebRoles are the roles a user of the web app may have.
var WebRoles = []Role{RoleNurse, RoleClinician, RoleBiller, RoleAuditor, RoleAdmin}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom is the actor ctx carries. A use case that records refuses a
// context without one (EUNAUTHORIZED): no entry is written by nobody.
func ActorFrom(ctx context.Context) (Actor, error) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	if !ok || a.Name == "" {
		return Actor{}, Errorf(EUNAUTHORIZED, "No one is named as recording this; sign in, or give --by or $PUMPLEDGER_USER.")
	}
	if err := CheckText("recorded_by", a.Name, false); err != nil {
		return Actor{}, err
	}
	return a, nil
}
