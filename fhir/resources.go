package fhir

import "encoding/json"

// The FHIR R4 elements an export writes, as Go types: only the elements
// used, in the order the specification lists them, every one omitted when
// empty. Decimals are json.Number: FHIR decimals are JSON numbers, and
// their digits are written exactly as the ledger holds them, never through
// a float64.

// Bundle is a FHIR R4 Bundle of type collection.
type Bundle struct {
	ResourceType string  `json:"resourceType"` // "Bundle"
	Type         string  `json:"type"`         // "collection"
	Entry        []Entry `json:"entry"`
}

// Entry is one resource of a Bundle with its fullUrl, urn:uuid: and its id.
type Entry struct {
	FullURL  string `json:"fullUrl"`
	Resource any    `json:"resource"`
}

// The systems codes come from.
const (
	SystemSNOMED    = "http://snomed.info/sct"
	SystemCPT       = "http://www.ama-assn.org/go/cpt"
	SystemHCPCS     = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
	SystemNDC       = "http://hl7.org/fhir/sid/ndc"
	SystemICD10CM   = "http://hl7.org/fhir/sid/icd-10-cm"
	SystemUCUM      = "http://unitsofmeasure.org"
	SystemLOINC     = "http://loinc.org"
	SystemV2_0203   = "http://terminology.hl7.org/CodeSystem/v2-0203"
	SystemCondClin  = "http://terminology.hl7.org/CodeSystem/condition-clinical"
	SystemCondVer   = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
	SystemCondCat   = "http://terminology.hl7.org/CodeSystem/condition-category"
	SystemConsScope = "http://terminology.hl7.org/CodeSystem/consentscope"
	SystemActCode   = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	SystemSubRel    = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
	SystemRoleCode  = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
	SystemCovClass  = "http://terminology.hl7.org/CodeSystem/coverage-class"
	SystemObsCat    = "http://terminology.hl7.org/CodeSystem/observation-category"
	SystemClaimType = "http://terminology.hl7.org/CodeSystem/claim-type"
	SystemOrgType   = "http://terminology.hl7.org/CodeSystem/organization-type"
	// SystemPayerProfile names a payer by its profile id in the catalog.
	SystemPayerProfile = "https://github.com/pumpledger/pumpledger/payer-profile"
	// SystemEntry names the ledger entry a resource was derived from: its
	// identifier's value is the entry's urn:uuid.
	SystemEntry = "urn:ietf:rfc:3986"
)

type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

type CodeableConcept struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

type Identifier struct {
	Type   *CodeableConcept `json:"type,omitempty"`
	System string           `json:"system,omitempty"`
	Value  string           `json:"value,omitempty"`
}

type Reference struct {
	Reference string `json:"reference,omitempty"`
	Display   string `json:"display,omitempty"`
}

type Quantity struct {
	Value  json.Number `json:"value"`
	Unit   string      `json:"unit,omitempty"`
	System string      `json:"system,omitempty"`
	Code   string      `json:"code,omitempty"`
}

type Ratio struct {
	Numerator   *Quantity `json:"numerator,omitempty"`
	Denominator *Quantity `json:"denominator,omitempty"`
}

type Period struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

type Annotation struct {
	Text string `json:"text"`
}

type HumanName struct {
	Text string `json:"text"`
}

type Address struct {
	Line       []string `json:"line,omitempty"`
	City       string   `json:"city,omitempty"`
	State      string   `json:"state,omitempty"`
	PostalCode string   `json:"postalCode,omitempty"`
	Country    string   `json:"country,omitempty"`
}

type Attachment struct {
	ContentType string `json:"contentType,omitempty"`
	URL         string `json:"url,omitempty"`
	Size        int64  `json:"size,omitempty"`
	Hash        string `json:"hash,omitempty"` // base64 SHA-1 of the bytes (R4)
	Title       string `json:"title,omitempty"`
}

type Patient struct {
	ResourceType string       `json:"resourceType"`
	ID           string       `json:"id"`
	Identifier   []Identifier `json:"identifier"`
	Name         []HumanName  `json:"name,omitempty"`
	Gender       string       `json:"gender,omitempty"`
	BirthDate    string       `json:"birthDate,omitempty"`
	Address      []Address    `json:"address,omitempty"`
}

type DeviceName struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type Device struct {
	ResourceType string           `json:"resourceType"`
	ID           string           `json:"id"`
	Identifier   []Identifier     `json:"identifier"`
	Status       string           `json:"status"`
	SerialNumber string           `json:"serialNumber"`
	DeviceName   []DeviceName     `json:"deviceName,omitempty"`
	ModelNumber  string           `json:"modelNumber,omitempty"`
	Type         *CodeableConcept `json:"type,omitempty"`
	Patient      *Reference       `json:"patient,omitempty"`
	Note         []Annotation     `json:"note,omitempty"`
}

