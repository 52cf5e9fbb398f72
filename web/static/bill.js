// The bill page's "Submit these claims" (no inline script: the policy
// forbids it). The server records the claims as sent, then answers the
// 837P itself: the page saves it as a download and shows the range again
// in place (no navigation that could cut the download short), the claims
// now among those sent. Without script the form still posts and the file
// downloads; the page then needs a reload.
document.addEventListener("submit", async (ev) => {
  const form = ev.target;
  if (form.id !== "submit-claims") return;
  ev.preventDefault();
  const button = form.querySelector("button");
  const why = document.getElementById("submit-error");
  button.disabled = true;
  why.hidden = true;
  try {
    const r = await fetch(form.action, { method: "POST", body: new URLSearchParams(new FormData(form)) });
    if (!r.ok) {
      // A refusal is the bill page again, its reason at the top.
      const doc = new DOMParser().parseFromString(await r.text(), "text/html");
      why.textContent = doc.querySelector('[role="alert"]')?.textContent || `The claims were not sent (${r.status}).`;
      why.hidden = false;
      button.disabled = false;
      return;
    }
    const file = await r.blob();
    const a = document.createElement("a");
    a.href = URL.createObjectURL(file);
    a.download = /filename="([^"]+)"/.exec(r.headers.get("Content-Disposition") || "")?.[1] || "claims.837p";
    document.body.append(a);
    a.click();
    a.remove();
    const next = new URL("/bill", location.href);
    for (const [k, v] of new FormData(form)) if (v) next.searchParams.set(k, v);
    next.searchParams.set("sent", r.headers.get("X-Pumpledger-Interchange") || "");
    const page = new DOMParser().parseFromString(await (await fetch(next)).text(), "text/html");
    document.getElementById("main").replaceWith(page.getElementById("main"));
    history.replaceState(null, "", next);
  } catch (e) {
    why.textContent = "The server did not answer; reload the page: its claims sent show whether they were recorded.";
    why.hidden = false;
    button.disabled = false;
  }
});
