// Package x12 writes a whole ASC X12 837P (005010X222A1) interchange: the
// envelope, the submitter and receiver, the billing provider, and for each
// claim its subscriber, payer, diagnoses, prior authorization and service
// lines. It writes what it is given; package clinic gathers it (the practice,
// the coverage in force, the diagnoses on file, the authorization drawn) and
// refuses a claim it cannot fill, before it gets here.
//
// Layout (the loops and segments written, in order; the test's checker holds
// each to the implementation guide's element rules):
//
//	ISA GS ST BHT                       envelope, transaction 0001, BHT02 00 original, BHT06 CH chargeable
//	1000A NM1*41 PER*IC                 submitter and its contact
//	1000B NM1*40                        receiver
//	2000A HL*1**20*1 PRV*BI*PXC         billing provider level, its taxonomy
//	2010AA NM1*85 N3 N4 REF*EI          billing provider: name, NPI, address (ZIP+4), EIN
//	per claim:
//	2000B HL*n*1*22*c SBR               subscriber level; SBR02 18 when the subscriber is the patient (HL04 0), else empty (HL04 1: the patient's level follows)
//	2010BA NM1*IL [N3 N4 DMG]           subscriber: name, member id; address, birth date and sex only when the subscriber is the patient
//	2010BB NM1*PR                       payer
//	[2000C HL*m*n*23*0 PAT              the patient's level, when the patient is not the subscriber: PAT01 the relationship (01 spouse, 19 child, G8 other)
//	 2010CA NM1*QC N3 N4 DMG]           the patient: name (no id), address, birth date and sex
//	2300 CLM [REF*G1] [REF*F8] HI       claim: charges, place of service, frequency; authorization; original claim; diagnoses
//	[2320 SBR OI                        the other payer, when the patient has a secondary coverage: its responsibility, the patient's relationship to its subscriber (SBR02: 18 self, 01, 19, G8), its filing code; benefits assigned and release signed, as in CLM
//	 2330A NM1*IL N3 N4                 the other subscriber (the patient, or the one the coverage names): name, the other coverage's member id, address when known
//	 2330B NM1*PR]                      the other payer: name and id (no address: the ledger holds none)
//	2400 LX SV1 DTP*472                 each line: procedure, modifiers, NOC narrative, charge, units, diagnosis pointers; service date
//	2410 LIN CTP                        its NDC and quantity
//	SE GE IEA                           counts and control numbers
//
// Sources: the 005010X222A1 implementation guide's loop and segment
// requirements as published in X12's and CMS's companion guides (CMS
// Medicare FFS 837P companion guide; the guide's examples; X12's answer to
// RFI 2281: 2010BA's N3 and DMG are sent only when the patient is the
// subscriber, and the patient's go in 2010CA otherwise), and for the
// drug segments those cited in billing.WriteX12.
package x12

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/shopspring/decimal"
)

// Delimiters: element, component, repetition, segment. Each segment is
// followed by a line break for people; X12 translators accept one after
// the terminator.
const (
	Element    = "*"
	Component  = ":"
	Repetition = "^"
	Segment    = "~"
)

// Claim frequency codes (CLM05-3).
const (
	Original    = "1"
	Replacement = "7"
	Void        = "8"
)

// MaxDiagnoses is the most diagnoses a claim's HI carries; MaxPointers the
// most a line points at (SV107).
const (
	MaxDiagnoses = 12
	MaxPointers  = 4
)

// Interchange is one 837P interchange of one transaction.
type Interchange struct {
	Control int64     // ISA13 and GS06, 1 to 999999999
	At      time.Time // when it was made: ISA09/10, GS04/05, BHT04/05
	// Site is the submitter, receiver and billing provider.
	Site   pumpledger.Site
	Claims []Claim
}

// Claim is one 837P claim: one patient's lines of one date of service.
type Claim struct {
	ID             string // CLM01
	DateOfService  string // YYYY-MM-DD
	Patient        pumpledger.Patient
	Coverage       pumpledger.Coverage
	Payer          pumpledger.SitePayer
	Filing         string // SBR09
	PlaceOfService string // CLM05-1
	Frequency      string // CLM05-3: Original, Replacement or Void
	Original       string // REF*F8: the claim replaced or voided
	Diagnoses      []string
	PriorAuth      string // REF*G1
	// Other is the patient's other coverage in force on the date of
	// service (2320/2330A/2330B), nil when there is none.
	Other *OtherPayer
	Lines []Line
}

// OtherPayer is a claim's other payer: the coverage (the patient its
// subscriber), the practice's id for its payer and its filing code.
type OtherPayer struct {
	Coverage pumpledger.Coverage
	Payer    pumpledger.SitePayer
	Filing   string // 2320 SBR09
}

// Line is one service line with its charge.
type Line struct {
	billing.Line
	Charge decimal.Decimal // SV102: the fee schedule's charge per unit × units
}

// Total is the claim's charge (CLM02): the sum of its lines'.
func (c Claim) Total() decimal.Decimal {
	t := decimal.Zero
	for _, l := range c.Lines {
		t = t.Add(l.Charge)
	}
	return t
}

