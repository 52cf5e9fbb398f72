package web

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/internal/safefile"
	"golang.org/x/crypto/argon2"
)

// The users of the web app are kept in a file beside the ledger
// (UsersPath), mode 0600: each a name, a role and an argon2id hash of the
// password. Nothing else of a user is kept; a password is never stored,
// logged or echoed.

// UsersPath is the users file of the ledger at ledgerPath.
func UsersPath(ledgerPath string) string { return ledgerPath + ".users" }

// User is one account.
type User struct {
	Name string          `json:"name"`
	Role pumpledger.Role `json:"role"`
	// Hash is the password's argon2id hash in the PHC string format, with
	// its parameters and salt: $argon2id$v=19$m=…,t=…,p=…$salt$key.
	Hash string `json:"hash"`
}

type usersFile struct {
	Users []User `json:"users"`
}

// The argon2id parameters: OWASP's Password Storage Cheat Sheet's first
// recommendation (m = 19 MiB, t = 2, p = 1), a hash in tens of
// milliseconds on a clinic's workstation. Each hash records its own, so
// they can be raised later without breaking the passwords already kept.
var params = argonParams{memoryKiB: 19 * 1024, time: 2, threads: 1}

const (
	saltLen = 16 // RFC 9106 §3.1: 128 bits of salt
	keyLen  = 32

	// MinPassword: NIST SP 800-63B asks at least 8; a clinic's shared
	// workstations ask more. MaxPassword bounds the work one login costs.
	MinPassword = 12
	MaxPassword = 256
	maxName     = 64
	maxUsers    = 1 << 20 // bytes of the users file
)

type argonParams struct {
	memoryKiB, time uint32
	threads         uint8
}

// hashPassword is the PHC string of password's argon2id hash, with a
// fresh random salt.
func hashPassword(password []byte) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey(password, salt, params.time, params.memoryKiB, params.threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, params.memoryKiB, params.time, params.threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// checkPassword reports whether password hashes to hash, comparing in
// constant time. A hash it cannot read matches nothing.
func checkPassword(hash string, password []byte) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false
	}
	var p argonParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memoryKiB, &p.time, &p.threads); err != nil ||
		p.memoryKiB == 0 || p.memoryKiB > 1<<21 || p.time == 0 || p.time > 64 || p.threads == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey(password, salt, p.time, p.memoryKiB, p.threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// decoyHash is checked against when no user has the name given, so that
// a login takes as long whether the name exists or not. Made at the
// first sign-in, not at every start of the command.
var decoyHash = sync.OnceValue(func() string {
	h, err := hashPassword([]byte("no user has this password"))
	if err != nil {
		panic(err)
	}
	return h
})

// readUsers reads the users file; a missing one holds no users.
func readUsers(path string) ([]User, error) {
	data, err := safefile.ReadFile(path, maxUsers)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, pumpledger.Errorf(pumpledger.EINTERNAL, "read the users file %s: %v", path, err)
	}
	var f usersFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, pumpledger.Errorf(pumpledger.EINTERNAL, "the users file %s is not the one pumpledger writes: %v", path, err)
	}
	return f.Users, nil
}

// CheckRole refuses a role the web app does not know.
func CheckRole(role string) (pumpledger.Role, error) {
	r := pumpledger.Role(role)
	if !slices.Contains(pumpledger.WebRoles, r) {
		return "", pumpledger.Invalid("role", "role %q is not one of nurse, clinician, biller, auditor or admin; give one of them.", role)
	}
	return r, nil
}

// CheckPassword refuses a password too short or too long to keep.
func CheckPassword(password []byte) error {
	switch n := utf8.RuneCount(password); {
	case n < MinPassword:
		return pumpledger.Invalid("password", "The password has %d characters; give at least %d.", n, MinPassword)
	case len(password) > MaxPassword:
		return pumpledger.Invalid("password", "The password is longer than %d bytes; give a shorter one.", MaxPassword)
	}
	return nil
}

// AddUser adds a user to the users file at path (made 0600 if new),
// replacing the file whole. A name already there is refused: a password
// is changed on purpose, not by adding the user again.
func AddUser(path, name string, role pumpledger.Role, password []byte) error {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return pumpledger.Invalid("name", "--name is empty; give the user's login name.")
	case utf8.RuneCountInString(name) > maxName:
		return pumpledger.Invalid("name", "--name is longer than %d characters; give a shorter login name.", maxName)
	}
	if err := pumpledger.CheckText("name", name, false); err != nil {
		return err
	}
	if _, err := CheckRole(string(role)); err != nil {
		return err
	}
	if err := CheckPassword(password); err != nil {
		return err
	}
	users, err := readUsers(path)
	if err != nil {
		return err
	}
	for _, u := range users {
		if strings.EqualFold(u.Name, name) {
			return pumpledger.Errorf(pumpledger.ECONFLICT, "A user named %s already exists (role %s); choose another name.", u.Name, u.Role)
		}
	}
	hash, err := hashPassword(password)
	if err != nil {
		return err
	}
	return writeUsers(path, append(users, User{Name: name, Role: role, Hash: hash}))
}

// writeUsers replaces the users file at path whole, 0600.
func writeUsers(path string, users []User) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(usersFile{users}); err != nil {
		return err
	}
	if err := safefile.Replace(path, 0o600, func(f *os.File) error {
		_, err := f.Write(buf.Bytes())
		return err
	}); err != nil {
		return pumpledger.Errorf(pumpledger.EINTERNAL, "write the users file %s: %v", path, err)
	}
	return nil
}

// authenticate is the user named name if password is theirs. The users
// file is read at each sign-in, so a user added while the server runs can
// sign in at once.
func authenticate(path, name string, password []byte) (User, bool, error) {
	users, err := readUsers(path)
	if err != nil {
		return User{}, false, err
	}
	found, hash := -1, decoyHash()
	for i, u := range users {
		if strings.EqualFold(u.Name, strings.TrimSpace(name)) {
			found, hash = i, u.Hash
		}
	}
	ok := checkPassword(hash, password) && found >= 0
	if !ok {
		return User{}, false, nil
	}
	return users[found], true, nil
}
