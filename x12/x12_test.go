package x12_test

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/internal/x12check"
	"github.com/pumpledger/pumpledger/x12"
	"github.com/shopspring/decimal"
)

var dec = decimal.RequireFromString

// sample is an interchange of three claims: a Medicare admixture (one
// J7799-KD line with its narrative) with a supplemental plan secondary, a
// commercial refill with its NDC
// lines and authorization, and a replacement of an earlier claim.
func sample() x12.Interchange {
	site := pumpledger.Site{Name: "Riverside Pain Associates", NPI: "1234567893", TaxID: "123456789", Taxonomy: "208VP0014X",
		Address:     pumpledger.Address{Line1: "100 Main St", Line2: "Suite 200", City: "Columbus", State: "OH", PostalCode: "43215-1001"},
		SubmitterID: "RIVERSIDE01", SubmitterName: "Riverside Pain Associates", Contact: "Billing Office", Phone: "6145550100",
		ReceiverID: "CLEARHOUSE", ReceiverName: "Example Clearinghouse", PlaceOfService: "11"}
	patient := pumpledger.Patient{MRN: "MRN-1", Name: "Doe, Jane", BirthDate: "1961-04-12", Sex: "F",
		Address: &pumpledger.Address{Line1: "12 Elm St", City: "Columbus", State: "OH", PostalCode: "43215"}}
	spouse := pumpledger.Patient{MRN: "MRN-2", Name: "Roe, Ann", BirthDate: "1962-01-05", Sex: "F", Address: patient.Address}
	medicare := pumpledger.Coverage{MRN: "MRN-1", Payer: "medicare-part-b", MemberID: "1EG4TE5MK73", Plan: "Medicare Part B", Priority: "primary"}
	line := func(code string, units int64, charge string, mods ...string) x12.Line {
		return x12.Line{Line: billing.Line{Code: code, Units: units, Modifiers: mods}, Charge: dec(charge)}
	}
	ndc := func(l x12.Line, ndc, qty string) x12.Line { l.NDC, l.NDCQty, l.NDCUnit = ndc, dec(qty), "ML"; return l }
	admixture := line("J7799", 1, "850", "KD")
	admixture.Narrative = "ziconotide 150 mcg, morphine 30 mg"
	return x12.Interchange{Control: 42, At: time.Date(2026, 3, 15, 9, 30, 0, 0, time.UTC), Site: site, Claims: []x12.Claim{
		{ID: "MRN-1-20260302", DateOfService: "2026-03-02", Patient: patient, Coverage: medicare, Filing: "MB", PlaceOfService: "11",
			Payer: pumpledger.SitePayer{ID: "15202", Name: "CGS Medicare B"}, Frequency: x12.Original, Diagnoses: []string{"G89.4", "M96.1"},
			Other: &x12.OtherPayer{Coverage: pumpledger.Coverage{MemberID: "SUPP12345", Plan: "Medigap Plan G", Priority: "secondary"},
				Payer: pumpledger.SitePayer{ID: "87726", Name: "Example Health"}, Filing: "CI"},
			Lines: []x12.Line{admixture, line("95990", 1, "180")}},
		{ID: "MRN-1-20260330", DateOfService: "2026-03-30", Patient: patient, Filing: "CI", PlaceOfService: "11", PriorAuth: "PA-2026-0042",
			Coverage: pumpledger.Coverage{MemberID: "W123456789", Group: "G-100", Priority: "primary"},
			Payer:    pumpledger.SitePayer{ID: "87726", Name: "Example Health"}, Frequency: x12.Original, Diagnoses: []string{"G89.4", "M96.1", "M54.16", "G89.29", "R52"},
			Lines: []x12.Line{ndc(line("J2278", 150, "1425", "JZ"), "70720072010", "1.5"), ndc(line("J2278", 50, "475", "JW"), "70720072010", "0.5"), line("95990", 1, "180")}},
		{ID: "MRN-1-20260302", DateOfService: "2026-03-02", Patient: patient, Coverage: medicare, Filing: "MB", PlaceOfService: "11",
			Payer: pumpledger.SitePayer{ID: "15202", Name: "CGS Medicare B"}, Frequency: x12.Replacement, Original: "MRN-1-20260302", Diagnoses: []string{"G89.4"},
			Lines: []x12.Line{line("95990", 1, "180")}},
		// A spouse's plan: the patient under the subscriber (2000C), and a
		// child's plan of a parent's as the other payer.
		{ID: "MRN-2-20260305", DateOfService: "2026-03-05", Patient: spouse, Filing: "CI", PlaceOfService: "11",
			Coverage: pumpledger.Coverage{MemberID: "W123456789", Group: "G-100", Priority: "primary", Relationship: "spouse",
				Subscriber: &pumpledger.Subscriber{Name: "Roe, John", BirthDate: "1959-08-30", Sex: "M", Address: patient.Address}},
			Payer: pumpledger.SitePayer{ID: "87726", Name: "Example Health"}, Frequency: x12.Original, Diagnoses: []string{"G89.4"},
			Other: &x12.OtherPayer{Coverage: pumpledger.Coverage{MemberID: "P555", Plan: "Parent Plan", Priority: "secondary", Relationship: "child",
				Subscriber: &pumpledger.Subscriber{Name: "Smith, Mary"}}, Payer: pumpledger.SitePayer{ID: "60054", Name: "Other Health"}, Filing: "CI"},
			Lines: []x12.Line{line("95990", 1, "180")}},
	}}
}

