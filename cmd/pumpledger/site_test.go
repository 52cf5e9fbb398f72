package main

import (
	"strings"
	"testing"
)

const siteJSON = `{"name":"Riverside Pain Associates","npi":"1234567893","tax_id":"12-3456789","taxonomy":"208VP0014X",
	"address":{"line1":"100 Main St","city":"Columbus","state":"OH","postal_code":"43215-1001"},
	"submitter_id":"RIVERSIDE01","contact":"Billing Office","phone":"614-555-0100","receiver_id":"CLEARHOUSE","receiver_name":"Example Clearinghouse",
	"payers":{"medicare-part-b":{"id":"15202","name":"CGS Medicare B"}},
	"fees":{"effective":"2026-01-01","charges":{"95990":"180.00","J2278":"9.50"}}}`

// site set records the practice; a wrong NPI is refused in one sentence,
// exit 1, nothing written.
func TestSiteSet(t *testing.T) {
	c := newCLI(t)
	before := c.ok("", "checkpoint")
	code, out, errs := c.run(strings.Replace(siteJSON, "1234567893", "1234567839", 1), "site", "set", "--file", "-")
	if want := "pumpledger: npi 1234567839 fails the NPI check digit; check it against NPPES, a digit is wrong or two are swapped.\n"; code != 1 || out != "" || errs != want {
		t.Errorf("a wrong NPI: exit %d, stdout %q, stderr %q; want 1 and %q", code, out, errs, want)
	}
	if after := c.ok("", "checkpoint"); after != before {
		t.Error("a refused site was written")
	}
	out = c.ok(siteJSON, "site", "set", "--file", "-")
	if !strings.HasPrefix(out, "Recorded the practice (entry ") || !strings.HasSuffix(out, "): Riverside Pain Associates, NPI 1234567893, fee schedule of 2 codes effective 2026-01-01.\n") {
		t.Errorf("site set printed %q", out)
	}
}
