// Package audit is the audit packet of SPEC §12: a patient's entries as
// stored, each with its inclusion proof against one signed checkpoint,
// written as JSON or as one self-contained HTML page that verifies itself,
// and checked again here from the packet and the public key alone. The
// format is docs/audit-format.md; this package needs nothing of the ledger
// but that format (tlog and note do the hashing and the signature).
package audit

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/witness"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Format names this layout; a reader refuses any other.
const Format = "pumpledger-audit-packet/1"

// Packet is what an auditor is given of one patient.
type Packet struct {
	Format string `json:"format"`
	// Ledger is the ledger's origin, the checkpoint's first line and the
	// verifier key's name.
	Ledger      string `json:"ledger"`
	VerifierKey string `json:"verifier_key"` // as LEDGER.pub holds it: the auditor compares it with theirs
	// Checkpoint is the signed note, byte for byte as the ledger keeps it;
	// every entry's proof is against its tree. More signature lines
	// (witnesses' cosignatures) may follow the ledger's own.
	Checkpoint string    `json:"checkpoint"`
	MRN        string    `json:"mrn"`
	From       string    `json:"from,omitempty"` // dates of the entries' clinical time, if the packet is limited
	To         string    `json:"to,omitempty"`
	Made       time.Time `json:"made"`
	Entries    []Entry   `json:"entries"`
	// Attachments are the documents the entries cite, each embedded if
	// it is under MaxEmbed bytes.
	Attachments []Attachment `json:"attachments"`
	// Claims are the claim lines of each date of service, as billed now,
	// with the catalog version they were derived with. Derived, not proven:
	// the proof is of the entries they derive from.
	Claims []Claim `json:"claims"`
}

// Entry is one entry as stored, with its proof.
type Entry struct {
	Index int64  `json:"index"` // the leaf's 0-based index in the tree (the entry's seq)
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	// Stored is the entry's stored bytes, exactly (they are UTF-8 JSON, so
	// a JSON string holds them without loss): its leaf hash is
	// SHA-256(0x00 || Stored).
	Stored string `json:"stored"`
	// Proof is the inclusion proof, base64 hashes, the leaf's sibling first.
	Proof []string `json:"proof"`
	// VoidedBy is the correction that voided the entry, and its reason.
	VoidedBy   string `json:"voided_by,omitempty"`
	VoidReason string `json:"void_reason,omitempty"`
	// Derived is what pumpledger derives of a live refill now (the
	// refill's record), for the reader; not proven.
	Derived json.RawMessage `json:"derived,omitempty"`
}

// MaxEmbed is the largest document embedded in a packet; a larger one is
// named by its hash only.
const MaxEmbed = 2 << 20

// Attachment is one cited document.
type Attachment struct {
	SHA256    string   `json:"sha256"`
	MediaType string   `json:"media_type"`
	Name      string   `json:"name"`
	Size      int64    `json:"size"`
	CitedBy   []string `json:"cited_by"`       // entry ids
	Data      []byte   `json:"data,omitempty"` // base64; absent if too large or not stored
}

// Claim is one date of service's claim lines.
type Claim struct {
	DateOfService string `json:"date_of_service"`
	// Catalog is the catalog version in force that day, which priced the
	// lines: its number, its entry and the SHA-256 of its file.
	CatalogVersion int            `json:"catalog_version"`
	CatalogEntry   string         `json:"catalog_entry"`
	CatalogSHA256  string         `json:"catalog_sha256"`
	Lines          []billing.Line `json:"lines"`
}