func write(t *testing.T, ic x12.Interchange) string {
	t.Helper()
	var b strings.Builder
	if err := x12.Write(&b, ic); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// What the writer writes passes the X222A1 check, and says what it was given.
func TestWrite(t *testing.T) {
	out := write(t, sample())
	for _, err := range x12check.Check(out) {
		t.Error(err)
	}
	for _, seg := range []string{
		"ISA*00*          *00*          *ZZ*RIVERSIDE01    *ZZ*CLEARHOUSE     *260315*0930*^*00501*000000042*0*T*:~",
		"GS*HC*RIVERSIDE01*CLEARHOUSE*20260315*0930*42*X*005010X222A1~",
		"N3*100 Main St*Suite 200~", "N4*Columbus*OH*432151001~",
		"SBR*P*18**Medicare Part B*****MB~", "SBR*P*18*G-100******CI~", "NM1*IL*1*Doe*Jane****MI*1EG4TE5MK73~",
		"CLM*MRN-1-20260302*1030***11:B:1*Y*A*Y*Y~", "HI*ABK:G894*ABF:M961~",
		"HI*ABK:G894*ABF:M961~\nSBR*S*18**Medigap Plan G*****CI~\nOI***Y***Y~\nNM1*IL*1*Doe*Jane****MI*SUPP12345~\nN3*12 Elm St~\nN4*Columbus*OH*43215~\nNM1*PR*2*Example Health*****PI*87726~\nLX*1~",
		"SV1*HC:J7799:KD::::ziconotide 150 mcg, morphine 30 mg*850*UN*1***1:2~",
		"CLM*MRN-1-20260330*2080***11:B:1*Y*A*Y*Y~", "REF*G1*PA-2026-0042~", "HI*ABK:G894*ABF:M961*ABF:M5416*ABF:G8929*ABF:R52~",
		"SV1*HC:J2278:JZ*1425*UN*150***1:2:3:4~", "LIN**N4*70720072010~", "CTP****1.5*ML~",
		"CLM*MRN-1-20260302*180***11:B:7*Y*A*Y*Y~", "REF*F8*MRN-1-20260302~",
		"HL*5*1*22*1~\nSBR*P**G-100******CI~\nNM1*IL*1*Roe*John****MI*W123456789~\nNM1*PR*2*Example Health*****PI*87726~\n" +
			"HL*6*5*23*0~\nPAT*01~\nNM1*QC*1*Roe*Ann~\nN3*12 Elm St~\nN4*Columbus*OH*43215~\nDMG*D8*19620105*F~\nCLM*MRN-2-20260305*180***11:B:1*Y*A*Y*Y~",
		"SBR*S*19**Parent Plan*****CI~\nOI***Y***Y~\nNM1*IL*1*Smith*Mary****MI*P555~\nNM1*PR*2*Other Health*****PI*60054~\nLX*1~",
		"SE*88*0001~", "GE*1*42~", "IEA*1*000000042~",
	} {
		if !strings.Contains(out, seg+"\n") {
			t.Errorf("the interchange lacks %s", seg)
		}
	}
}

// The checker finds each fault a writer could make: a checker that passes
// everything proves nothing.
func TestCheckerFinds(t *testing.T) {
	good := write(t, sample())
	sub := func(old, new string) func(string) string {
		return func(s string) string {
			if !strings.Contains(s, old) {
				t.Fatalf("the sample lacks %q", old)
			}
			return strings.Replace(s, old, new, 1)
		}
	}
	re := func(expr, new string) func(string) string {
		return func(s string) string { return regexp.MustCompile(expr).ReplaceAllString(s, new) }
	}
	for _, tt := range []struct {
		name  string
		edit  func(string) string
		finds string
	}{
		{"a wrong segment count", sub("SE*88*", "SE*87*"), "SE01 is 87"},
		{"SE02 not ST02", sub("SE*88*0001", "SE*88*0002"), "SE02 0002 is not ST02 0001"},
		{"GE02 not GS06", sub("GE*1*42", "GE*1*43"), "GE counts 1 transaction"},
		{"IEA02 not ISA13", sub("IEA*1*000000042", "IEA*1*000000043"), "IEA counts 1 group"},
		{"a short ISA", sub("*ZZ*CLEARHOUSE     *", "*ZZ*CLEARHOUSE*"), "ISA08 \"CLEARHOUSE\" is 10 characters, not 15 to 15"},
		{"a pointer past HI", sub("*850*UN*1***1:2~", "*850*UN*1***1:3~"), "SV107 pointer \"3\" does not point at one of the claim's 2 HI diagnoses"},
		{"five pointers", sub("***1:2:3:4~", "***1:2:3:4:5~"), "SV107 must point at one to four"},
		{"CLM02 not the sum of the lines", sub("CLM*MRN-1-20260302*1030*", "CLM*MRN-1-20260302*1031*"), "CLM02 1031 is not the sum of its SV102s, 1030"},
		{"a billing provider's 5-digit ZIP", sub("N4*Columbus*OH*432151001~", "N4*Columbus*OH*43215~"), "N403 of the billing provider must be the 9-digit ZIP+4"},
		{"HI before the authorization", sub("REF*G1*PA-2026-0042~\nHI*ABK:G894*ABF:M961*ABF:M5416*ABF:G8929*ABF:R52~", "HI*ABK:G894*ABF:M961*ABF:M5416*ABF:G8929*ABF:R52~\nREF*G1*PA-2026-0042~"), "REF*G1 cannot follow HI"},
		{"no DMG", re(`DMG\*D8\*19610412\*F~\n`, ""), "NM1*PR cannot follow N4/2010BA"},
		{"a line number skipped", sub("LX*2~", "LX*3~"), "LX01 3; lines number from 1 in each claim, this is 2"},
		{"an HL number skipped", sub("HL*3*1*22*0~", "HL*4*1*22*0~"), "HL01 4; the HLs number from 1 in order, this is 3"},
		{"a replacement without the original", sub("REF*F8*MRN-1-20260302~\n", ""), "REF*F8 (the original claim) goes with frequency 7 or 8"},
		{"the original's id on an original claim", sub("CLM*MRN-1-20260330*2080***11:B:1*Y*A*Y*Y~\nREF*G1*PA-2026-0042~", "CLM*MRN-1-20260330*2080***11:B:1*Y*A*Y*Y~\nREF*G1*PA-2026-0042~\nREF*F8*X~"), "REF*F8 (the original claim) goes with frequency 7 or 8"},
		{"a compounded line without its narrative", sub("::::ziconotide 150 mcg, morphine 30 mg*", "*"), "J7799 is a not-otherwise-classified code"},
		{"a claim id of 39 characters", sub("CLM*MRN-1-20260330*", "CLM*"+strings.Repeat("M", 39)+"*"), "CLM01 \"MMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMM\" is 39 characters, not 1 to 38"},
		{"a trailing delimiter", sub("REF*EI*123456789~", "REF*EI*123456789*~"), "a trailing empty element"},
		{"an unknown frequency", sub("11:B:7*", "11:B:5*"), "CLM05 \"11:B:5\""},
		{"a diagnosis with its point", sub("HI*ABK:G894*ABF:M961~", "HI*ABK:G89.4*ABF:M961~"), "HI01 \"ABK:G89.4\""},
		{"an unknown NDC unit", sub("CTP****1.5*ML~", "CTP****1.5*CC~"), "CTP05-1 \"CC\""},
		{"a segment the writer does not use", sub("PRV*BI*PXC*208VP0014X~", "PRV*BI*PXC*208VP0014X~\nNTE*ADD*hello~"), "segment NTE is not one the 837P writer uses"},
		{"a missing required element", sub("NM1*PR*2*Example Health*****PI*87726~", "NM1*PR*2******PI*87726~"), "NM103 is required"},
		{"a component separator in a name", sub("NM1*40*2*Example Clearinghouse*", "NM1*40*2*Example: Clearinghouse*"), "holds ':'"},
		{"2320 without OI", sub("OI***Y***Y~\n", ""), "NM1*IL/2330A cannot follow SBR/2320"},
		{"2320 without the other payer", sub("NM1*PR*2*Example Health*****PI*87726~\nLX*1~", "LX*1~"), "LX cannot follow N4/2330A"},
		{"the other payer's responsibility the claim's", sub("SBR*S*18**Medigap", "SBR*P*18**Medigap"), "2320 SBR01 P repeats a payer responsibility"},
		{"OI unlike CLM", sub("OI***Y***Y~", "OI***N***Y~"), "OI03 and OI06 (N, Y) do not say what CLM08 and CLM09 say (Y, Y)"},
		{"OI's unused element", sub("OI***Y***Y~", "OI*CI**Y***Y~"), "OI01 is not used in X222A1"},
		{"the other subscriber's member id of one character", sub("MI*SUPP12345~", "MI*S~"), "NM109 \"S\" is 1 characters, not 2 to 80"},
		// The patient's level (2000C) when the patient is not the subscriber.
		{"a dependent's claim with SBR02 18", sub("SBR*P**G-100*", "SBR*P*18*G-100*"), "2000B SBR02 is 18 but the patient has a level of their own"},
		{"a relationship in 2000B SBR02", sub("SBR*P**G-100*", "SBR*P*01*G-100*"), "2000B SBR02 is 18 (the subscriber is the patient) or empty, not 01"},
		{"a self claim without SBR02", sub("SBR*P*18*G-100*", "SBR*P**G-100*"), "2000B SBR02 must be 18 when the claim is under the subscriber's level"},
		{"a subscriber's HL04 0 above a patient", sub("HL*5*1*22*1~", "HL*5*1*22*0~"), "the subscriber's HL 5 has a patient's level under it: its HL04 must be 1"},
		{"a subscriber's HL04 1 without a patient", sub("HL*2*1*22*0~", "HL*2*1*22*1~"), "the subscriber's HL 2 has no patient's level under it: its HL04 must be 0"},
		{"the patient's HL under the wrong parent", sub("HL*6*5*23*0~", "HL*6*1*23*0~"), "the patient's HL is a child of the subscriber's HL 5"},
		{"no PAT", sub("PAT*01~\n", ""), "NM1*QC cannot follow HL*23"},
		{"PAT01 self", sub("PAT*01~", "PAT*18~"), "PAT01 \"18\" is not one of the codes"},
		{"the patient's name with an id", sub("NM1*QC*1*Roe*Ann~", "NM1*QC*1*Roe*Ann****MI*W123456789~"), "NM1*QC) is a person (NM102 1) with no id"},
		{"no patient's DMG", sub("DMG*D8*19620105*F~\n", ""), "CLM cannot follow N4/2010CA"},
		{"the subscriber's address with a patient's level", sub("NM1*IL*1*Roe*John****MI*W123456789~", "NM1*IL*1*Roe*John****MI*W123456789~\nN3*1 Oak St~\nN4*Columbus*OH*43215~\nDMG*D8*19590830*M~"), "2010BA N3 is sent only when the subscriber is the patient"},
		{"a subscriber's id left out", sub("NM1*IL*1*Roe*John****MI*W123456789~", "NM1*IL*1*Roe*John~"), "NM108 and NM109 are required"},
		{"2320 without SBR02", sub("SBR*S*19**Parent Plan", "SBR*S***Parent Plan"), "2320 SBR02 is required"},
		{"no IEA", re(`IEA\*.*~\n$`, ""), "the interchange ends after GE, not IEA"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			errs := x12check.Check(tt.edit(good))
			if !strings.Contains(fmt.Sprint(errs), tt.finds) {
				t.Errorf("found %v, want a fault saying %q", errs, tt.finds)
			}
		})
	}
}

// A value holding a delimiter is never written (clinic refuses the claim
// before): the writer fails whole, and writes nothing.
func TestWriteRefusesADelimiter(t *testing.T) {
	ic := sample()
	ic.Claims[1].Patient.Name = "Doe*Jane"
	var b strings.Builder
	err := x12.Write(&b, ic)
	var e *pumpledger.Error
	if !errors.As(err, &e) || e.Code != pumpledger.EINTERNAL || b.Len() != 0 {
		t.Errorf("err = %v, wrote %d bytes; want an internal error and nothing", err, b.Len())
	}
}

func TestSplitName(t *testing.T) {
	for in, want := range map[string][2]string{"Doe, Jane Q.": {"Doe", "Jane Q."}, "Jane Q. Doe": {"Doe", "Jane Q."}, "Cher": {"Cher", ""}} {
		if last, first := x12.SplitName(in); last != want[0] || first != want[1] {
			t.Errorf("SplitName(%q) = %q, %q; want %q", in, last, first, want)
		}
	}
}
