// Presswork's web interface: small helpers and one init function per page.
// Every change goes through the /v1 API with the session cookie and the
// session's CSRF token; nothing is loaded from elsewhere.
"use strict";

const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

async function api(method, path, body, contentType) {
  const opts = { method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
  if (method !== "GET") opts.headers["X-CSRF-Token"] = csrf();
  if (body !== undefined) {
    opts.headers["Content-Type"] = contentType || "application/json";
    opts.body = contentType ? body : JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (res.status === 401) { location.href = "/ui/login"; throw new Error("signed out"); }
  if (!res.ok) {
    let msg = (data && (data.detail || data.title)) || ("HTTP " + res.status);
    if (data && data.errors) msg += ": " + data.errors.map(e => e.field + " " + e.problem).join("; ");
    const err = new Error(msg); err.data = data; throw err;
  }
  return data;
}

// webLink returns u as an http(s) address (absolute, or relative to base
// when given), else null. Links that came from elsewhere (a WordPress
// post's link) go through it: a hostile or broken site must not get a
// javascript: or data: link into the page.
function webLink(u, base) {
  if (typeof u !== "string") return null;
  try {
    const p = new URL(u, base);
    return p.protocol === "http:" || p.protocol === "https:" ? p.href : null;
  } catch { return null; }
}

// el builds an element; text children are text nodes, never HTML. An href
// or src that is not http(s) (after resolving a relative one against the
// page) is left out.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if ((k === "href" || k === "src") && !webLink(String(v), location.href)) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

function say(msg, isError) {
  const box = document.getElementById("messages");
  box.replaceChildren(el("p", { class: isError ? "error" : "notice", role: isError ? "alert" : null }, msg));
}

async function guard(fn) {
  try { return await fn(); } catch (e) { if (e.message !== "signed out") say(e.message, true); }
}

function fill(tableID, rows, render) {
  const tbody = document.querySelector("#" + tableID + " tbody");
  tbody.replaceChildren(...rows.map(render));
  const all = document.querySelector("#" + tableID + " .select-all");
  if (all) all.checked = false;
  if (!rows.length) {
    const cols = document.querySelectorAll("#" + tableID + " thead th").length;
    tbody.append(el("tr", {}, el("td", { colspan: cols, class: "empty" }, "Nothing here yet.")));
  }
  applyFilter(tableID);
}

// refill fills a table again keeping the rows selected (when keep): a
// reload that lands while the editor picks rows must not undo the picks.
function refill(tableID, rows, render, keep) {
  const picked = new Set(keep ? selected(tableID) : []);
  fill(tableID, rows, render);
  for (const c of document.querySelectorAll("#" + tableID + " .row-select")) if (picked.has(Number(c.value))) c.checked = true;
}

// A table shows pageRows rows at a time: the rows its filter keeps, a page
// of them, with a pager below when there is more than one page.
const pageRows = 50;
const pageOf = {}; // table id -> the page shown, from 0

function applyFilter(tableID) {
  const input = document.querySelector('[data-filter="' + tableID + '"]');
  const q = input ? input.value.trim().toLowerCase() : "";
  const kept = [];
  for (const tr of document.querySelectorAll("#" + tableID + " tbody tr")) {
    tr.hidden = q !== "" && !tr.textContent.toLowerCase().includes(q);
    if (!tr.hidden) kept.push(tr);
  }
  const pages = Math.max(1, Math.ceil(kept.length / pageRows));
  const p = Math.min(pageOf[tableID] || 0, pages - 1);
  pageOf[tableID] = p;
  kept.forEach((tr, i) => { if (i < p * pageRows || i >= (p + 1) * pageRows) tr.hidden = true; });
  pager(tableID, p, pages, kept.length);
}

// pager shows (or hides, for one page) the page buttons below a table.
function pager(tableID, p, pages, rows) {
  const table = document.getElementById(tableID);
  if (!table) return;
  let nav = document.querySelector('.pager[data-table="' + tableID + '"]');
  if (!nav) {
    nav = el("div", { class: "pager", "data-table": tableID });
    (table.closest(".scroll") || table).after(nav);
  }
  nav.hidden = pages <= 1;
  const go = to => () => { pageOf[tableID] = to; applyFilter(tableID); };
  nav.replaceChildren(el("button", { type: "button", class: "page-prev", disabled: p === 0, onclick: go(p - 1) }, "Previous"),
    " Page " + (p + 1) + " of " + pages + " (" + rows + " rows) ",
    el("button", { type: "button", class: "page-next", disabled: p >= pages - 1, onclick: go(p + 1) }, "Next"));
}

function selectBox(id, label) {
  return el("td", {}, el("input", { type: "checkbox", class: "row-select", value: id, "aria-label": "Select " + label }));
}

function selected(tableID) {
  return [...document.querySelectorAll("#" + tableID + " tbody tr:not([hidden]) .row-select:checked")].map(c => Number(c.value));
}

function fmtTime(t) { return t ? new Date(t).toLocaleString() : ""; }

// runLine describes one automation run record: a folded record stands for
// `count` slots skipped alike, a missed one for the slots an outage left.
function runLine(x) {
  const times = x.count > 1 ? " (" + x.count + " slots, the last " + fmtTime(x.last_scheduled_for) + ")" : "";
  if (x.status === "missed") return fmtTime(x.scheduled_for) + " · missed" + times + " · " + ((x.skipped || [])[0] || {}).reason;
  return fmtTime(x.fired_at) + " · " + x.status + times + " · " + x.credits_quoted + " credits quoted" +
    ((x.skipped || []).length ? " · skipped: " + x.skipped.map(s => s.reason || JSON.stringify(s)).join("; ") : "");
}

async function listAll(path) {
  const sep = path.includes("?") ? "&" : "?";
  let items = [], after = "";
  for (let i = 0; i < 20; i++) {
    const page = await api("GET", path + sep + "limit=500" + (after ? "&after=" + encodeURIComponent(after) : ""));
    items = items.concat(page.items || []);
    if (!page.next_after) break;
    after = page.next_after;
  }
  return items;
}

// The page's one event stream: it follows the batches and jobs whose bars
// are shown (GET /v1/events?batch=&job=, batch.progress and job.progress),
// is reopened when a bar is added and closed when none is left.
const watching = new Map(); // "batch:<id>" or "job:<id>" -> update(progress)
let progressStream = null;

function followProgress() {
  if (progressStream) { progressStream.close(); progressStream = null; }
  if (!watching.size) return;
  const q = new URLSearchParams();
  for (const key of watching.keys()) {
    const at = key.indexOf(":");
    q.append(key.slice(0, at), key.slice(at + 1));
  }
  progressStream = new EventSource("/v1/events?" + q);
  const update = ev => {
    const p = JSON.parse(ev.data);
    const f = watching.get(p.kind + ":" + p.id);
    if (f) f(p);
  };
  progressStream.addEventListener("batch.progress", update);
  progressStream.addEventListener("job.progress", update);
}

function unwatch(key) {
  watching.delete(key);
  if (!watching.size && progressStream) { progressStream.close(); progressStream = null; }
}

// track shows a progress bar for the work an accepted request queued and
// moves it as the event stream reports progress (a browser without
// EventSource polls), until every job has finished; then calls done.
function track(label, accepted, done) {
  const box = document.getElementById("batches");
  const jobs = accepted.jobs || [];
  const bar = el("progress", { max: 100, value: 0, "aria-label": label });
  const text = el("span", { class: "progress-text" }, "queued");
  const item = el("div", { class: "batch", "data-state": "running" }, el("strong", {}, label + " "), bar, " ", text);
  box.prepend(item);
  if (!jobs.length) {
    const held = (accepted.held_for_review || []).length;
    text.textContent = held ? held + " held for review" : "nothing to do (already queued or done)";
    item.dataset.state = "done";
    bar.value = 100;
    if (done) done();
    return;
  }
  // show draws the bar and reports whether the work has finished.
  const show = (total, finished, failed, error) => {
    const pct = total ? Math.round(100 * finished / total) : 100;
    bar.value = pct;
    text.textContent = finished + " / " + total + " done (" + pct + "%)" + (failed ? ", " + failed + " failed" : "");
    if (error) text.title = error;
    if (finished < total) return false;
    item.dataset.state = failed ? "failed" : "done";
    if (done) done();
    return true;
  };
  const key = accepted.batch_id ? "batch:" + accepted.batch_id : "job:" + jobs[0].id;
  if (window.EventSource) {
    watching.set(key, p => { if (show(p.total, p.done, p.failed, p.error)) unwatch(key); });
    followProgress();
    return;
  }
  const final = s => ["succeeded", "failed", "canceled"].includes(s);
  const poll = async () => {
    try {
      if (accepted.batch_id) {
        const b = await api("GET", "/v1/batches/" + accepted.batch_id);
        if (show(b.total, b.done, (b.by_state && b.by_state.failed) || 0)) return;
      } else {
        const j = await api("GET", "/v1/jobs/" + jobs[0].id);
        if (show(1, final(j.state) ? 1 : 0, j.state === "failed" ? 1 : 0, j.error)) return;
      }
    } catch (e) { text.textContent = e.message; }
    setTimeout(poll, 1000);
  };
  poll();
}

async function run(label, method, path, body, done) {
  return guard(async () => {
    const acc = await api(method, path, body);
    if (acc && acc.held_for_review && acc.held_for_review.length) say(acc.held_for_review.length + " draft(s) wait for review: approve them to publish.");
    track(label, acc || {}, done);
  });
}

function healthBadge(h) { return el("span", { class: "badge " + h }, h); }

// profileForm runs the content profile form (#22) of the page, if it has
// one: it shows the fields set at this level and the effective profile, and
// saves with PUT (an empty field or "default" is left unset, so it comes
// from the tenant's defaults or the built-in ones).
function profileForm() {
  const form = document.getElementById("profile-form");
  if (!form) return;
  const path = form.dataset.path;
  const field = name => form.querySelector('[data-field="' + name + '"]');
  const avoid = document.getElementById("profile-avoid");
  const effective = document.getElementById("profile-effective");
  const show = ans => {
    const p = ans.profile || {};
    for (const name of ["language", "voice", "audience", "point_of_view"]) field(name).value = p[name] || "";
    avoid.value = (p.avoid || []).join("\n");
    for (const input of form.querySelectorAll(".word-target")) input.value = (p.word_targets || {})[input.dataset.type] || "";
    for (const sel of form.querySelectorAll(".profile-flag")) { const v = p[sel.dataset.field]; sel.value = v === undefined || v === null ? "" : String(v); }
    const e = ans.effective;
    const targets = Object.entries(e.word_targets || {}).map(([t, n]) => t + " " + n).join(", ");
    const sections = ["faq", "table_of_contents", "key_takeaways"].filter(k => e[k]).map(k => k.replace(/_/g, " ")).join(", ");
    effective.textContent = "In effect: " + [
      "language " + (e.language || "of the keywords"),
      e.voice ? "voice “" + e.voice + "”" : null,
      e.audience ? "audience “" + e.audience + "”" : null,
      e.point_of_view ? e.point_of_view.replace(/_/g, " ") : null,
      e.avoid && e.avoid.length ? "avoid " + e.avoid.join(", ") : null,
      "word targets " + (targets || "none (the prompt's usual length)"),
      "sections " + (sections || "none added"),
    ].filter(Boolean).join("; ") + ".";
  };
  guard(async () => show(await api("GET", path)));
  form.addEventListener("submit", ev => {
    ev.preventDefault();
    guard(async () => {
      const body = {};
      for (const name of ["language", "voice", "audience", "point_of_view"]) {
        const v = field(name).value.trim();
        if (v !== "") body[name] = v;
      }
      const lines = avoid.value.split("\n").map(l => l.trim()).filter(Boolean);
      if (lines.length) body.avoid = lines;
      const targets = {};
      for (const input of form.querySelectorAll(".word-target")) if (input.value !== "") targets[input.dataset.type] = Number(input.value);
      if (Object.keys(targets).length) body.word_targets = targets;
      for (const sel of form.querySelectorAll(".profile-flag")) if (sel.value !== "") body[sel.dataset.field] = sel.value === "true";
      show(await api("PUT", path, body));
      say("Profile saved.");
    });
  });
}

const pages = {
  async sites() {
    const load = () => guard(async () => {
      const sites = await listAll("/v1/sites");
      fill("sites-table", sites, s => el("tr", {},
        el("td", {}, el("a", { href: "/ui/sites/" + s.id }, s.name)),
        el("td", {}, s.url), el("td", {}, healthBadge(s.health)), el("td", {}, s.health_reason || "", s.health_code ? el("code", { class: "error-code" }, " " + s.health_code) : null),
        el("td", {}, el("button", { type: "button", onclick: () => run("Check " + s.name, "POST", "/v1/sites/" + s.id + "/check", undefined, load) }, "Check connection"))));
    });
    const form = document.getElementById("add-site");
    if (form) form.addEventListener("submit", ev => {
      ev.preventDefault();
      guard(async () => {
        const body = Object.fromEntries(new FormData(form));
        body.require_review = document.getElementById("site-review").checked;
        const s = await api("POST", "/v1/sites", body);
        form.reset(); say("Site " + s.name + " added."); load();
      });
    });
    load();
  },

  async site(id) {
    profileForm();
    const withoutDraft = document.getElementById("ideas-without-draft");
    const status = document.getElementById("draft-status");
    // A cluster the model could not name carries its main keyword as a
    // name: say so, and let the editor rename any cluster in place.
    const clusterNameCell = c => {
      const td = el("td", {}, c.name, " ",
        c.name_source === "fallback" ? el("span", { class: "badge fallback", title: "The AI gave no usable name; this is the cluster's main keyword." }, "unnamed") : null, " ");
      const rename = () => {
        const input = el("input", { type: "text", class: "rename-input", value: c.name, maxlength: 80, "aria-label": "New name of " + c.name });
        const save = () => guard(async () => { await api("PATCH", "/v1/clusters/" + c.id, { name: input.value }); say("Renamed."); loadClusters(); });
        td.replaceChildren(input, " ", el("button", { type: "button", class: "rename-save", onclick: save }, "Save"));
        input.focus();
      };
      td.append(el("button", { type: "button", class: "rename", "aria-label": "Rename " + c.name, onclick: rename }, "Rename"));
      return td;
    };
    // Cluster editing (#21): open a cluster to see its keywords with volume
    // and intent, split some off, move them to another cluster or drop
    // them; assign unclustered keywords; merge selected clusters; lock a
    // cluster against automatic clustering (its editor can still edit it).
    const canEdit = !!document.getElementById("merge-clusters");
    // loading counts the cluster loads in flight on body[data-loading],
    // so a test (or a style) can tell when the tables are settled.
    let loads = 0;
    const loading = fn => async () => {
      document.body.dataset.loading = ++loads;
      try { return await fn(); } finally { document.body.dataset.loading = --loads; }
    };
    let clusters = [], openID = null;
    const keywordRow = k => el("tr", {}, selectBox(k.id, k.phrase), el("td", {}, k.phrase, k.outlier ? " " : null, k.outlier ? el("span", { class: "badge fallback", title: "Clustering could not group it" }, "outlier") : null),
      el("td", {}, k.volume ?? ""), el("td", {}, k.intent || ""));
    const targets = (selectID, except) => {
      const sel = document.getElementById(selectID);
      if (sel) sel.replaceChildren(...clusters.filter(c => c.id !== except).map(c => el("option", { value: c.id }, c.name)));
    };
    const openCluster = cid => guard(loading(async () => {
      const c = clusters.find(x => x.id === cid);
      if (!c) { openID = null; document.getElementById("cluster-detail").hidden = true; return; }
      const same = openID === cid;
      openID = cid;
      document.getElementById("cluster-detail").hidden = false;
      document.getElementById("cluster-detail-h").textContent = "Keywords of " + c.name + (c.locked ? " (locked)" : "");
      const kws = await listAll("/v1/clusters/" + cid + "/keywords");
      refill("cluster-keywords", kws, keywordRow, same);
      targets("move-target", cid);
    }));
    const loadOutliers = () => guard(loading(async () => {
      refill("outliers-table", await listAll("/v1/sites/" + id + "/keywords?unclustered=true"), keywordRow, true);
    }));
    const lockBox = c => el("input", { type: "checkbox", class: "lock", checked: c.locked, disabled: !canEdit, "aria-label": "Lock " + c.name,
      onchange: ev => guard(async () => { await api("PATCH", "/v1/clusters/" + c.id, { locked: ev.target.checked }); say((ev.target.checked ? "Locked " : "Unlocked ") + c.name + "."); loadClusters(); }) });
    const loadClusters = () => guard(loading(async () => {
      clusters = await listAll("/v1/sites/" + id + "/clusters");
      fill("clusters-table", clusters, c => el("tr", { "data-id": c.id }, selectBox(c.id, c.name), clusterNameCell(c),
        el("td", {}, el("button", { type: "button", class: "open-cluster", "aria-label": "Keywords of " + c.name, onclick: () => openCluster(c.id) }, String(c.keyword_count))),
        el("td", {}, lockBox(c)), el("td", { class: "wide-only" }, c.description)));
      targets("assign-target");
      if (openID !== null) openCluster(openID);
      loadKeywords();
    }));
    // loadKeywords lists every keyword of the site with its cluster's name.
    const loadKeywords = () => guard(async () => {
      const names = new Map(clusters.map(c => [c.id, c.name]));
      const kws = await listAll("/v1/sites/" + id + "/keywords");
      fill("keywords-table", kws, k => el("tr", {}, el("td", {}, k.phrase), el("td", {}, k.volume ?? ""), el("td", {}, k.difficulty ?? ""),
        el("td", {}, k.intent || ""), el("td", {}, k.cluster_id ? names.get(k.cluster_id) || "" : k.outlier ? "outlier" : "unclustered")));
    });
    // edit sends one cluster edit, then shows what changed.
    const edit = (method, path, body, msg) => guard(loading(async () => {
      await api(method, path, body); say(msg); await loadClusters(); loadOutliers(); loadIdeas();
    }));
    const onClick = (btn, fn) => { const b = document.getElementById(btn); if (b) b.addEventListener("click", fn); };
    onClick("merge-clusters", () => {
      const ids = selected("clusters-table");
      if (ids.length < 2) return say("Select two clusters or more to merge.", true);
      const into = clusters.find(c => c.id === ids[0]);
      edit("POST", "/v1/clusters/merge", { cluster_ids: ids.slice(1), into: ids[0] }, "Merged " + ids.length + " clusters into " + into.name + ".");
    });
    onClick("split", () => {
      const ids = selected("cluster-keywords"), name = document.getElementById("split-name").value;
      if (!ids.length) return say("Select keywords first.", true);
      edit("POST", "/v1/clusters/" + openID + "/split", { keyword_ids: ids, name }, "Split " + ids.length + " keyword(s) off into " + name.trim() + ".");
    });
    onClick("move", () => {
      const ids = selected("cluster-keywords"), to = Number(document.getElementById("move-target").value);
      if (!ids.length) return say("Select keywords first.", true);
      edit("POST", "/v1/clusters/" + to + "/keywords", { keyword_ids: ids }, "Moved " + ids.length + " keyword(s).");
    });
    onClick("drop", () => {
      const ids = selected("cluster-keywords");
      if (!ids.length) return say("Select keywords first.", true);
      edit("POST", "/v1/clusters/" + openID + "/keywords/remove", { keyword_ids: ids }, "Dropped " + ids.length + " keyword(s) from the cluster.");
    });
    onClick("assign", () => {
      const ids = selected("outliers-table"), to = Number(document.getElementById("assign-target").value);
      if (!ids.length) return say("Select unclustered keywords first.", true);
      edit("POST", "/v1/clusters/" + to + "/keywords", { keyword_ids: ids }, "Assigned " + ids.length + " keyword(s).");
    });
    const loadIdeas = () => guard(async () => {
      const ideas = await listAll("/v1/ideas?site_id=" + id + (withoutDraft.checked ? "&without_draft=true" : ""));
      fill("ideas-table", ideas, i => el("tr", {}, selectBox(i.id, i.title), el("td", {}, i.title), el("td", {}, i.content_type),
        el("td", {}, i.draft_id ? el("a", { href: "/ui/drafts/" + i.draft_id }, "draft " + i.draft_id) : "none")));
    });
    const loadDrafts = () => guard(async () => {
      let ds = await listAll("/v1/drafts?site_id=" + id);
      if (status.value) ds = ds.filter(d => d.status === status.value);
      fill("drafts-table", ds, d => {
        const link = webLink(d.wp_link);
        return el("tr", { "data-status": d.status }, selectBox(d.id, d.title),
          el("td", {}, el("a", { href: "/ui/drafts/" + d.id }, d.title)), el("td", {}, el("span", { class: "badge " + d.status }, d.status)),
          el("td", {}, d.word_count), el("td", {}, link ? el("a", { href: link, rel: "noopener" }, "view post") : ""));
      });
    });
    const loadLinks = () => guard(async () => {
      const inv = await listAll("/v1/sites/" + id + "/links");
      fill("links-table", inv, l => el("tr", {}, el("td", {}, l.title), el("td", {}, l.kind), el("td", {}, l.source === "presswork" ? "Presswork" : "WordPress"),
        el("td", { class: "wide-only" }, el("a", { href: l.url, rel: "noopener" }, l.url))));
    });
    const why = { same_primary_keyword: "the same primary keyword", similar_title: "a title that means the same" };
    const loadConflicts = () => guard(async () => {
      const refused = await listAll("/v1/sites/" + id + "/idea-conflicts");
      fill("conflicts-table", refused, r => el("tr", {}, el("td", {}, r.title, " ", el("small", {}, "(" + r.target_keywords[0] + ")")),
        el("td", {}, why[r.reason] || r.reason, r.similarity ? " (" + r.similarity.toFixed(2) + ")" : ""), el("td", {}, r.conflicting_title)));
    });
    const refreshLinks = document.getElementById("refresh-links");
    if (refreshLinks) refreshLinks.addEventListener("click", () => run("Read the site's pages", "POST", "/v1/sites/" + id + "/links/refresh", null, loadLinks));
    const loadAll = () => { loadClusters(); loadOutliers(); loadIdeas(); loadDrafts(); loadLinks(); loadConflicts(); };
    withoutDraft.addEventListener("change", loadIdeas);
    status.addEventListener("change", loadDrafts);
    guard(async () => {
      const s = await api("GET", "/v1/sites/" + id);
      document.querySelector("h1").textContent = s.name;
      document.getElementById("site-summary").replaceChildren(s.url + " · health ", healthBadge(s.health), " " + (s.health_reason || ""));
    });
    const imp = document.getElementById("import");
    if (imp) {
      imp.addEventListener("submit", ev => {
        ev.preventDefault();
        guard(async () => {
          const file = document.getElementById("csv").files[0];
          const report = document.getElementById("import-report");
          report.replaceChildren(el("p", {}, "Importing…"));
          try {
            const r = await api("POST", "/v1/sites/" + id + "/keywords", await file.text(), "text/csv");
            report.replaceChildren(reportView(r));
          } catch (e) {
            report.replaceChildren(el("p", { class: "error", role: "alert" }, e.message));
            if (e.data) report.append(reportView(e.data));
          }
        });
      });
      document.getElementById("cluster-btn").addEventListener("click", () => run("Clustering", "POST", "/v1/sites/" + id + "/clustering", undefined, loadAll));
      document.getElementById("recluster-btn").addEventListener("click", () => run("Re-clustering", "POST", "/v1/sites/" + id + "/recluster", undefined, loadAll));
      document.getElementById("gen-ideas").addEventListener("click", () => {
        const ids = selected("clusters-table");
        if (!ids.length) return say("Select clusters first.", true);
        const mode = document.getElementById("idea-mode").value, body = { cluster_ids: ids, count: Number(document.getElementById("idea-count").value) };
        if (mode) body.mode = mode; // none: the account's default decides
        run("Ideas for " + ids.length + " cluster(s)" + (mode === "batch" ? " in batch mode" : ""), "POST", "/v1/ideas/generate", body, loadIdeas);
      });
      document.getElementById("gen-drafts").addEventListener("click", () => {
        const ids = selected("ideas-table");
        if (!ids.length) return say("Select ideas first.", true);
        const mode = document.getElementById("draft-mode").value, body = { idea_ids: ids };
        if (mode) body.mode = mode; // none: the account's default decides
        run("Drafts for " + ids.length + " idea(s)" + (mode === "batch" ? " in batch mode" : ""), "POST", "/v1/drafts/generate", body, () => { loadIdeas(); loadDrafts(); });
      });
      // extra returns the request's fields besides draft_ids, and its label's end.
      const imageMode = () => document.getElementById("image-mode").value === "batch" ? [{ mode: "batch" }, " in batch mode"] : [{}, ""];
      for (const [btn, label, path, extra] of [["gen-images", "Images", "/v1/images/generate", imageMode], ["approve", "Approve", "/v1/drafts/approve", () => [{}, ""]], ["publish", "Publish", "/v1/drafts/publish", () => [{ status: "publish" }, ""]]]) {
        document.getElementById(btn).addEventListener("click", () => {
          const ids = selected("drafts-table");
          if (!ids.length) return say("Select drafts first.", true);
          const [fields, how] = extra();
          run(label + " " + ids.length + " draft(s)" + how, "POST", path, Object.assign({ draft_ids: ids }, fields), loadDrafts);
        });
      }
    }
    loadAll();
  },

  async draft(id) {
    let draft;
    // The last publish's failure, if one failed since the last success: its
    // reason and code, and whether and when it is tried again.
    const showPublishFailure = f => {
      const box = document.getElementById("publish-failure");
      box.hidden = !f;
      if (!f) return box.replaceChildren();
      const next = f.final ? "it will not be tried again: correct the cause and publish again"
        : "next attempt " + (f.retry_at ? fmtTime(f.retry_at) : "soon") + (f.retries_left != null ? " (" + f.retries_left + " retries left)" : "");
      box.replaceChildren(el("strong", { class: "error" }, "Publishing failed: "), f.error || "", " ",
        f.error_code ? el("code", { class: "error-code" }, f.error_code) : "", " · " + fmtTime(f.at) + " · " + next + " · job " + f.job_id);
    };
    const fields = ["title", "slug", "excerpt", "meta_title", "meta_description", "focus_keyword"];
    let siteHost = "", profile = null, contentType = "";
    const bodyBox = document.getElementById("f-body_html");
    const preview = () => {
      document.getElementById("preview").srcdoc = "<h1>" + escapeHTML(document.getElementById("f-title").value) + "</h1>" + bodyBox.value;
      const checks = bodyChecks(bodyBox.value, siteHost, document.getElementById("f-focus_keyword").value, profile, contentType);
      document.getElementById("body-checks").replaceChildren(...checks.map(c => el("li", { class: c.ok ? "check-ok" : "check-warn", "data-check": c.name }, c.text)));
    };
    bodyBox.addEventListener("input", preview);
    document.getElementById("edit-body").addEventListener("submit", ev => {
      ev.preventDefault();
      guard(async () => {
        const saved = await api("PATCH", "/v1/drafts/" + id, { body_html: bodyBox.value });
        say("Saved the body (" + saved.word_count + " words" + (saved.body_html !== bodyBox.value ? ", sanitized as publishing does" : "") + ").");
        load();
      });
    });
    const load = () => guard(async () => {
      draft = await api("GET", "/v1/drafts/" + id);
      if (!siteHost) siteHost = await api("GET", "/v1/sites/" + draft.site_id).then(s => new URL(s.url).host).catch(() => "");
      if (!profile) profile = await api("GET", "/v1/sites/" + draft.site_id + "/profile").then(p => p.effective).catch(() => ({}));
      if (!contentType) contentType = await api("GET", "/v1/ideas/" + draft.idea_id).then(i => i.content_type).catch(() => "");
      document.querySelector("h1").textContent = draft.title;
      const link = webLink(draft.wp_link);
      document.getElementById("draft-summary").replaceChildren("Status ", el("span", { class: "badge " + draft.status, id: "draft-status" }, draft.status),
        " · " + draft.word_count + " words", link ? el("span", {}, " · ", el("a", { href: link, rel: "noopener" }, "view the post")) : "",
        " · ", el("a", { href: "/ui/sites/" + draft.site_id }, "back to the site"));
      showPublishFailure((draft.publish_report || {}).failed);
      for (const f of fields) document.getElementById("f-" + f).value = draft[f] || "";
      bodyBox.value = draft.body_html || "";
      preview();
      const imgs = await api("GET", "/v1/drafts/" + id + "/images").catch(() => ({ items: [] }));
      const list = Array.isArray(imgs) ? imgs : (imgs.items || []);
      document.getElementById("images").replaceChildren(...(list.length ? list.map(im => el("figure", {},
        im.state === "ready" ? el("img", { src: "/v1/images/" + im.id + "/content", alt: im.alt_text || "", loading: "lazy" }) : el("p", {}, im.state),
        el("figcaption", {}, (im.role === "featured" ? "featured" : "in article " + im.position) + (im.heading ? " · " + im.heading : "") + " · " + (im.alt_text || "")))) : [el("p", {}, "No images yet.")]));
    });
    const form = document.getElementById("edit-draft");
    form.addEventListener("submit", ev => {
      ev.preventDefault();
      guard(async () => {
        const body = {};
        for (const f of fields) body[f] = document.getElementById("f-" + f).value;
        await api("PATCH", "/v1/drafts/" + id, body);
        say("Saved."); load();
      });
    });
    const on = (btn, fn) => { const b = document.getElementById(btn); if (b) b.addEventListener("click", fn); };
    on("d-approve", () => run("Approve", "POST", "/v1/drafts/approve", { draft_ids: [Number(id)] }, load));
    on("d-publish", () => run("Publish", "POST", "/v1/drafts/publish", { draft_ids: [Number(id)], status: "publish" }, load));
    on("d-images", () => run("Images", "POST", "/v1/images/generate", { draft_ids: [Number(id)] }, load));
    on("d-regenerate", () => run("Regenerate", "POST", "/v1/drafts/generate", { idea_ids: [draft.idea_id] }, load));
    load();
  },

  // Billing (#26): the tenant's plan, what is for sale, invoices, payments.
  async billing() {
    if (!document.getElementById("plan-line")) return;
    const money = (cents, cur) => (cents / 100).toFixed(2) + " " + (cur || "").toUpperCase();
    const go = (path, body) => guard(async () => { const s = await api("POST", path, body); window.location.assign(s.url); });
    const canPay = document.body.dataset.role === "owner";
    guard(async () => {
      const b = await api("GET", "/v1/billing");
      document.getElementById("billing-off").hidden = b.enabled;
      document.getElementById("plan-line").textContent = "Plan " + b.plan + " (" + b.status + ") · " + b.credit_balance + " credits";
      document.getElementById("renewal").textContent = b.renews_at ? (b.cancel_at_period_end ? "Ends " : "Renews ") + fmtTime(b.renews_at) +
        (b.subscription_status ? " · subscription " + b.subscription_status : "") : "No subscription.";
      document.getElementById("allowance").textContent = "Monthly allowance: " + b.monthly_credits + " credits" +
        (b.past_due_since ? " · payment past due since " + fmtTime(b.past_due_since) : "");
      const portal = document.getElementById("portal");
      if (portal) { portal.disabled = !b.enabled; portal.onclick = () => go("/v1/billing/portal"); }
      fill("plans-table", (b.plans || []).filter(p => p.stripe_price_id), p => el("tr", { "data-plan": p.name },
        el("th", { scope: "row" }, p.name), el("td", {}, p.monthly_credits), el("td", {}, p.description),
        el("td", {}, canPay && b.enabled && p.name !== b.plan ? el("button", { type: "button", onclick: () => go("/v1/billing/checkout", { plan: p.name }) }, "Subscribe") : "")));
      fill("packs-table", b.credit_packs || [], p => el("tr", { "data-pack": p.id },
        el("th", { scope: "row" }, p.name), el("td", {}, p.credits),
        el("td", {}, canPay && b.enabled ? el("button", { type: "button", onclick: () => go("/v1/billing/checkout", { pack_id: p.id }) }, "Buy") : "")));
      fill("payments-table", b.payments || [], p => el("tr", {}, el("td", {}, fmtTime(p.paid_at)), el("td", {}, p.kind + " " + p.id),
        el("td", {}, money(p.amount_cents, p.currency)), el("td", {}, p.credits), el("td", {}, p.refunded_cents ? money(p.refunded_cents, p.currency) : "")));
      if (b.enabled) {
        const invs = await api("GET", "/v1/billing/invoices");
        fill("invoices-table", invs.items || [], i => el("tr", {}, el("td", {}, fmtTime(i.created)), el("td", {}, i.number || i.id),
          el("td", {}, i.status), el("td", {}, money(i.amount_paid || i.amount_due, i.currency)),
          el("td", {}, i.hosted_invoice_url ? el("a", { href: i.hosted_invoice_url, rel: "noopener" }, "View") : "")));
      }
    });
  },

  // The operator's billing overview (#26).
  async overview() {
    guard(async () => {
      const o = await api("GET", "/v1/admin/billing/overview?days=30");
      const usd = v => "$" + Number(v).toFixed(2);
      document.getElementById("totals").textContent = "Revenue " + usd(o.total.revenue_cents / 100) + " · provider cost " +
        usd(o.total.provider_cost_usd) + " · margin " + usd(o.total.margin_usd) + " · credits sold " + o.total.credits_sold +
        ", consumed " + o.total.credits_consumed;
      fill("byplan-table", o.tenants_by_plan || [], r => el("tr", {}, el("td", {}, r.plan), el("td", {}, r.status), el("td", {}, r.tenants)));
      fill("margins-table", o.tenants || [], m => el("tr", { "data-tenant": m.tenant_id }, el("th", { scope: "row" }, m.slug),
        el("td", {}, m.plan), el("td", {}, m.status + (m.subscription_status ? " · " + m.subscription_status : "")),
        el("td", {}, m.credits_sold), el("td", {}, m.credits_consumed), el("td", {}, usd(m.revenue_cents / 100)),
        el("td", {}, usd(m.provider_cost_usd)), el("td", {}, usd(m.margin_usd))));
      fill("jobsday-table", o.jobs_per_day || [], d => el("tr", {}, el("td", {}, d.day), el("td", {}, d.jobs), el("td", {}, d.succeeded), el("td", {}, d.failed)));
    });
  },

  async credits() {
    if (!document.getElementById("balance")) return;
    guard(async () => {
      const c = await api("GET", "/v1/credits");
      document.getElementById("balance").textContent = c.balance + " credits (" + c.reserved_by_unfinished_jobs + " held by unfinished jobs)";
      const alertForm = document.getElementById("low-alert"), alertInput = document.getElementById("low-balance");
      alertInput.value = c.low_balance_alert;
      alertForm.addEventListener("submit", ev => {
        ev.preventDefault();
        guard(async () => {
          const saved = await api("PUT", "/v1/credits/alert", { low_balance: Number(alertInput.value) });
          say(saved.low_balance_alert ? "You will hear credits.low below " + saved.low_balance_alert + " credits." : "The low-balance alert is off.");
        });
      });
      const batchForm = document.getElementById("batch-default"), batchInput = document.getElementById("batch-min-items");
      const b = await api("GET", "/v1/batch-settings");
      batchInput.value = b.batch_min_items == null ? "" : b.batch_min_items;
      batchForm.addEventListener("submit", ev => {
        ev.preventDefault();
        guard(async () => {
          const n = batchInput.value.trim() === "" ? null : Number(batchInput.value);
          const saved = await api("PUT", "/v1/batch-settings", { batch_min_items: n });
          say(saved.batch_min_items == null ? "Bulks go to batch mode only when asked." : "Bulks of " + saved.batch_min_items + " drafts or more go to batch mode.");
        });
      });
      const u = await api("GET", "/v1/usage");
      const byDay = {};
      for (const r of u.days || []) byDay[r.day] = (byDay[r.day] || 0) + r.credits_charged;
      const days = Object.keys(byDay).sort();
      const max = Math.max(1, ...Object.values(byDay));
      const chart = document.getElementById("chart");
      chart.replaceChildren(...(days.length ? days.map(d => {
        const bar = el("span", { class: "bar" });
        bar.style.width = (100 * byDay[d] / max) + "%";
        return el("div", { class: "row" }, el("span", { class: "day" }, d), el("span", { class: "track" }, bar), el("span", { class: "val" }, byDay[d]));
      }) : [el("p", {}, "No usage yet.")]));
      chart.setAttribute("role", "img");
      chart.setAttribute("aria-label", "Credits per day: " + days.map(d => d + " " + byDay[d]).join(", "));
      fill("stage-table", u.by_stage || [], r => el("tr", {}, el("td", {}, r.stage), el("td", {}, r.jobs), el("td", {}, r.tokens_in + r.tokens_out),
        el("td", {}, r.cost_usd.toFixed(4)), el("td", {}, r.credits_charged)));
      const ledger = await api("GET", "/v1/credits/ledger?limit=100");
      fill("ledger-table", ledger.items || [], l => el("tr", {}, el("td", {}, fmtTime(l.created_at)), el("td", {}, l.kind), el("td", {}, l.delta), el("td", {}, l.balance_after), el("td", {}, l.note)));
    });
  },

  async jobs() {
    // Failed jobs, and jobs whose last attempt failed and that will try
    // again, each with its reason and, for the latter, when and how often.
    const status = j => j.state === "failed" ? "failed"
      : "retrying" + (j.retry_at ? " at " + fmtTime(j.retry_at) : "") + (j.retries_left != null ? " (" + j.retries_left + " retries left)" : "");
    const load = () => guard(async () => {
      const [failed, retrying] = await Promise.all([api("GET", "/v1/jobs?state=failed&limit=200"), api("GET", "/v1/jobs?phase=waiting_retry&limit=200")]);
      const jobs = [...(retrying.items || []), ...(failed.items || [])];
      fill("jobs-table", jobs, j => el("tr", { "data-state": j.state }, el("td", {}, fmtTime(j.created_at)), el("td", {}, j.type), el("td", {}, status(j)),
        el("td", {}, j.error || "", j.error_code ? el("code", { class: "error-code" }, " " + j.error_code) : null),
        el("td", {}, j.state === "failed" ? retryButton(j, load) : null)));
    });
    load();
  },

  async automation() {
    const sites = await guard(() => listAll("/v1/sites")) || [];
    const names = Object.fromEntries(sites.map(s => [s.id, s.name]));
    const sel = document.getElementById("defaults-site");
    if (sel) {
      sel.replaceChildren(...sites.map(s => el("option", { value: s.id }, s.name)));
      document.getElementById("defaults").addEventListener("submit", ev => {
        ev.preventDefault();
        guard(async () => { await api("POST", "/v1/sites/" + sel.value + "/automation/defaults", { enabled: false }); say("Default rules created (disabled)."); load(); });
      });
    }
    const showRuns = r => guard(async () => {
      const runs = (await api("GET", "/v1/automation/rules/" + r.id + "/runs")).items || [];
      document.getElementById("runs").replaceChildren(el("h3", {}, r.name),
        runs.length ? el("ul", {}, ...runs.map(x => el("li", {}, runLine(x)))) : el("p", {}, "No runs yet."));
    });
    const load = () => guard(async () => {
      const rules = await listAll("/v1/automation/rules");
      const canEdit = !!sel;
      fill("rules-table", rules, r => el("tr", {}, el("td", {}, r.name), el("td", {}, names[r.site_id] || r.site_id), el("td", {}, r.schedule + " " + r.timezone),
        el("td", {}, (r.stages || []).join(", ")),
        el("td", {}, el("input", { type: "checkbox", checked: r.enabled, disabled: !canEdit, "aria-label": "Enable " + r.name,
          onchange: ev => guard(async () => { await api("PATCH", "/v1/automation/rules/" + r.id, { enabled: ev.target.checked }); load(); }) })),
        el("td", {}, fmtTime(r.next_fire_at)),
        el("td", {}, el("button", { type: "button", onclick: () => showRuns(r) }, "Runs"),
          canEdit ? el("button", { type: "button", onclick: () => run("Run " + r.name, "POST", "/v1/automation/rules/" + r.id + "/run", undefined, load) }, "Run now") : null)));
    });
    load();
  },

  account() { profileForm(); },

  async tenants() {
    const load = () => guard(async () => {
      const ts = (await api("GET", "/v1/admin/tenants")).items || [];
      fill("tenants-table", ts, tn => el("tr", {}, el("td", {}, tn.id), el("td", {}, tn.slug), el("td", {}, tn.name), el("td", {}, tn.plan),
        el("td", {}, el("span", { class: "badge " + (tn.status === "active" ? "healthy" : "unhealthy") }, tn.status)), el("td", {}, tn.credit_balance),
        el("td", {}, el("button", { type: "button", onclick: () => guard(async () => {
          await api("PATCH", "/v1/admin/tenants/" + tn.id, { status: tn.status === "active" ? "suspended" : "active" }); load();
        }) }, tn.status === "active" ? "Suspend" : "Reactivate"))));
    });
    load();
  },

  // models: the catalogue with enable/disable and a test per model, and
  // the model of each stage chosen from the enabled ones of its kind.
  async models() {
    const stageKind = { cluster_name: "chat", ideas: "chat", draft: "chat", image_prompt: "chat", embeddings: "embeddings", images: "image" };
    const money = v => v === null || v === undefined ? "" : "$" + Number(v).toString();
    const load = () => guard(async () => {
      const [ms, rs] = await Promise.all([api("GET", "/v1/admin/models"), api("GET", "/v1/admin/routes")]);
      const models = ms.items || [];
      const byID = Object.fromEntries(models.map(m => [m.id, m]));
      const name = id => byID[id] ? byID[id].provider + "/" + byID[id].model : "model " + id;
      fill("routes-table", rs.items || [], r => {
        const choices = models.filter(m => m.kind === stageKind[r.stage] && (m.enabled || m.id === r.model_id));
        const sel = el("select", { id: "route-" + r.stage, "aria-label": "Model of the " + r.stage + " stage", onchange: ev => guard(async () => {
          await api("PUT", "/v1/admin/routes/" + r.stage, { model_id: Number(ev.target.value), fallback_ids: (r.fallback_ids || []).filter(id => id !== Number(ev.target.value)),
            fallback_on_throttle: r.fallback_on_throttle });
          say("The " + r.stage + " stage now uses " + name(Number(ev.target.value)) + ".");
          load();
        }) }, ...choices.map(m => el("option", { value: m.id, selected: m.id === r.model_id }, m.display_name + " (" + m.provider + "/" + m.model + ")")));
        return el("tr", {}, el("th", { scope: "row" }, r.stage), el("td", {}, sel),
          el("td", {}, (r.fallback_ids || []).map(name).join(", ") || "none"), el("td", {}, r.fallback_on_throttle ? "fall back" : "wait"));
      });
      fill("models-table", models, m => {
        const result = el("td", { class: "test-result", "aria-live": "polite" });
        return el("tr", { "data-model": m.id }, el("td", {}, m.id), el("td", {}, m.provider + "/" + m.model), el("td", {}, m.kind), el("td", {}, m.display_name),
          el("td", {}, money(m.price_input_per_mtok)), el("td", {}, money(m.price_output_per_mtok)), el("td", {}, money(m.price_per_image)),
          el("td", {}, money(m.batch_price_input_per_mtok ?? m.price_input_per_mtok / 2) + " / " + money(m.batch_price_output_per_mtok ?? m.price_output_per_mtok / 2)),
          el("td", {}, "×" + m.credit_multiplier),
          el("td", {}, el("span", { class: "badge " + (m.enabled ? "healthy" : "unhealthy") }, m.enabled ? "enabled" : "disabled")),
          el("td", {},
            el("button", { type: "button", class: "toggle", onclick: () => guard(async () => {
              await api("PATCH", "/v1/admin/models/" + m.id, { enabled: !m.enabled });
              say(name(m.id) + (m.enabled ? " disabled." : " enabled.")); load();
            }) }, m.enabled ? "Disable" : "Enable"),
            el("button", { type: "button", class: "test", onclick: () => guard(async () => {
              result.textContent = "Testing…";
              const r = await api("POST", "/v1/admin/models/" + m.id + "/test");
              result.textContent = (r.ok ? "Works. " : "Failed (" + r.problem + "). ") + r.message + " (" + r.latency_ms + " ms)";
              result.className = "test-result " + (r.ok ? "healthy" : "unhealthy");
            }) }, "Test")),
          result);
      });
    });
    load();
  },
};

// retryButton submits a failed job's work again, for the kinds whose
// subject is an id the API takes.
function retryButton(j, reload) {
  const how = {
    "ideas:generate": () => ["/v1/ideas/generate", { cluster_ids: [j.subject_id], count: (j.params && j.params.count) || 3 }],
    "draft:write": () => ["/v1/drafts/generate", { idea_ids: [j.subject_id] }],
    "image:generate": () => ["/v1/images/generate", { draft_ids: [j.subject_id] }],
    "post:publish": () => ["/v1/drafts/publish", { draft_ids: [j.subject_id], status: "publish" }],
    "site:check": () => ["/v1/sites/" + j.site_id + "/check", undefined],
    "keywords:cluster": () => ["/v1/sites/" + j.site_id + (j.params && j.params.recluster ? "/recluster" : "/clustering"), undefined],
  }[j.type];
  if (!how) return "";
  return el("button", { type: "button", onclick: () => { const [p, b] = how(); run("Retry " + j.type, "POST", p, b, reload); } }, "Retry");
}

function reportView(r) {
  const parts = [el("p", { class: "report", id: "import-summary" }, (r.total ?? 0) + " rows: imported " + (r.imported ?? 0) +
    ", duplicates in the file " + (r.duplicates_in_file ?? 0) + ", already stored " + (r.duplicates_existing ?? 0) + ", invalid " + (r.invalid_count ?? 0))];
  const rows = r.invalid || [];
  if (rows.length) parts.push(el("ul", { class: "invalid" }, ...rows.slice(0, 100).map(x => el("li", {}, "row " + x.row + (x.field ? " (" + x.field + ")" : "") + ": " + x.problem))));
  return el("div", {}, ...parts);
}

// bodyChecks reads an article's HTML as an editor would check it: its
// length, its links to the site and to other sites, its FAQ and whether
// the focus keyword appears. Each check is {name, ok, text}.
function bodyChecks(html, siteHost, focus, profile, contentType) {
  profile = profile || {};
  const doc = new DOMParser().parseFromString(html, "text/html");
  const text = doc.body.textContent || "";
  const words = (text.match(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu) || []).length;
  let internal = 0, external = 0;
  for (const a of doc.querySelectorAll("a[href]")) {
    let u;
    try { u = new URL(a.getAttribute("href"), "https://" + (siteHost || "site.invalid") + "/"); } catch { continue; }
    if (!/^https?:$/.test(u.protocol)) continue;
    if (u.host === siteHost || !siteHost && u.host === "site.invalid") internal++; else external++;
  }
  const faq = [...doc.querySelectorAll("h2")].find(h => h.id === "faq" || /faq|frequently asked|common questions|questions and answers/i.test(h.textContent));
  let questions = 0;
  for (let n = faq && faq.nextElementSibling; n && n.tagName !== "H2"; n = n.nextElementSibling) if (n.tagName === "H3") questions++;
  const h2s = doc.querySelectorAll("h2").length;
  const hasFocus = focus && text.toLowerCase().includes(focus.toLowerCase());
  const target = (profile.word_targets || {})[contentType] || 0, band = 0.3;
  const lengthCheck = target
    ? { name: "words", ok: Math.abs(words - target) <= band * target, text: words + " words (the profile aims at " + target + " for a " + contentType + ", " + Math.round((1 - band) * target) + " to " + Math.round((1 + band) * target) + ")" }
    : { name: "words", ok: words >= 300, text: words + " words" + (words < 300 ? " (short for an article)" : "") };
  const faqWanted = !!profile.faq;
  return [
    lengthCheck,
    { name: "sections", ok: h2s >= 2, text: h2s + " sections (H2)" },
    { name: "internal-links", ok: internal >= 2 && internal <= 5, text: internal + " links to this site" + (internal < 2 ? " (2 to 5 help readers and search engines)" : internal > 5 ? " (more than 5)" : "") },
    { name: "external-links", ok: true, text: external + " links to other sites (published with rel=nofollow)" },
    { name: "faq", ok: questions > 0 || !faqWanted, text: questions ? "FAQ with " + questions + " question(s): published with FAQPage structured data" : "no FAQ section" + (faqWanted ? " (the profile asks for one)" : "") },
    { name: "focus", ok: !!hasFocus, text: focus ? (hasFocus ? "the focus keyword appears" : "the focus keyword \"" + focus + "\" does not appear") : "no focus keyword" },
  ];
}

function escapeHTML(s) { return s.replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c])); }

document.addEventListener("input", ev => {
  if (ev.target.dataset && ev.target.dataset.filter) { pageOf[ev.target.dataset.filter] = 0; applyFilter(ev.target.dataset.filter); }
});
document.addEventListener("change", ev => {
  if (ev.target.classList.contains("select-all")) {
    const table = ev.target.closest("table");
    for (const c of table.querySelectorAll("tbody tr:not([hidden]) .row-select")) c.checked = ev.target.checked;
  }
});
document.addEventListener("DOMContentLoaded", () => {
  const page = pages[document.body.dataset.page];
  if (page) page(document.body.dataset.id);
});