// JSON is the packet as its JSON file. encoding/json escapes < > & in
// strings (\u003c...), so the text can sit inside an HTML script element.
func (p *Packet) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(p, "", " ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

//go:embed page.html
var page string

// Marker opens the script element holding the packet's JSON in the page.
const Marker = `<script type="application/json" id="pumpledger-packet">`

// WriteHTML writes the self-contained page: the packet's JSON in a script
// element, the verifier's script and the style inline.
func (p *Packet) WriteHTML(w io.Writer) error {
	b, err := json.Marshal(p) // escapes <, > and &: no "</script>" can occur in it
	if err != nil {
		return err
	}
	head, tail, ok := strings.Cut(page, "{{PACKET}}")
	if !ok {
		panic("audit: page.html has no {{PACKET}}")
	}
	_, err = io.WriteString(w, head)
	if err == nil {
		_, err = w.Write(b)
	}
	if err == nil {
		_, err = io.WriteString(w, tail)
	}
	return err
}

// MaxPacket bounds the file audit verify reads.
const MaxPacket = 1 << 30

// Parse reads a packet from its JSON file or its HTML page.
func Parse(data []byte) (*Packet, error) {
	text := bytes.TrimSpace(data)
	if i := bytes.Index(text, []byte(Marker)); i >= 0 {
		rest := text[i+len(Marker):]
		j := bytes.Index(rest, []byte("</script>"))
		if j < 0 {
			return nil, errors.New("the packet's script element is not closed")
		}
		text = rest[:j]
		// The page must be WriteHTML's around the packet, byte for byte:
		// its script decides what a browser shows, so a page changed
		// elsewhere (a decoy packet before this one, the script) could
		// show entries other than the ones checked here.
		head, tail, _ := strings.Cut(page, "{{PACKET}}")
		if !bytes.Equal(bytes.TrimSpace(data), bytes.TrimSpace([]byte(head+string(text)+tail))) {
			return nil, errors.New("it is not the page pumpledger writes around a packet (its markup or script was changed), so what a browser shows of it is not what is checked; ask for the packet as made, or as JSON (--format json)")
		}
	} else if len(text) == 0 || text[0] != '{' {
		return nil, errors.New("it is neither a packet's JSON nor its page")
	}
	var p Packet
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("its packet does not parse (%v)", err)
	}
	if p.Format != Format {
		return nil, fmt.Errorf("its format is %q, not %q", p.Format, Format)
	}
	return &p, nil
}

// Result is what Verify found of one entry.
type Result struct {
	ID      string
	Index   int64
	Problem string // "" if the entry is proven
}

// Verify checks the packet with the verifier key alone: the checkpoint's
// signature (and that it names the key's ledger), then each entry's leaf
// hash and inclusion proof against the checkpoint's root, that its
// stored bytes say the index and id the packet files it under, and that
// its index is above the one before it (each entry once), and that its
// voided_by and void_reason are what a proven correction of the packet
// says, if one voids it, and empty if none does; then each
// embedded document's hash, and that a proven entry cites it. It returns
// one result per entry and an error naming the first failure.
func Verify(p *Packet, vkey string) ([]Result, error) {
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return nil, pumpledger.Invalid("key", "The key is not a verifier key (%v); give the ledger's public key, as `pumpledger key` prints it, or its .pub file.", err)
	}
	fail := func(format string, args ...any) error {
		return pumpledger.Errorf(pumpledger.EINVALID, format, args...)
	}
	n, err := note.Open([]byte(p.Checkpoint), note.VerifierList(v))
	if err != nil {
		return nil, fail("The packet's checkpoint is not signed by the key %s (%v): no entry is proven.", v.Name(), err)
	}
	origin, size, root, err := checkpointBody(n.Text)
	if err != nil {
		return nil, fail("The packet's checkpoint is malformed (%v): no entry is proven.", err)
	}
	if origin != v.Name() {
		return nil, fail("The packet's checkpoint is of ledger %q, not of the key's %q: no entry is proven.", origin, v.Name())
	}
	var first error
	res := make([]Result, len(p.Entries))
	voids := map[string]correction{} // the voided entry's id: the proven correction voiding it
	for i, e := range p.Entries {
		res[i] = Result{ID: e.ID, Index: e.Index, Problem: checkEntry(e, size, root)}
		// Each entry once, in ledger order: a copy of a proven entry
		// proves again, and would show the auditor a refill twice.
		if res[i].Problem == "" && i > 0 && e.Index <= p.Entries[i-1].Index {
			res[i].Problem = fmt.Sprintf("it repeats an entry or is out of ledger order (index %d follows %d)", e.Index, p.Entries[i-1].Index)
		}
		if c, ok := correctionOf(e); ok && res[i].Problem == "" {
			voids[c.Voids] = c
		}
	}
	proven := map[string]bool{}
	for i, e := range p.Entries {
		// voided_by is the packet's word, not the stored bytes': it holds
		// only if a proven correction of the packet says the same.
		c, voided := voids[e.ID]
		if res[i].Problem == "" && voided && (e.VoidedBy != c.ID || e.VoidReason != c.Reason) {
			res[i].Problem = fmt.Sprintf("the packet's correction %s voids it (%q), but the packet says otherwise", c.ID, c.Reason)
		} else if res[i].Problem == "" && !voided && e.VoidedBy != "" {
			res[i].Problem = fmt.Sprintf("no proven correction of the packet voids it, but the packet says %s does", e.VoidedBy)
		}
		if res[i].Problem == "" {
			proven[e.ID] = true
		} else if first == nil {
			first = fail("Entry %s (index %d) fails: %s.", e.ID, e.Index, res[i].Problem)
		}
	}
	for _, a := range p.Attachments {
		if first != nil {
			break
		}
		if a.Data != nil {
			sum := sha256.Sum256(a.Data)
			if hex.EncodeToString(sum[:]) != a.SHA256 {
				first = fail("Document %s fails: its bytes do not hash to it.", a.SHA256)
				break
			}
		}
		cited := false
		for _, id := range a.CitedBy {
			for _, e := range p.Entries {
				if e.ID == id && proven[id] && strings.Contains(e.Stored, `"`+a.SHA256+`"`) {
					cited = true
				}
			}
		}
		if !cited {
			first = fail("Document %s fails: no proven entry of the packet cites it.", a.SHA256)
		}
	}
	return res, first
}

