// The refill and dose-change forms: build the entry's JSON from the form,
// ask the server for a preview at each change (POST ...?dry_run=1: every
// figure is the server's, none computed here), require each warning to be
// acknowledged, and save. Errors are shown beside the field they name.
"use strict";

(() => {
  const form = document.querySelector("form.entry");
  if (!form) return;
  const kind = form.dataset.kind; // "refill" or "reprogram"
  const prefill = JSON.parse(form.dataset.prefill || "{}");
  const correcting = form.dataset.correct || "";
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs = {}, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "text") e.textContent = v;
      else e.setAttribute(k, v);
    }
    for (const k of kids) e.append(k);
    return e;
  };
  const str = (v) => (v === undefined || v === null ? "" : String(v).trim());

  // The date and time as typed, with this device's UTC offset at that time.
  const instant = (local) => {
    if (!local) return "";
    const d = new Date(local);
    if (isNaN(d)) return local;
    const off = -d.getTimezoneOffset();
    const pad = (n) => String(Math.floor(Math.abs(n))).padStart(2, "0");
    const secs = local.length === 16 ? ":00" : "";
    return local + secs + (off >= 0 ? "+" : "-") + pad(off / 60) + ":" + pad(off % 60);
  };
  const localNow = (iso) => {
    const d = iso ? new Date(iso) : new Date();
    d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
    return d.toISOString().slice(0, 16);
  };
  const localOf = (inst) => (inst ? String(inst).slice(0, 16) : "");

  // Solution rows (drug, concentration) and container rows.
  const drugOptions = $("drug-options");
  const ndcOptions = $("ndc-options");
  let rowSeq = 0;
  const solutionRow = (drug, conc) => {
    const n = ++rowSeq;
    const sel = el("select", { id: "sol-drug-" + n, class: "sol-drug" });
    sel.innerHTML = drugOptions.innerHTML;
    if (drug) sel.value = drug;
    const c = el("input", { id: "sol-conc-" + n, class: "sol-conc", inputmode: "decimal", value: str(conc) });
    const row = el("div", { class: "row" },
      el("label", { for: sel.id, text: "Drug" }), sel,
      el("label", { for: c.id, text: "Concentration (mcg/mL)" }), c);
    $("solution").append(row);
  };
  const vialRow = (v = {}) => {
    const n = ++rowSeq;
    const sel = el("select", { id: "vial-ndc-" + n, class: "vial-ndc" });
    sel.innerHTML = ndcOptions.innerHTML;
    if (v.ndc) {
      if (![...sel.options].some((o) => o.value === v.ndc)) sel.append(el("option", { value: v.ndc, text: v.ndc }));
      sel.value = v.ndc;
    }
    const count = el("input", { id: "vial-count-" + n, class: "vial-count", inputmode: "numeric", value: str(v.count || 1) });
    const lot = el("input", { id: "vial-lot-" + n, class: "vial-lot", value: str(v.lot) });
    const exp = el("input", { id: "vial-exp-" + n, class: "vial-exp", type: "date", value: str(v.expires) });
    const rm = el("button", { type: "button", class: "secondary remove", "aria-label": "Remove this container line", text: "Remove" });
    const row = el("div", { class: "row vial" },
      el("label", { for: sel.id, text: "NDC" }), sel,
      el("label", { for: count.id, text: "Count" }), count,
      el("label", { for: lot.id, text: "Lot" }), lot,
      el("label", { for: exp.id, text: "Expires" }), exp, rm);
    rm.addEventListener("click", () => { row.remove(); changed(); });
    $("vials").append(row);
    return row;
  };

  // The entry as the server reads it (SPEC §7): numbers as typed, in text,
  // so nothing passes through floating point.
  const build = (acks) => {
    const dose = { drug: $("dose_drug").value, mcg_per_day: str($("dose_mcg").value) };
    const common = {
      id: prefill.id, mrn: prefill.mrn, pump_serial: prefill.pump_serial,
      performed_at: instant($("performed_at").value),
      dose, procedure: $("procedure").value,
    };
    const note = str($("note").value);
    if (note) common.note = note;
    if (acks && acks.length) common.acknowledged = acks;
    if (kind === "reprogram") return { ...common, clinician: prefill.nurse };
    const r = {
      ...common, nurse: prefill.nurse,
      residual_ml: str($("residual_ml").value), fill_ml: str($("fill_ml").value),
      rinse_ml: str($("rinse_ml").value) || "0", diluent_ml: str($("diluent_ml").value) || "0",
      solution: [...document.querySelectorAll("#solution .row")].map((row) => ({
        drug: row.querySelector(".sol-drug").value, mcg_per_ml: str(row.querySelector(".sol-conc").value) })),
      vials: [...document.querySelectorAll("#vials .row")].map((row) => {
        const v = { ndc: row.querySelector(".vial-ndc").value, count: str(row.querySelector(".vial-count").value) };
        const lot = str(row.querySelector(".vial-lot").value), exp = str(row.querySelector(".vial-exp").value);
        if (lot) v.lot = lot;
        if (exp) v.expires = exp;
        return v;
      }),
    };
    if (prefill.diluent) r.diluent = prefill.diluent;
    const witness = str($("witness_name").value);
    if (witness && !acks) r.witness = witness; // the preview names them; the save signs
    return r;
  };

  // Errors beside their field: the server names the field ("fill_ml",
  // "solution[0].mcg_per_ml", "vials[1].lot"); its box is err-<field>.
  const errorBoxes = () => document.querySelectorAll(".field-error");
  const clearErrors = () => {
    errorBoxes().forEach((b) => (b.textContent = ""));
    document.querySelectorAll("[aria-invalid]").forEach((i) => i.removeAttribute("aria-invalid"));
  };
  const boxFor = (field) => {
    const f = field || "";
    const base = f.replace(/\[.*$/, "").replace(/\..*$/, "");
    const map = { dose: "err-dose", solution: "err-solution", vials: "err-vials", witness: "err-witness", acknowledged: "err-form", mrn: "err-form", pump_serial: "err-form", nurse: "err-form", clinician: "err-form", id: "err-form", text: "err-scan" };
    return $(map[base] || "err-" + base) || $("err-form");
  };
  const showError = (e) => {
    const box = boxFor(e.field);
    box.textContent = e.message;
    const input = $(e.field) || (box.id && document.querySelector(`[aria-describedby~="${box.id}"]`));
    if (input && input.setAttribute) input.setAttribute("aria-invalid", "true");
  };

  // The preview.
  const acked = new Set();
  let warnings = [];
  // On a phone the preview is below the form: a bar at the foot of the
  // screen says what it shows and links to it (hidden on wider screens,
  // where the preview stands beside the form).
  const summary = el("a", { id: "preview-summary", class: "summary", href: "#preview" });
  form.append(summary);
  let figures = "";
  const updateSummary = (status) => {
    const missing = warnings.filter((w) => !acked.has(w)).length;
    const parts = [status || figures];
    if (!status && warnings.length) parts.push(missing ? missing + " of " + warnings.length + " warnings to acknowledge" : warnings.length + " warnings acknowledged");
    summary.textContent = parts.filter(Boolean).join(" · ") + " · see the preview";
  };
  const renderPreview = (rec) => {
    const body = $("preview-body");
    body.replaceChildren();
    if (kind === "reprogram") {
      body.append(el("p", {}, "Next refill due: ", el("strong", { text: rec.next_refill_due || "–" }), rec.next_refill_reason ? " (" + rec.next_refill_reason + ")" : ""));
      figures = "Next refill " + (rec.next_refill_due || "–");
      setWarnings(rec.warnings || []);
      return;
    }
    figures = (rec.drugs || []).map((d) => d.drug + " " + d.dispensed_mcg + " mcg in, " + d.waste_mcg + " wasted").join("; ");
    const t = el("table", { class: "list" });
    t.append(el("thead", {}, el("tr", {}, ...["Drug", "Dispensed mcg", "Waste mcg", "Units", "JW units"].map((h) => el("th", { scope: "col", text: h })))));
    const tb = el("tbody");
    for (const d of rec.drugs || []) {
      tb.append(el("tr", {}, ...[d.drug + " (" + d.code + ")", d.dispensed_mcg, d.waste_mcg, d.units, d.waste_units].map((v) => el("td", { text: String(v) }))));
    }
    t.append(tb);
    body.append(el("h3", { text: "What goes in, what is wasted" }), t);
    const iv = rec.interval;
    if (iv) {
      const p = el("p", { id: "interval" }, "Residual: expected ", el("strong", { text: iv.expected_residual_ml + " mL" }), ", aspirated ", el("strong", { text: iv.residual_ml + " mL" }),
        ", difference " + iv.discrepancy_ml + " mL (threshold " + iv.discrepancy_threshold_ml + " mL)");
      if (iv.discrepancy_flagged) p.append(" ", el("strong", { class: "tag bad", text: "flagged" }));
      body.append(el("h3", { text: "Since the last refill (" + iv.days + " days)" }), p);
    }
    body.append(el("p", { id: "next-due" }, "Next refill due: ", el("strong", { text: rec.next_refill_due || "–" }), rec.next_refill_reason ? " (" + rec.next_refill_reason + ")" : ""));
    const lt = el("table", { class: "list", id: "claim-lines" });
    lt.append(el("thead", {}, el("tr", {}, ...["Code", "Modifiers", "Units", "NDC", "What"].map((h) => el("th", { scope: "col", text: h })))));
    const lb = el("tbody");
    for (const l of rec.lines || []) {
      lb.append(el("tr", {}, ...[l.code, (l.modifiers || []).join(" "), l.units, l.ndc || "", l.description].map((v) => el("td", { text: String(v) }))));
    }
    lt.append(lb);
    body.append(el("h3", { text: "Claim lines" }), lt);
    const work = el("details", {}, el("summary", { text: "How each figure was computed" }), el("ol", {}, ...(rec.work || []).map((w) => el("li", { text: w }))));
    body.append(work);
    setWarnings(rec.warnings || []);
  };
  const setWarnings = (ws) => {
    warnings = ws;
    const box = $("acks");
    if (!box) {
      if (ws.length) $("preview-body").append(el("ul", { class: "warnings" }, ...ws.map((w) => el("li", { text: w }))));
      return;
    }
    const list = $("ack-list");
    list.replaceChildren();
    box.hidden = ws.length === 0;
    ws.forEach((w, i) => {
      const cb = el("input", { type: "checkbox", id: "ack-" + i, class: "ack" });
      cb.checked = acked.has(w);
      cb.addEventListener("change", () => { cb.checked ? acked.add(w) : acked.delete(w); updateSave(); });
      list.append(el("div", { class: "ack-row" }, cb, el("label", { for: cb.id, text: w })));
    });
    updateSave();
  };
  const updateSave = () => {
    const missing = warnings.filter((w) => !acked.has(w)).length;
    $("save").disabled = missing > 0;
    $("save").title = missing ? missing + " warnings to acknowledge" : "";
    updateSummary();
  };

  let timer = 0, seq = 0;
  const changed = () => {
    clearTimeout(timer);
    timer = setTimeout(preview, 250);
  };
  const post = (url, body) => fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), credentials: "same-origin" });
  const preview = async () => {
    const n = ++seq;
    $("preview").setAttribute("aria-busy", "true");
    // A correction previews the replacement as the correction records it.
    const url = kind === "reprogram" ? "/api/reprogram?dry_run=1" : correcting ? "/refill?dry_run=1" : "/api/refill?dry_run=1";
    const req = correcting ? { refill: build(), correct: correcting, reason: str($("reason").value) } : build();
    let res, body;
    try {
      res = await post(url, req);
      body = await res.json();
    } catch (e) {
      if (n === seq) $("preview-status").textContent = "The server did not answer; check the connection.";
      return;
    }
    if (n !== seq) return; // a later change is on its way
    $("preview").setAttribute("aria-busy", "false");
    clearErrors();
    if (res.status === 401) {
      $("preview-status").textContent = "Your session ended; sign in again (your entries stay in this form until you leave it).";
      return;
    }
    if (!res.ok) {
      $("preview-status").textContent = "Not yet valid: fix the field marked.";
      showError(body.error || { message: "The preview failed." });
      $("save").disabled = true;
      updateSummary("Not yet valid: " + ((body.error || {}).message || "fix the field marked"));
      return;
    }
    $("preview-status").textContent = "This is what saving will record.";
    renderPreview(body);
  };

  // Scanning: a keyboard-wedge scanner types the DataMatrix's text, then
  // Enter. Each scan is one container: a line of the same NDC and lot
  // counts up; else a line is filled or added.
  const scan = $("scan");
  if (scan) {
    scan.addEventListener("keydown", async (ev) => {
      if (ev.key !== "Enter") return;
      ev.preventDefault();
      const text = scan.value;
      if (!text.trim()) return;
      $("err-scan").textContent = "";
      const res = await post("/api/scan", { text });
      const body = await res.json();
      if (!res.ok) {
        showError({ field: "scan", message: (body.error || {}).message || "The scan could not be read." });
        return;
      }
      const v = body.vial;
      const rows = [...document.querySelectorAll("#vials .row")];
      const same = rows.find((r) => r.querySelector(".vial-ndc").value === v.ndc && str(r.querySelector(".vial-lot").value) === v.lot);
      const blank = rows.find((r) => r.querySelector(".vial-ndc").value === v.ndc && !str(r.querySelector(".vial-lot").value));
      if (same) {
        const c = same.querySelector(".vial-count");
        c.value = String((parseInt(c.value, 10) || 0) + 1);
      } else if (blank) { // a planned line: the first scan sets its lot
        blank.querySelector(".vial-lot").value = v.lot || "";
        blank.querySelector(".vial-exp").value = v.expires || "";
        blank.querySelector(".vial-count").value = "1";
      } else {
        vialRow(v);
      }
      $("scan-note").textContent = "Scanned NDC " + v.ndc + (v.lot ? ", lot " + v.lot : "") + (v.expires ? ", expires " + v.expires : "") + ".";
      scan.value = "";
      changed();
    });
  }

  // The least-waste plan of the fill, offered (one drug: the plan is per drug).
  const planBox = $("plan");
  const offerPlan = async () => {
    if (!planBox) return;
    const rows = document.querySelectorAll("#solution .row");
    const fill = str($("fill_ml").value), rinse = str($("rinse_ml").value) || "0";
    if (rows.length !== 1 || !fill) { planBox.replaceChildren(); return; }
    const drug = rows[0].querySelector(".sol-drug").value, conc = str(rows[0].querySelector(".sol-conc").value);
    const q = new URLSearchParams({ drug, mcg_per_ml: conc, fill_ml: fill, rinse_ml: rinse });
    const res = await fetch("/api/plan?" + q, { credentials: "same-origin" });
    const body = await res.json();
    if (!res.ok) { planBox.replaceChildren(el("p", { class: "note", text: "No plan: " + ((body.error || {}).message || "") })); return; }
    const items = (body.vials || []).map((v) => v.count + " × NDC " + v.ndc).join(" + ");
    const use = el("button", { type: "button", class: "secondary", id: "use-plan", text: "Use this plan" });
    use.addEventListener("click", () => {
      $("vials").replaceChildren();
      for (const v of body.vials || []) vialRow({ ndc: v.ndc, count: v.count });
      if ($("diluent_ml")) $("diluent_ml").value = body.diluent_ml;
      changed();
    });
    planBox.replaceChildren(el("p", {}, "Least-waste plan: ", el("strong", { text: items }), " (opens " + body.opened_mcg + " mcg, discards " + body.waste_mcg + " mcg; diluent " + body.diluent_ml + " mL). "), use);
    if (body.label_note) planBox.append(el("p", { class: "note", text: body.label_note }));
  };

  // Saving.
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors();
    const acks = warnings.filter((w) => acked.has(w));
    let res, body;
    if (kind === "reprogram") {
      res = await post("/reprogram", build(acks));
    } else {
      const req = { refill: build(acks), witness: { name: str($("witness_name").value), password: $("witness_password").value } };
      if (correcting) { req.correct = correcting; req.reason = str($("reason").value); }
      res = await post("/refill", req);
    }
    body = await res.json();
    $("witness_password") && ($("witness_password").value = "");
    if (res.status === 409 && body.warnings) {
      setWarnings([...new Set([...warnings, ...body.warnings])]);
      showError(body.error);
      return;
    }
    if (!res.ok) {
      showError(body.error || { message: "Not saved." });
      return;
    }
    location.assign(kind === "reprogram" ? body.patient : body.record);
  });

  // Start from the pump's state.
  $("performed_at").value = localOf(prefill.performed_at) || localNow(prefill.now);
  // A refill starts at the last fill's code; a dose change at the code of
  // a dose change between refills, not the last fill's (95990 or 62369).
  const procedure = kind === "reprogram" ? prefill.dose_change_procedure : prefill.procedure;
  if (procedure && [...$("procedure").options].some((o) => o.value === procedure)) $("procedure").value = procedure;
  if (prefill.dose) { $("dose_drug").value = prefill.dose.drug; $("dose_mcg").value = str(prefill.dose.mcg_per_day); }
  if (prefill.note) $("note").value = prefill.note;
  if (kind === "refill") {
    for (const s of prefill.solution || [{}]) solutionRow(s.drug, s.mcg_per_ml);
    for (const v of prefill.vials || []) vialRow(v);
    for (const f of ["residual_ml", "fill_ml", "rinse_ml", "diluent_ml"]) if (prefill[f] !== undefined) $(f).value = str(prefill[f]);
    $("add-vial").addEventListener("click", () => { vialRow().querySelector("select").focus(); changed(); });
    for (const f of ["fill_ml", "rinse_ml"]) $(f).addEventListener("input", offerPlan);
    $("solution").addEventListener("input", offerPlan);
    offerPlan();
  }
  form.addEventListener("input", (ev) => { if (ev.target.id !== "scan" && ev.target.id !== "witness_password") changed(); });
  form.addEventListener("change", (ev) => { if (ev.target.id !== "scan" && !ev.target.classList.contains("ack")) changed(); });
  updateSave();
  preview();
})();
