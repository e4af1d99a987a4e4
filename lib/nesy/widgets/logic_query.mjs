// The anywidget front end of nesy.widgets.logic_query.LogicQueryExplorer: a query box,
// prepared queries, the t slider, operator choices, the value and a histogram. The language
// (parser, semantics, evaluation) is imported from lib/nesy/logic/query/*.mjs, the twin of
// nesy.logic.query; the widget's _esm (esm_source) inlines those modules and the spec into
// one ES module, so the static book needs no module server.
//
// Imports the language and the DOM helpers (./dom.mjs) only: runs in node 20 and in browsers,
// served by the book itself.
import { DEFAULT_SEMANTICS, SEMANTICS_CHOICES } from "../logic/query/semantics.mjs";
import { evaluateQuery } from "../logic/query/evaluation.mjs";
import { h, svg } from "./dom.mjs";

const BINS = 20;
const SEM_LABELS = [
  ["and_op", "and"], ["or_op", "or"], ["implies_op", "implies"], ["forall_op", "∀"], ["exists_op", "∃"],
];

/** Counts of the finite values in [0, 1] over `bins` equal bins (1.0 goes in the last). */
export function histogram(values, bins = BINS) {
  const counts = new Array(bins).fill(0);
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    counts[Math.min(bins - 1, Math.max(0, Math.floor(v * bins)))] += 1;
  }
  return counts;
}

function drawHistogram(el, values, value) {
  while (el.firstChild) el.removeChild(el.firstChild);
  const W = 360, H = 150, L = 34, R = 8, T = 10, B = 32;
  const counts = histogram(values);
  const max = Math.max(1, ...counts);
  const bw = (W - L - R) / BINS;
  el.appendChild(svg("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#444" }));
  el.appendChild(svg("line", { x1: L, y1: T, x2: L, y2: H - B, stroke: "#444" }));
  counts.forEach((c, i) => {
    const bh = ((H - T - B) * c) / max;
    const r = svg("rect", {
      class: "nesy-lq-bar", x: (L + i * bw + 0.5).toFixed(2), y: (H - B - bh).toFixed(2),
      width: (bw - 1).toFixed(2), height: bh.toFixed(2), fill: "#4c72b0", "data-count": c,
    });
    r.appendChild(svg("title", {}, `[${(i / BINS).toFixed(2)}, ${((i + 1) / BINS).toFixed(2)}${i === BINS - 1 ? "]" : ")"}: ${c}`));
    el.appendChild(r);
  });
  for (const x of [0, 0.5, 1]) {
    el.appendChild(svg("text", { x: L + x * (W - L - R), y: H - B + 13, "text-anchor": "middle", "font-size": 10 }, String(x)));
  }
  el.appendChild(svg("text", { x: L - 4, y: T + 8, "text-anchor": "end", "font-size": 10 }, String(max)));
  el.appendChild(svg("text", { x: L - 4, y: H - B, "text-anchor": "end", "font-size": 10 }, "0"));
  el.appendChild(svg("text", { x: L + (W - L - R) / 2, y: H - 4, "text-anchor": "middle", "font-size": 10 }, "truth of the body per image"));
  if (Number.isFinite(value)) {
    const x = L + value * (W - L - R);
    el.appendChild(svg("line", { class: "nesy-lq-marker", x1: x, y1: T, x2: x, y2: H - B, stroke: "#c44e52", "stroke-width": 2, "stroke-dasharray": "4 2" }));
  }
}

