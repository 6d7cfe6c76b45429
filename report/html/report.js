// egresswatch residency report: draws the page from the embedded JSON
// document (#egresswatch-report) and country shapes (#egresswatch-world).
// Plain DOM and SVG; no library, nothing fetched.
"use strict";
(function () {
  const doc = JSON.parse(document.getElementById("egresswatch-report").textContent);
  const world = JSON.parse(document.getElementById("egresswatch-world").textContent);
  const SVG = "http://www.w3.org/2000/svg";
  const countryName = {};
  for (const c of world.countries) if (c.id) countryName[c.id] = c.name;

  // Colours: blue for approved, orange for outside, purple where the group
  // has no approved jurisdictions, grey for none/indeterminate (Okabe-Ito
  // hues, distinguishable with the common colour-vision deficiencies).
  const ramps = {
    approved: ["#d6e8f5", "#0b4f8a"],
    outside: ["#fde3c4", "#b84a00"],
    "": ["#e6dcef", "#5b3b8c"],
    indeterminate: ["#e4e4e4", "#6b6b6b"],
  };
  const noData = "#dfe3e0";
  // Rule colours avoid the map's blue and orange, which mean approved and not.
  const series = ["#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#000000", "#999933", "#0072B2", "#D55E00"];

  // ---- formatting ----
  const nf = new Intl.NumberFormat("en-GB");
  function num(n) { return nf.format(n); }
  function bytes(n) {
    if (n < 1024) return n + " B";
    const u = "KMGTPE";
    let i = -1;
    do { n /= 1024; i++; } while (n >= 1024 && i < u.length - 1);
    return n.toFixed(n < 10 ? 1 : 0) + " " + u[i] + "iB";
  }
  function pct(a, b) {
    if (!b) return "0%";
    const p = (100 * a) / b;
    if (p > 0 && p < 1) return "<1%";
    return Math.round(p) + "%";
  }
  function when(t) {
    if (!t || t.startsWith("0001-")) return "–";
    return t.replace("T", " ").replace(/\.\d+/, "").replace("Z", "");
  }
  function cname(c) {
    if (c === "indeterminate") return "indeterminate";
    if (c === "unknown") return "unknown";
    return countryName[c] || c;
  }
  function list(xs) {
    if (xs.length <= 1) return xs.join("");
    return xs.slice(0, -1).join(", ") + " and " + xs[xs.length - 1];
  }
  function mix(ramp, t) {
    const a = parseInt(ramp[0].slice(1), 16), b = parseInt(ramp[1].slice(1), 16);
    let out = "#";
    for (const s of [16, 8, 0]) {
      const x = Math.round(((a >> s) & 255) * (1 - t) + ((b >> s) & 255) * t);
      out += x.toString(16).padStart(2, "0");
    }
    return out;
  }
  // shade maps a value to 0.15..1 on a log scale against max.
  function shade(v, max) { return max > 0 ? 0.15 + 0.85 * Math.log1p(v) / Math.log1p(max) : 0; }

  function h(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) {
      if (k === "text") e.textContent = attrs[k];
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    }
    for (const k of kids) if (k != null) e.append(k);
    return e;
  }
  function s(tag, attrs, ...kids) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs || {}) {
      if (k === "text") e.textContent = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    for (const k of kids) if (k != null) e.append(k);
    return e;
  }
  function tip(e, text) { e.append(s("title", { text })); return e; }

  // ---- groups ----
  const summaries = doc.summary || [];
  const groupSel = document.getElementById("group");
  const metricSel = document.getElementById("metric");
  for (const g of summaries) groupSel.append(h("option", { value: g.group, text: g.group }));
  const firstRestricted = summaries.find((g) => g.restricted);
  if (firstRestricted) groupSel.value = firstRestricted.group;

  document.getElementById("scope").textContent =
    (doc.files && doc.files.length ? doc.files.join(", ") : "the traffic given") +
    " · " + when(doc.first_seen) + " to " + when(doc.last_seen) +
    " · " + num(doc.flows) + " flows from " + num(doc.devices) + " devices · " + num(doc.alerts) + " alerts";

  // ---- headline ----
  function headline(g) {
    const cards = document.getElementById("cards");
    const out = document.getElementById("sentences");
    cards.replaceChildren();
    out.replaceChildren();
    if (!g) {
      out.append(h("p", { text: "No traffic was seen." }));
      return;
    }
    const sens = doc.policy.sensitive || [];
    const card = (value, label, cls, of) => cards.append(h("div", { class: "card " + (cls || "") },
      h("span", { class: "value", text: value }, of ? h("small", { text: " of " + of }) : null), h("span", { class: "label", text: label })));
    card(num(g.sensitive_devices), g.group + " devices reached sensitive services", g.sensitive_devices ? "bad" : "good", num(g.devices));
    if (g.restricted) {
      card(pct(g.outside_bytes, g.bytes), "of their bytes left the approved jurisdictions", g.outside_bytes ? "bad" : "good");
      card(num(g.outside_countries.length), g.outside_countries.length === 1 ? "country outside them" : "countries outside them", g.outside_countries.length ? "bad" : "good");
    }
    card(pct(g.indeterminate_bytes, g.bytes), "of bytes could not be placed in one country", "");
    const galerts = (doc.alert_list.items || []).filter((a) => a.groups.includes(g.group)).reduce((n, a) => n + a.alerts + a.suppressed, 0);
    card(num(doc.alerts), "alerts in all groups", doc.alerts ? "bad" : "good");

    const p = [];
    if (g.sensitive_devices) {
      p.push(num(g.sensitive_devices) + " of " + num(g.devices) + " " + g.group + " devices reached sensitive services: " + list(g.sensitive_services) + ".");
    } else if (sens.length) {
      p.push("No " + g.group + " device reached a sensitive service (" + list(sens) + ").");
    }
    if (g.restricted) {
      const approved = (doc.policy.approved[g.group] || []).length;
      if (g.outside_bytes) {
        const top = g.outside_countries.slice(0, 3).map((c) => cname(c.name) + " " + pct(c.bytes, g.bytes));
        const ops = g.outside_operators.filter((o) => o.name !== "others" && o.name !== "unknown").slice(0, 3).map((o) => o.name + " (" + pct(o.bytes, g.bytes) + ")");
        p.push(pct(g.outside_bytes, g.bytes) + " of their bytes (" + bytes(g.outside_bytes) + " of " + bytes(g.bytes) +
          ") left the approved jurisdictions (" + approved + " countries): to " + list(top) +
          (g.outside_countries.length > 3 ? " and " + (g.outside_countries.length - 3) + " more" : "") +
          (ops.length ? ", run by " + list(ops) : "") + ".");
      } else if (g.bytes === g.indeterminate_bytes) {
        p.push("None of their bytes could be placed in a country, so none is known to have left the approved jurisdictions (" + approved + " countries).");
      } else {
        p.push("All of their placed bytes (" + bytes(g.bytes - g.indeterminate_bytes) + ") stayed within the approved jurisdictions (" + approved + " countries).");
      }
    } else {
      p.push("The policy sets no approved jurisdictions for " + g.group + "; its " + bytes(g.bytes) + " are shown without a verdict.");
    }
    if (g.indeterminate_bytes) {
      p.push(pct(g.indeterminate_bytes, g.bytes) + " (" + bytes(g.indeterminate_bytes) + ") went to destinations that could not be placed in one country (anycast, global cloud ranges or no data); see Destinations.");
    }
    if (!doc.alerts) p.push("No policy rule was broken.");
    else if (galerts === doc.alerts || summaries.length === 1) p.push(num(doc.alerts) + " alerts were raised, counting suppressed repeats; each is listed with its evidence below.");
    else p.push(num(doc.alerts) + " alerts were raised, " + num(galerts) + " of them for " + g.group + " devices.");
    for (const t of p) out.append(h("p", { text: t }));
  }

  // ---- map ----
  function countryTotals(group) {
    const m = {};
    for (const r of doc.rows) {
      if (r.group !== group) continue;
      const c = m[r.country] || (m[r.country] = { bytes: 0, flows: 0, residency: r.residency || "" });
      c.bytes += r.bytes;
      c.flows += r.flows;
    }
    return m;
  }
  function drawMap(group, metric) {
    const totals = countryTotals(group);
    let max = 0;
    for (const c in totals) if (countryName[c]) max = Math.max(max, totals[c][metric]);
    const svg = s("svg", { viewBox: "0 0 " + world.width + " " + world.height, role: "img",
      "aria-label": "World map of " + metric + " from " + group + " by destination country" });
    const shapes = s("g", { class: "countries" }), dots = s("g", { class: "dots" });
    for (const c of world.countries) {
      const t = totals[c.id];
      const fill = t && t[metric] ? mix(ramps[t.residency] || ramps[""], shade(t[metric], max)) : noData;
      const attrs = { "data-cc": c.id || "", fill, class: t ? "has " + (t.residency || "none") : "" };
      if (t) attrs["data-residency"] = t.residency || "none";
      const label = c.name + (t ? ": " + bytes(t.bytes) + ", " + num(t.flows) + " flows" + (t.residency ? ", " + t.residency : "") : ": no traffic");
      if (c.d) shapes.append(tip(s("path", Object.assign(attrs, { d: c.d })), label));
      else if (t) dots.append(tip(s("circle", Object.assign(attrs, { cx: c.x, cy: c.y, r: 5 })), label));
    }
    svg.append(shapes, dots);
    document.getElementById("map").replaceChildren(svg);

    const legend = document.getElementById("map-legend");
    legend.replaceChildren();
    const present = new Set(Object.values(totals).map((t) => t.residency || ""));
    const names = { approved: "approved jurisdiction", outside: "not approved", "": "no approved jurisdictions set" };
    for (const r of ["approved", "outside", ""]) {
      if (!present.has(r)) continue;
      legend.append(h("span", { class: "key" },
        h("span", { class: "swatch ramp", style: "background:linear-gradient(90deg," + ramps[r][0] + "," + ramps[r][1] + ")" }),
        names[r] + (r === "outside" ? " (outlined)" : "")));
    }
    legend.append(h("span", { class: "key" }, h("span", { class: "swatch", style: "background:" + noData }), "no traffic"));
    legend.append(h("span", { class: "note", text: "Shade: " + metric + " (log scale, most: " +
      (metric === "bytes" ? bytes(max) : num(max)) + "). Small countries are dots." }));
    const unplaced = (totals.indeterminate ? totals.indeterminate[metric] : 0) + (totals.unknown ? totals.unknown[metric] : 0);
    if (unplaced) legend.append(h("span", { class: "note", text: "Not on the map: " + (metric === "bytes" ? bytes(unplaced) : num(unplaced) + " flows") + " to destinations with no single country." }));
  }

  // ---- services × countries ----
  function drawMatrix(group) {
    const rows = doc.rows.filter((r) => r.group === group);
    const bySvc = {}, byCtry = {}, res = {};
    for (const r of rows) {
      bySvc[r.service] = (bySvc[r.service] || 0) + r.bytes;
      byCtry[r.country] = (byCtry[r.country] || 0) + r.bytes;
      res[r.country] = r.residency || "";
    }
    const top = (m, n) => {
      const k = Object.keys(m).sort((a, b) => m[b] - m[a] || (a < b ? -1 : 1));
      return k.length > n ? k.slice(0, n - 1).concat(["others"]) : k;
    };
    const svcs = top(bySvc, 10), ctrys = top(byCtry, 10);
    const cell = {};
    let max = 0;
    for (const r of rows) {
      const sv = svcs.includes(r.service) ? r.service : "others";
      const ct = ctrys.includes(r.country) ? r.country : "others";
      const k = sv + "\u0000" + ct;
      cell[k] = (cell[k] || 0) + r.bytes;
      max = Math.max(max, cell[k]);
    }
    const left = 130, top0 = 64, cw = 56, ch = 26;
    const w = left + cw * ctrys.length + 8, hh = top0 + ch * svcs.length + 4;
    const svg = s("svg", { viewBox: "0 0 " + w + " " + hh, style: "max-width:" + Math.round(w * 1.25) + "px", role: "img", "aria-label": "Bytes by service and country for " + group });
    ctrys.forEach((c, i) => {
      const x = left + i * cw + cw / 2;
      const lab = s("text", { x, y: top0 - 8, class: "col " + (res[c] || ""), "text-anchor": "start", transform: "rotate(-35 " + x + " " + (top0 - 8) + ")", text: c === "indeterminate" ? "indet." : c });
      svg.append(tip(lab, cname(c) + (res[c] ? " — " + res[c] : "")));
    });
    svcs.forEach((sv, j) => {
      const y = top0 + j * ch;
      svg.append(s("text", { x: left - 8, y: y + ch / 2 + 4, "text-anchor": "end", class: "rowlab", text: sv.length > 18 ? sv.slice(0, 17) + "…" : sv }));
      ctrys.forEach((c, i) => {
        const v = cell[sv + "\u0000" + c] || 0;
        const x = left + i * cw;
        const r = res[c] || "";
        const fill = v ? mix(ramps[c === "others" ? "indeterminate" : r] || ramps[""], shade(v, max)) : "#fafaf8";
        const g = s("g", {});
        g.append(tip(s("rect", { x: x + 1, y: y + 1, width: cw - 2, height: ch - 2, fill, rx: 2 }), sv + " → " + cname(c) + ": " + bytes(v)));
        if (v) g.append(s("text", { x: x + cw / 2, y: y + ch / 2 + 4, "text-anchor": "middle", class: shade(v, max) > 0.6 ? "cell dark" : "cell", text: bytes(v).replace(" ", "") }));
        svg.append(g);
      });
    });
    document.getElementById("matrix").replaceChildren(svg);
  }

  // ---- alerts over time ----
  function drawTimeline() {
    const at = doc.alert_times;
    const box = document.getElementById("timeline");
    if (!at.rules.length) {
      box.replaceChildren(h("p", { class: "empty", text: "No alerts." }));
      return;
    }
    const n = at.rules[0].counts.length;
    const totals = new Array(n).fill(0);
    for (const r of at.rules) r.counts.forEach((c, i) => (totals[i] += c));
    const max = Math.max(...totals);
    const W = 560, H = 220, L = 44, B = 36, T = 10;
    const bw = (W - L - 8) / n;
    const svg = s("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "Alerts per " + at.step_seconds + " s by rule" });
    const y = (v) => H - B - ((H - B - T) * v) / max;
    for (const t of [0, max / 2, max]) {
      const v = Math.round(t);
      svg.append(s("line", { x1: L, x2: W - 8, y1: y(v), y2: y(v), class: "grid" }));
      svg.append(s("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", class: "axis", text: num(v) }));
    }
    const base = new Array(n).fill(0);
    const start = Date.parse(at.start);
    at.rules.forEach((r, k) => {
      r.counts.forEach((c, i) => {
        if (!c) return;
        const y0 = y(base[i]), y1 = y(base[i] + c);
        base[i] += c;
        const t0 = new Date(start + i * at.step_seconds * 1000).toISOString();
        svg.append(tip(s("rect", { x: L + i * bw + 0.5, y: y1, width: Math.max(bw - 1, 1), height: y0 - y1, fill: series[k % series.length] }),
          r.rule + ": " + num(c) + " from " + when(t0)));
      });
    });
    const end = new Date(start + n * at.step_seconds * 1000).toISOString();
    svg.append(s("text", { x: L, y: H - B + 16, class: "axis", text: when(at.start) }));
    svg.append(s("text", { x: W - 8, y: H - B + 16, "text-anchor": "end", class: "axis", text: when(end) }));
    svg.append(s("text", { x: (W + L) / 2, y: H - 4, "text-anchor": "middle", class: "axis", text: "one bar per " + dur(at.step_seconds) }));
    const legend = h("div", { class: "legend" });
    at.rules.forEach((r, k) => legend.append(h("span", { class: "key" },
      h("span", { class: "swatch", style: "background:" + series[k % series.length] }), r.rule)));
    box.replaceChildren(svg, legend);
  }
  function dur(sec) {
    if (sec % 86400 === 0) return sec / 86400 + " d";
    if (sec % 3600 === 0) return sec / 3600 + " h";
    if (sec % 60 === 0) return sec / 60 + " min";
    return sec + " s";
  }

  // ---- tables: sortable (click a heading), filterable (type in the box) ----
  // cols: [{key, label, num, fmt(row) -> text, val(row) -> sort value}]
  const expanders = [];
  window.addEventListener("beforeprint", () => expanders.forEach((f) => f()));
  function table(id, allCols, rows, opts) {
    const box = document.getElementById(id);
    // Columns no row has a value for (evidence the run did not record) are left out.
    const shown = (c, r) => { const v = c.fmt ? c.fmt(r) : r[c.key]; return v != null && v !== "" && v !== "–"; };
    const cols = allCols.filter((c) => c.num || rows.some((r) => shown(c, r)));
    const state = { key: opts.sort, desc: opts.desc !== false, filter: "", all: false };
    const filter = h("input", { type: "search", placeholder: "Filter…", "aria-label": "Filter " + opts.name });
    const count = h("span", { class: "count" });
    const thead = h("thead"), tbody = h("tbody");
    const more = h("button", { type: "button", class: "more" });
    const text = rows.map((r) => cols.map((c) => String(c.fmt ? c.fmt(r) : r[c.key] ?? "")));
    // The filter matches the shown text and the raw values (country codes, byte counts).
    const hay = text.map((t, i) => (t.join("\u0001") + "\u0001" + Object.values(rows[i]).join("\u0001")).toLowerCase());
    const head = h("tr");
    const cls = (c) => (c.num ? "num" : c.wrap ? "" : "nw");
    cols.forEach((c) => {
      const th = h("th", { scope: "col", class: cls(c) });
      const b = h("button", { type: "button", text: c.label, onclick: () => {
        state.desc = state.key === c.key ? !state.desc : !!c.num;
        state.key = c.key;
        render();
      } });
      th.append(b);
      head.append(th);
    });
    thead.append(head);
    function render() {
      const col = cols.find((c) => c.key === state.key);
      const f = state.filter.toLowerCase().trim();
      let idx = rows.map((_, i) => i).filter((i) => !f || f.split(/\s+/).every((w) => hay[i].includes(w)));
      if (col) {
        const v = (i) => (col.val ? col.val(rows[i]) : rows[i][col.key] ?? "");
        idx.sort((a, b) => {
          const x = v(a), y = v(b);
          const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
          return (state.desc ? -c : c) || a - b;
        });
      }
      cols.forEach((c, i) => head.children[i].setAttribute("aria-sort", c.key === state.key ? (state.desc ? "descending" : "ascending") : "none"));
      const limit = state.all ? idx.length : opts.page || 25;
      tbody.replaceChildren(...idx.slice(0, limit).map((i) => {
        const tr = h("tr", opts.rowClass ? { class: opts.rowClass(rows[i]) } : {});
        cols.forEach((c, k) => {
          const td = h("td", { class: cls(c) });
          // A link only where the row has something to link to (an evidence capture).
          if (c.href && rows[i][c.key]) td.append(h("a", { href: c.href(rows[i]), text: text[i][k] }));
          else td.textContent = text[i][k];
          tr.append(td);
        });
        return tr;
      }));
      count.textContent = (idx.length === rows.length ? num(rows.length) : num(idx.length) + " of " + num(rows.length)) + " rows" +
        (opts.others && opts.others.count ? "; " + num(opts.others.count) + " more not listed" +
          (opts.others.bytes ? " (" + bytes(opts.others.bytes) + ", " + num(opts.others.flows) + " flows)" : "") : "");
      more.hidden = idx.length <= limit && !state.all;
      more.textContent = state.all ? "Show fewer" : "Show all " + num(idx.length);
    }
    filter.addEventListener("input", () => { state.filter = filter.value; render(); });
    more.addEventListener("click", () => { state.all = !state.all; render(); });
    expanders.push(() => { state.all = true; render(); });
    box.replaceChildren(h("div", { class: "tools" }, filter, count),
      h("div", { class: "scroll" }, h("table", {}, thead, tbody)), more);
    render();
  }

  const res = (r) => r.residency || "";
  const resClass = (r) => "res-" + (r.residency || "none");
  function draw() {
    const group = groupSel.value;
    headline(summaries.find((g) => g.group === group));
    drawMap(group, metricSel.value);
    drawMatrix(group);
  }

  draw();
  drawTimeline();
  groupSel.addEventListener("change", draw);
  metricSel.addEventListener("change", () => drawMap(groupSel.value, metricSel.value));

  table("t-alerts", [
    { wrap: true, key: "rule", label: "Rule", fmt: (a) => a.rule_name ? a.rule + " — " + a.rule_name : a.rule },
    { key: "severity", label: "Severity" },
    { key: "device", label: "Device" },
    { wrap: true, key: "service", label: "Service" },
    { wrap: true, key: "country", label: "Country", fmt: (a) => cname(a.country) },
    { wrap: true, key: "name", label: "Destination", fmt: (a) => [a.name, a.ip].filter(Boolean).join(" ") },
    { key: "first_seen", label: "First seen", fmt: (a) => when(a.first_seen) },
    { key: "last_seen", label: "Last seen", fmt: (a) => when(a.last_seen) },
    { key: "alerts", label: "Alerts", num: true },
    { key: "suppressed", label: "Suppressed", num: true },
    { key: "name_source", label: "Name from" },
    { key: "placement_source", label: "Placed by" },
    { wrap: true, key: "community_id", label: "Community ID" },
    { wrap: true, key: "pcap", label: "Evidence", href: (a) => (doc.policy.evidence_dir ? doc.policy.evidence_dir + "/" : "") + a.pcap },
  ], doc.alert_list.items, { name: "alerts", sort: "alerts", others: doc.alert_list.others });

  table("t-dests", [
    { wrap: true, key: "name", label: "Name" },
    { key: "ip", label: "Address" },
    { wrap: true, key: "service", label: "Service" },
    { wrap: true, key: "country", label: "Country", fmt: (d) => cname(d.country) },
    { key: "residency", label: "Verdict", val: res },
    { wrap: true, key: "org", label: "Operator / ASN", fmt: (d) => [d.org, d.asn ? "AS" + d.asn : ""].filter(Boolean).join(" · ") },
    { key: "cloud", label: "Cloud", fmt: (d) => [d.cloud, d.region].filter(Boolean).join(" ") },
    { key: "placement_source", label: "Placed by" },
    { wrap: true, key: "reason", label: "Why indeterminate" },
    { key: "flows", label: "Flows", num: true },
    { key: "bytes", label: "Bytes", num: true, fmt: (d) => bytes(d.bytes) },
    { key: "devices", label: "Devices", num: true },
  ], doc.destinations.items, { name: "destinations", sort: "bytes", others: doc.destinations.others, rowClass: resClass });

  table("t-devices", [
    { key: "ip", label: "Device" },
    { wrap: true, key: "groups", label: "Groups", fmt: (d) => d.groups.join(", ") },
    { key: "flows", label: "Flows", num: true },
    { key: "bytes", label: "Bytes", num: true, fmt: (d) => bytes(d.bytes) },
    { key: "outside_bytes", label: "Bytes not approved", num: true, fmt: (d) => bytes(d.outside_bytes) },
    { wrap: true, key: "services", label: "Services", fmt: (d) => d.services.join(", ") },
    { wrap: true, key: "countries", label: "Countries", fmt: (d) => d.countries.join(" ") },
    { key: "alerts", label: "Alerts", num: true },
    { key: "first_seen", label: "First seen", fmt: (d) => when(d.first_seen) },
    { key: "last_seen", label: "Last seen", fmt: (d) => when(d.last_seen) },
  ], doc.device_list.items, { name: "devices", sort: "outside_bytes", others: doc.device_list.others });

  table("t-rows", [
    { wrap: true, key: "group", label: "Group" },
    { wrap: true, key: "service", label: "Service" },
    { wrap: true, key: "country", label: "Country", fmt: (r) => cname(r.country) },
    { key: "residency", label: "Verdict", val: res },
    { key: "flows", label: "Flows", num: true },
    { key: "bytes", label: "Bytes", num: true, fmt: (r) => bytes(r.bytes) },
    { key: "devices", label: "Devices", num: true },
    { key: "first_seen", label: "First seen", fmt: (r) => when(r.first_seen) },
    { key: "last_seen", label: "Last seen", fmt: (r) => when(r.last_seen) },
    { key: "alerts", label: "Alerts", num: true },
  ], doc.rows, { name: "services", sort: "bytes", rowClass: resClass });

  document.body.setAttribute("data-drawn-ms", Math.round(performance.now())); // from navigation start
  document.body.setAttribute("data-ready", "1");
})();