// correction is what a correction's stored bytes say it voids.
type correction struct {
	ID     string
	Voids  string
	Reason string
}

// correctionOf reads a correction from its stored bytes.
func correctionOf(e Entry) (correction, bool) {
	var c struct {
		ID      string `json:"id"`
		Kind    string `json:"kind"`
		Payload struct {
			Voids  string `json:"voids"`
			Reason string `json:"reason"`
		} `json:"payload"`
	}
	if json.Unmarshal([]byte(e.Stored), &c) != nil || c.Kind != "correction" || c.Payload.Voids == "" {
		return correction{}, false
	}
	return correction{c.ID, c.Payload.Voids, c.Payload.Reason}, true
}

// Cosigned is when the witness of a trusted key cosigned the packet's
// checkpoint.
type Cosigned struct {
	Name string
	Time time.Time
}

// VerifyCosignatures checks that each trusted witness key cosigns the
// packet's checkpoint (c2sp.org/tlog-cosignature, with package witness's
// verifier): a line of its name and key hash that verifies over the
// checkpoint's text. It is run after Verify, which checked the ledger's
// own signature. It names the first key that does not.
func VerifyCosignatures(p *Packet, keys []*witness.Verifier) ([]Cosigned, error) {
	var out []Cosigned
	for _, k := range keys {
		n, err := note.Open([]byte(p.Checkpoint), note.VerifierList(k))
		var unknown *note.UnverifiedNoteError
		switch {
		case errors.As(err, &unknown):
			return out, pumpledger.Errorf(pumpledger.EINVALID, "The packet's checkpoint is NOT cosigned by the witness %s: it has no cosignature by that key; ask the clinic for a packet written after the witness cosigned the ledger, or check the key.", k.Name())
		case err != nil:
			return out, pumpledger.Errorf(pumpledger.EINVALID, "The packet's checkpoint is NOT cosigned by the witness %s: its cosignature by that key does not verify (the checkpoint or the cosignature was changed).", k.Name())
		}
		c := Cosigned{Name: k.Name()}
		for _, s := range n.Sigs {
			if s.Hash == k.KeyHash() {
				c.Time, _ = witness.Time(s)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// checkEntry is why entry e is not proven in the tree of size leaves with
// the given root, or "".
func checkEntry(e Entry, size int64, root tlog.Hash) string {
	data := []byte(e.Stored)
	if !utf8.Valid(data) {
		return "its stored bytes are not UTF-8"
	}
	var head struct {
		Seq *int64 `json:"seq"`
		ID  string `json:"id"`
	}
	if json.Unmarshal(data, &head) != nil || head.Seq == nil || *head.Seq != e.Index || head.ID != e.ID {
		return "its stored bytes are not of this entry (their seq or id differ)"
	}
	if e.Index < 0 || e.Index >= size {
		return fmt.Sprintf("index %d is outside the checkpoint's %d entries", e.Index, size)
	}
	proof := make(tlog.RecordProof, len(e.Proof))
	for i, s := range e.Proof {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != tlog.HashSize {
			return fmt.Sprintf("proof hash %d is not a base64 SHA-256", i)
		}
		copy(proof[i][:], b)
	}
	if tlog.CheckRecord(proof, size, root, e.Index, tlog.RecordHash(data)) != nil {
		return "its stored bytes and proof do not lead to the checkpoint's root (the entry or its proof was changed)"
	}
	return ""
}

// checkpointBody parses a checkpoint note's text: origin, size, base64
// root, each on its line.
func checkpointBody(text string) (string, int64, tlog.Hash, error) {
	lines := strings.Split(text, "\n")
	if len(lines) != 4 || lines[3] != "" {
		return "", 0, tlog.Hash{}, errors.New("its text is not three lines: origin, size, root")
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 {
		return "", 0, tlog.Hash{}, fmt.Errorf("bad tree size %q", lines[1])
	}
	var h tlog.Hash
	b, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(b) != tlog.HashSize {
		return "", 0, tlog.Hash{}, fmt.Errorf("bad root hash %q", lines[2])
	}
	copy(h[:], b)
	return lines[0], n, h, nil
}