function render({ model, el }) {
  const root = h("div", { class: "nesy-lq", style: "font-family: system-ui, sans-serif; font-size: 14px; max-width: 760px; line-height: 1.5" });
  const prepared = h("select", { class: "nesy-lq-prepared", style: "max-width: 100%" });
  const input = h("input", {
    type: "text", class: "nesy-lq-input", spellcheck: "false", autocomplete: "off",
    "aria-label": "query", style: "width: 100%; box-sizing: border-box; font-family: monospace; font-size: 14px; padding: 4px",
  });
  const error = h("div", { class: "nesy-lq-error", role: "alert", style: "color: #c00; white-space: pre; font-family: monospace; font-size: 12px; overflow-x: auto; display: none" });
  const help = h("div", { class: "nesy-lq-help", style: "color: #666; font-size: 12px" });
  const tSlider = h("input", { type: "range", class: "nesy-lq-t", min: "0", max: "1", step: "0.01", "aria-label": "t" });
  const tValue = h("span", { class: "nesy-lq-t-value", style: "font-family: monospace" });
  const semSelects = {};
  const semRow = h("div", { class: "nesy-lq-semantics", style: "display: flex; flex-wrap: wrap; gap: 10px" });
  for (const [key, label] of SEM_LABELS) {
    const sel = h("select", { class: `nesy-lq-sem nesy-lq-${key.replace("_op", "")}`, "data-key": key });
    for (const c of SEMANTICS_CHOICES[key]) sel.appendChild(h("option", { value: c, text: c }));
    semSelects[key] = sel;
    semRow.appendChild(h("label", {}, [`${label} `, sel]));
  }
  const valueEl = h("b", { class: "nesy-lq-value", style: "font-family: monospace; font-size: 16px" });
  const domainEl = h("span", { class: "nesy-lq-domain" });
  const totalEl = h("span", { class: "nesy-lq-total" });
  const hist = svg("svg", { class: "nesy-lq-hist", width: 360, height: 150, viewBox: "0 0 360 150", role: "img", "aria-label": "histogram of per-image truth values" });

  root.append(
    h("div", {}, [h("label", {}, ["prepared query: ", prepared])]),
    input, error, help,
    h("div", {}, [h("label", {}, ["t = ", tSlider]), " ", tValue]),
    semRow,
    h("div", { class: "nesy-lq-result" }, ["truth value ", valueEl, " over ", domainEl, " of ", totalEl, " images"]),
    hist,
  );
  el.appendChild(root);

  const get = (k, d) => {
    const v = model.get(k);
    return v === undefined || v === null ? d : v;
  };

  function fillPrepared() {
    while (prepared.firstChild) prepared.removeChild(prepared.firstChild);
    prepared.appendChild(h("option", { value: "", text: "(custom query)" }));
    get("prepared", []).forEach((p, i) => prepared.appendChild(h("option", { value: String(i), text: p.label || p.query })));
  }
  function syncPrepared() {
    const q = get("query", "");
    const idx = get("prepared", []).findIndex((p) => p.query === q);
    prepared.value = idx >= 0 ? String(idx) : "";
  }
  function syncHelp() {
    const p = get("predicates", []), f = get("functions", []);
    help.textContent = `predicates: ${p.join(", ") || "(none)"} · functions (compare them): ${f.join(", ") || "(none)"} · parameter: t · e.g. forall Im: not oe(Im) -> not Crash(Im)`;
  }
  function syncControls() {
    const q = get("query", "");
    if (input.value !== q) input.value = q;
    const t = Number(get("t", 0.5));
    if (Number(tSlider.value) !== t) tSlider.value = String(t);
    tValue.textContent = t.toFixed(2);
    const s = Object.assign({}, DEFAULT_SEMANTICS, get("semantics", {}));
    for (const [key, sel] of Object.entries(semSelects)) if (sel.value !== s[key]) sel.value = s[key];
    syncPrepared();
  }

  function compute() {
    const outputs = get("outputs", {});
    const names = Object.keys(outputs);
    const n = names.length ? outputs[names[0]].length : 0;
    totalEl.textContent = String(n);
    let res = null, message = "";
    try {
      res = evaluateQuery(get("query", ""), outputs, { t: Number(get("t", 0.5)) }, get("semantics", {}),
        get("predicates", []), get("functions", []));
    } catch (e) {
      message = e && e.message ? e.message : String(e);
    }
    if (res) {
      error.style.display = "none";
      error.textContent = "";
      input.style.outline = "";
      input.removeAttribute("aria-invalid");
      const ok = Number.isFinite(res.value);
      valueEl.textContent = ok ? res.value.toFixed(3) : "NaN (empty domain)";
      valueEl.setAttribute("data-value", ok ? String(res.value) : "NaN");
      domainEl.textContent = String(res.domainSize);
      root.setAttribute("data-domain-size", String(res.domainSize));
      drawHistogram(hist, res.perImage, res.value);
    } else {
      error.style.display = "block";
      error.textContent = message;
      input.style.outline = "2px solid #c00";
      input.setAttribute("aria-invalid", "true");
      valueEl.textContent = "—";
      valueEl.setAttribute("data-value", "");
      domainEl.textContent = "0";
      root.setAttribute("data-domain-size", "0");
      drawHistogram(hist, [], NaN);
    }
    const value = res && Number.isFinite(res.value) ? res.value : null;
    const changes = { value, error: message, domain_size: res ? res.domainSize : 0 };
    let dirty = false;
    for (const [k, v] of Object.entries(changes)) {
      if (model.get(k) !== v) {
        model.set(k, v);
        dirty = true;
      }
    }
    if (dirty) model.save_changes();
  }

  function refresh() {
    syncControls();
    compute();
  }

  // UI -> model (the model's change events then update the view)
  const onInput = () => {
    model.set("query", input.value);
    model.save_changes();
  };
  input.addEventListener("input", onInput);
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") {
      onInput();
      compute();
    }
  });
  prepared.addEventListener("change", () => {
    const p = get("prepared", [])[Number(prepared.value)];
    if (prepared.value === "" || !p) return;
    model.set("query", p.query);
    model.save_changes();
  });
  tSlider.addEventListener("input", () => {
    model.set("t", Number(tSlider.value));
    model.save_changes();
  });
  for (const [key, sel] of Object.entries(semSelects)) {
    sel.addEventListener("change", () => {
      const s = Object.assign({}, DEFAULT_SEMANTICS, get("semantics", {}), { [key]: sel.value });
      model.set("semantics", s);
      model.save_changes();
    });
  }

  // model -> view
  const onPrepared = () => {
    fillPrepared();
    syncPrepared();
  };
  const listeners = [
    ["change:query", refresh], ["change:t", refresh], ["change:semantics", refresh],
    ["change:outputs", refresh], ["change:predicates", () => { syncHelp(); refresh(); }],
    ["change:functions", () => { syncHelp(); refresh(); }], ["change:prepared", onPrepared],
  ];
  for (const [ev, cb] of listeners) model.on(ev, cb);

  fillPrepared();
  syncHelp();
  refresh();
  return () => {
    for (const [ev, cb] of listeners) model.off(ev, cb);
  };
}

export default { render };