// Write writes the interchange. A value holding a delimiter, or a claim
// without diagnoses or lines, is a fault of the caller's (clinic refuses
// such claims before): it is an internal error, and nothing is written.
func Write(w io.Writer, ic Interchange) error {
	var b builder
	s := ic.Site
	ctrl := fmt.Sprintf("%09d", ic.Control)
	usage := "T"
	if s.Production {
		usage = "P"
	}
	date, hhmm := ic.At.Format("20060102"), ic.At.Format("1504")
	b.seg("ISA", "00", pad(""), "00", pad(""), "ZZ", padN(s.SubmitterID, 15), "ZZ", padN(s.ReceiverID, 15),
		date[2:], hhmm, Repetition, "00501", ctrl, "0", usage, Component)
	b.seg("GS", "HC", s.SubmitterID, s.ReceiverID, date, hhmm, strconv.FormatInt(ic.Control, 10), "X", "005010X222A1")
	start := b.n
	b.seg("ST", "837", "0001", "005010X222A1")
	b.seg("BHT", "0019", "00", ctrl, date, hhmm, "CH")
	b.seg("NM1", "41", "2", s.SubmitterName, "", "", "", "", "46", s.SubmitterID)
	b.seg("PER", "IC", s.Contact, "TE", s.Phone)
	b.seg("NM1", "40", "2", s.ReceiverName, "", "", "", "", "46", s.ReceiverID)
	b.seg("HL", "1", "", "20", "1")
	b.seg("PRV", "BI", "PXC", s.Taxonomy)
	b.seg("NM1", "85", "2", s.Name, "", "", "", "", "XX", s.NPI)
	b.address(s.Address)
	b.seg("REF", "EI", s.TaxID)
	hl := 1 // the billing provider's
	for _, c := range ic.Claims {
		if len(c.Diagnoses) == 0 || len(c.Lines) == 0 {
			return pumpledger.Errorf(pumpledger.EINTERNAL, "claim %s has no diagnosis or no line", c.ID)
		}
		self := c.Coverage.Self()
		if self != (c.Coverage.Subscriber == nil) {
			return pumpledger.Errorf(pumpledger.EINTERNAL, "claim %s: coverage relationship %q with subscriber %t", c.ID, c.Coverage.Relationship, c.Coverage.Subscriber != nil)
		}
		hl++
		subscriberHL := strconv.Itoa(hl)
		planName := ""
		if c.Coverage.Group == "" {
			planName = c.Coverage.Plan
		}
		if self {
			b.seg("HL", subscriberHL, "1", "22", "0")
			b.seg("SBR", responsibility(c.Coverage.Priority), "18", c.Coverage.Group, planName, "", "", "", "", c.Filing)
			b.person("IL", c.Patient.Name, c.Coverage.MemberID)
			b.demographics(c.Patient.Address, c.Patient.BirthDate, c.Patient.Sex)
		} else {
			b.seg("HL", subscriberHL, "1", "22", "1")
			b.seg("SBR", responsibility(c.Coverage.Priority), "", c.Coverage.Group, planName, "", "", "", "", c.Filing)
			b.person("IL", c.Coverage.Subscriber.Name, c.Coverage.MemberID)
		}
		b.seg("NM1", "PR", "2", c.Payer.Name, "", "", "", "", "PI", c.Payer.ID)
		if !self {
			hl++
			b.seg("HL", strconv.Itoa(hl), subscriberHL, "23", "0")
			b.seg("PAT", pumpledger.RelationshipCodes[c.Coverage.Relationship])
			b.person("QC", c.Patient.Name, "")
			b.demographics(c.Patient.Address, c.Patient.BirthDate, c.Patient.Sex)
		}
		freq := c.Frequency
		if freq == "" {
			freq = Original
		}
		b.seg("CLM", c.ID, c.Total().String(), "", "", c.PlaceOfService+Component+"B"+Component+freq, "Y", "A", "Y", "Y")
		if c.PriorAuth != "" {
			b.seg("REF", "G1", c.PriorAuth)
		}
		if c.Original != "" {
			b.seg("REF", "F8", c.Original)
		}
		hi := make([]string, 0, len(c.Diagnoses))
		for k, d := range c.Diagnoses {
			q := "ABF"
			if k == 0 {
				q = "ABK" // the principal diagnosis
			}
			hi = append(hi, q+Component+strings.ReplaceAll(d, ".", ""))
		}
		b.seg(append([]string{"HI"}, hi...)...)
		if o := c.Other; o != nil {
			b.otherPayer(*o, c.Patient)
		}
		pointers := make([]string, 0, MaxPointers)
		for k := range min(len(c.Diagnoses), MaxPointers) {
			pointers = append(pointers, strconv.Itoa(k+1))
		}
		d8 := strings.ReplaceAll(c.DateOfService, "-", "")
		for n, l := range c.Lines {
			proc := append([]string{"HC", l.Code}, l.Modifiers...)
			if l.Narrative != "" {
				// SV101-7, the description of a not-otherwise-classified
				// code, after the four modifier places.
				proc = append(append([]string{"HC", l.Code}, append(slices.Clone(l.Modifiers), "", "", "", "")[:4]...), l.Narrative)
			}
			b.seg("LX", strconv.Itoa(n+1))
			b.seg("SV1", strings.Join(proc, Component), l.Charge.String(), "UN", strconv.FormatInt(l.Units, 10), "", "", strings.Join(pointers, Component))
			b.seg("DTP", "472", "D8", d8)
			if l.NDC != "" {
				b.seg("LIN", "", "N4", l.NDC)
				b.seg("CTP", "", "", "", l.NDCQty.String(), l.NDCUnit)
			}
		}
	}
	b.seg("SE", strconv.Itoa(b.n-start+1), "0001")
	b.seg("GE", "1", strconv.FormatInt(ic.Control, 10))
	b.seg("IEA", "1", ctrl)
	if b.err != nil {
		return b.err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// SplitName is a patient's name as NM103 (last) and NM104 (first): "Last,
// First" as written, else the last word is the last name.
func SplitName(name string) (last, first string) {
	if l, f, ok := strings.Cut(name, ","); ok {
		return strings.TrimSpace(l), strings.TrimSpace(f)
	}
	name = strings.TrimSpace(name)
	if i := strings.LastIndexByte(name, ' '); i > 0 {
		return name[i+1:], strings.TrimSpace(name[:i])
	}
	return name, ""
}

// Carries says whether s can go in an element: printable ASCII, none of the
// delimiters.
func Carries(s string) bool {
	for _, r := range s {
		if r < ' ' || r > '~' || strings.ContainsRune(Element+Component+Repetition+Segment, r) {
			return false
		}
	}
	return true
}

func responsibility(priority string) string {
	switch priority {
	case "secondary":
		return "S"
	case "tertiary":
		return "T"
	}
	return "P"
}

func pad(s string) string { return padN(s, 10) }

func padN(s string, n int) string { return s + strings.Repeat(" ", max(n-len(s), 0)) }

// builder writes segments, trailing empty elements dropped, counting them.
type builder struct {
	strings.Builder
	n   int
	err error
}

func (b *builder) seg(elements ...string) {
	for len(elements) > 1 && elements[len(elements)-1] == "" {
		elements = elements[:len(elements)-1]
	}
	for i, e := range elements {
		// A composite's components are joined by the writer; each part
		// was checked by the caller's rules, so only the element and
		// segment delimiters (and the repetition one, but in ISA11) are
		// refused here.
		bad := strings.ContainsAny(e, Element+Segment+"\r\n") || (strings.Contains(e, Repetition) && !(elements[0] == "ISA" && i == 11))
		if bad && b.err == nil {
			b.err = pumpledger.Errorf(pumpledger.EINTERNAL, "%s%02d holds an X12 delimiter: %q", elements[0], i, e)
		}
	}
	b.WriteString(strings.Join(elements, Element))
	b.WriteString(Segment + "\n")
	b.n++
}

// otherPayer is loops 2320, 2330A and 2330B of the other coverage: SBR02
// the patient's relationship to its subscriber, 2330A that subscriber (the
// patient, or the one the coverage names). OI03 and OI06 say what CLM08
// and CLM09 say: benefits assigned, release of information signed.
func (b *builder) otherPayer(o OtherPayer, p pumpledger.Patient) {
	planName := ""
	if o.Coverage.Group == "" {
		planName = o.Coverage.Plan
	}
	rel := o.Coverage.Relationship
	name, address := p.Name, p.Address
	if o.Coverage.Self() {
		rel = "self"
	} else if s := o.Coverage.Subscriber; s != nil {
		name, address = s.Name, s.Address
	}
	b.seg("SBR", responsibility(o.Coverage.Priority), pumpledger.RelationshipCodes[rel], o.Coverage.Group, planName, "", "", "", "", o.Filing)
	b.seg("OI", "", "", "Y", "", "", "Y")
	b.person("IL", name, o.Coverage.MemberID)
	if address != nil { // required when known
		b.address(*address)
	}
	b.seg("NM1", "PR", "2", o.Payer.Name, "", "", "", "", "PI", o.Payer.ID)
}

// person is an NM1 of a person: a subscriber (IL, with the member id) or
// the patient under one (QC, whom X222A1 names without an id).
func (b *builder) person(entity, name, memberID string) {
	last, first := SplitName(name)
	qualifier := "MI"
	if memberID == "" {
		qualifier = ""
	}
	b.seg("NM1", entity, "1", last, first, "", "", "", qualifier, memberID)
}

// demographics are the patient's N3, N4 (when known) and DMG.
func (b *builder) demographics(a *pumpledger.Address, birthDate, sex string) {
	if a != nil {
		b.address(*a)
	}
	b.seg("DMG", "D8", strings.ReplaceAll(birthDate, "-", ""), sex)
}

func (b *builder) address(a pumpledger.Address) {
	b.seg("N3", a.Line1, a.Line2)
	b.seg("N4", a.City, a.State, strings.ReplaceAll(a.PostalCode, "-", ""))
}