type Performer struct {
	Function *CodeableConcept `json:"function,omitempty"`
	Actor    Reference        `json:"actor"`
}

type FocalDevice struct {
	Manipulated Reference `json:"manipulated"`
}

type Procedure struct {
	ResourceType      string            `json:"resourceType"`
	ID                string            `json:"id"`
	Identifier        []Identifier      `json:"identifier"`
	Status            string            `json:"status"`
	StatusReason      *CodeableConcept  `json:"statusReason,omitempty"`
	Code              CodeableConcept   `json:"code"`
	Subject           Reference         `json:"subject"`
	PerformedDateTime string            `json:"performedDateTime,omitempty"`
	PerformedPeriod   *Period           `json:"performedPeriod,omitempty"`
	Performer         []Performer       `json:"performer,omitempty"`
	Outcome           *CodeableConcept  `json:"outcome,omitempty"`
	Note              []Annotation      `json:"note,omitempty"`
	FocalDevice       []FocalDevice     `json:"focalDevice,omitempty"`
	UsedCode          []CodeableConcept `json:"usedCode,omitempty"`
}

type Dosage struct {
	Text         string           `json:"text,omitempty"`
	Route        *CodeableConcept `json:"route,omitempty"`
	Dose         *Quantity        `json:"dose,omitempty"`
	RateRatio    *Ratio           `json:"rateRatio,omitempty"`
	RateQuantity *Quantity        `json:"rateQuantity,omitempty"`
}

type MedicationAdministration struct {
	ResourceType        string            `json:"resourceType"`
	ID                  string            `json:"id"`
	Identifier          []Identifier      `json:"identifier"`
	PartOf              []Reference       `json:"partOf"`
	Status              string            `json:"status"`
	StatusReason        []CodeableConcept `json:"statusReason,omitempty"`
	MedicationReference Reference         `json:"medicationReference"`
	Subject             Reference         `json:"subject"`
	EffectiveDateTime   string            `json:"effectiveDateTime"`
	Performer           []Performer       `json:"performer,omitempty"`
	Device              []Reference       `json:"device,omitempty"`
	Note                []Annotation      `json:"note,omitempty"`
	Dosage              *Dosage           `json:"dosage,omitempty"`
}

type Ingredient struct {
	ItemCodeableConcept *CodeableConcept `json:"itemCodeableConcept,omitempty"`
	ItemReference       *Reference       `json:"itemReference,omitempty"`
	IsActive            *bool            `json:"isActive,omitempty"`
	Strength            *Ratio           `json:"strength,omitempty"`
}

type Batch struct {
	LotNumber      string `json:"lotNumber,omitempty"`
	ExpirationDate string `json:"expirationDate,omitempty"`
}

type Medication struct {
	ResourceType string          `json:"resourceType"`
	ID           string          `json:"id"`
	Code         CodeableConcept `json:"code"`
	Amount       *Ratio          `json:"amount,omitempty"`
	Ingredient   []Ingredient    `json:"ingredient,omitempty"`
	Batch        *Batch          `json:"batch,omitempty"`
}

type Condition struct {
	ResourceType       string            `json:"resourceType"`
	ID                 string            `json:"id"`
	Identifier         []Identifier      `json:"identifier"`
	ClinicalStatus     *CodeableConcept  `json:"clinicalStatus,omitempty"` // absent when entered-in-error (con-5)
	VerificationStatus CodeableConcept   `json:"verificationStatus"`
	Category           []CodeableConcept `json:"category"`
	Code               CodeableConcept   `json:"code"`
	Subject            Reference         `json:"subject"`
	OnsetDateTime      string            `json:"onsetDateTime,omitempty"`
	RecordedDate       string            `json:"recordedDate,omitempty"`
	Asserter           *Reference        `json:"asserter,omitempty"`
	Note               []Annotation      `json:"note,omitempty"`
}

type ConsentProvision struct {
	Type string            `json:"type"`
	Code []CodeableConcept `json:"code,omitempty"`
}

type Consent struct {
	ResourceType     string            `json:"resourceType"`
	ID               string            `json:"id"`
	Identifier       []Identifier      `json:"identifier"`
	Status           string            `json:"status"`
	Scope            CodeableConcept   `json:"scope"`
	Category         []CodeableConcept `json:"category"`
	Patient          Reference         `json:"patient"`
	DateTime         string            `json:"dateTime,omitempty"`
	Performer        []Reference       `json:"performer,omitempty"`
	SourceAttachment *Attachment       `json:"sourceAttachment,omitempty"`
	PolicyRule       CodeableConcept   `json:"policyRule"`
	Provision        *ConsentProvision `json:"provision,omitempty"`
}

type CoverageClass struct {
	Type  CodeableConcept `json:"type"`
	Value string          `json:"value"`
	Name  string          `json:"name,omitempty"`
}

type Coverage struct {
	ResourceType string          `json:"resourceType"`
	ID           string          `json:"id"`
	Identifier   []Identifier    `json:"identifier"`
	Status       string          `json:"status"`
	Subscriber   *Reference      `json:"subscriber,omitempty"`
	SubscriberID string          `json:"subscriberId,omitempty"`
	Beneficiary  Reference       `json:"beneficiary"`
	Relationship CodeableConcept `json:"relationship"`
	Period       *Period         `json:"period,omitempty"`
	Payor        []Reference     `json:"payor"`
	Class        []CoverageClass `json:"class,omitempty"`
	Order        int             `json:"order,omitempty"`
}

// RelatedPerson is the subscriber of a coverage the patient is a
// dependent on.
type RelatedPerson struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id"`
	Patient      Reference         `json:"patient"`
	Relationship []CodeableConcept `json:"relationship,omitempty"`
	Name         []HumanName       `json:"name"`
	Gender       string            `json:"gender,omitempty"`
	BirthDate    string            `json:"birthDate,omitempty"`
	Address      []Address         `json:"address,omitempty"`
}

// MedicationStatement is a drug therapy tried before the pump.
type MedicationStatement struct {
	ResourceType              string            `json:"resourceType"`
	ID                        string            `json:"id"`
	Identifier                []Identifier      `json:"identifier"`
	Status                    string            `json:"status"`
	StatusReason              []CodeableConcept `json:"statusReason,omitempty"`
	MedicationCodeableConcept CodeableConcept   `json:"medicationCodeableConcept"`
	Subject                   Reference         `json:"subject"`
	EffectivePeriod           *Period           `json:"effectivePeriod,omitempty"`
	Note                      []Annotation      `json:"note,omitempty"`
}

type ObservationComponent struct {
	Code        CodeableConcept `json:"code"`
	ValueString string          `json:"valueString,omitempty"`
}

type Observation struct {
	ResourceType      string                 `json:"resourceType"`
	ID                string                 `json:"id"`
	Identifier        []Identifier           `json:"identifier"`
	Status            string                 `json:"status"`
	Category          []CodeableConcept      `json:"category,omitempty"`
	Code              CodeableConcept        `json:"code"`
	Subject           Reference              `json:"subject"`
	Focus             []Reference            `json:"focus,omitempty"`
	EffectiveDateTime string                 `json:"effectiveDateTime,omitempty"`
	Performer         []Reference            `json:"performer,omitempty"`
	ValueQuantity     *Quantity              `json:"valueQuantity,omitempty"`
	ValueString       string                 `json:"valueString,omitempty"`
	ValueInteger      *int                   `json:"valueInteger,omitempty"`
	Note              []Annotation           `json:"note,omitempty"`
	Component         []ObservationComponent `json:"component,omitempty"`
}

type Adjudication struct {
	Category CodeableConcept `json:"category"`
	Value    json.Number     `json:"value,omitempty"`
}

type ClaimResponseItem struct {
	ProductOrService CodeableConcept `json:"productOrService"`
	Quantity         *Quantity       `json:"quantity,omitempty"`
	Adjudication     []Adjudication  `json:"adjudication"`
}

type ProcessNote struct {
	Text string `json:"text"`
}

// ClaimResponse is a payer's answer to a prior authorization request.
type ClaimResponse struct {
	ResourceType  string              `json:"resourceType"`
	ID            string              `json:"id"`
	Identifier    []Identifier        `json:"identifier"`
	Status        string              `json:"status"`
	Type          CodeableConcept     `json:"type"`
	Use           string              `json:"use"`
	Patient       Reference           `json:"patient"`
	Created       string              `json:"created"`
	Insurer       Reference           `json:"insurer"`
	Outcome       string              `json:"outcome"`
	Disposition   string              `json:"disposition,omitempty"`
	PreAuthRef    string              `json:"preAuthRef,omitempty"`
	PreAuthPeriod *Period             `json:"preAuthPeriod,omitempty"`
	AddItem       []ClaimResponseItem `json:"addItem,omitempty"`
	ProcessNote   []ProcessNote       `json:"processNote,omitempty"`
}

type Practitioner struct {
	ResourceType string      `json:"resourceType"`
	ID           string      `json:"id"`
	Name         []HumanName `json:"name"`
}

type Organization struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id"`
	Identifier   []Identifier      `json:"identifier"`
	Type         []CodeableConcept `json:"type"`
	Name         string            `json:"name"`
}
