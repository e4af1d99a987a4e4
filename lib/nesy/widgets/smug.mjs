// SMUG explorer view: three selectors (image, k, gamma) over precomputed entries.
// Entry keys are `${image}|${k}|${gamma}` with gamma as String(Number) prints it (nesy.widgets.encoding.js_number).
import { fillSelect, h } from "./dom.mjs";

export function entryKey(image, k, gamma) {
  return `${image}|${k}|${Number(gamma)}`;
}

export function describe(e) {
  if (!e) return "not precomputed for this combination (a live kernel computes it)";
  const blocks = e.blocks === null ? `no mask (${e.status})` : `${e.blocks} blocks kept`;
  const lsc = e.lsc === null ? "LSC: no box (empty map)" : `LSC ${e.lsc.toFixed(2)} (a = ${e.area.toFixed(3)}, c = ${e.confidence.toFixed(3)})`;
  const empty = e.empty_mask ? "; the empty mask already satisfies every constraint" : "";
  return `${blocks}, ${e.constraints} constraints, solved in ${e.solve_s.toFixed(3)} s; sparsity ${e.sparsity.toFixed(1)}%; ${lsc}${empty}`;
}

function render({ model, el }) {
  el.classList.add("nesy-smug");
  const controls = h("div", { style: "display:flex;gap:1em;align-items:center;flex-wrap:wrap;margin-bottom:0.4em" });
  const imageSel = h("select", { class: "nesy-smug-image" });
  const kSel = h("select", { class: "nesy-smug-k" }), gammaSel = h("select", { class: "nesy-smug-gamma" });
  controls.append("image ", imageSel, "k ", kSel, "γ ", gammaSel);
  const picture = h("img", { class: "nesy-smug-panels", style: "max-width:100%" });
  const legend = h("div", { style: "font-size:0.8em;color:#555",
    text: "left: pixels kept by the minimal mask (the rest dimmed); middle: SMUG saliency; right: the best LSC box" });
  const info = h("div", { class: "nesy-smug-info", style: "font-family:monospace;font-size:0.85em;margin-top:0.3em" });
  el.append(controls, picture, legend, info);

  function options() {
    const titles = model.get("titles");
    fillSelect(imageSel, titles.map((_, i) => i), titles);
    fillSelect(kSel, model.get("ks"));
    fillSelect(gammaSel, model.get("gammas"));
  }
  function draw() {
    imageSel.value = String(model.get("image"));
    kSel.value = String(model.get("k"));
    gammaSel.value = String(Number(model.get("gamma")));
    const e = model.get("entries")[entryKey(model.get("image"), model.get("k"), model.get("gamma"))];
    if (e) picture.src = e.panels; else picture.removeAttribute("src");
    info.textContent = describe(e);
  }
  imageSel.addEventListener("change", () => { model.set("image", Number(imageSel.value)); model.save_changes(); draw(); });
  kSel.addEventListener("change", () => { model.set("k", Number(kSel.value)); model.save_changes(); draw(); });
  gammaSel.addEventListener("change", () => { model.set("gamma", Number(gammaSel.value)); model.save_changes(); draw(); });
  const listeners = [["change:entries", draw], ["change:image", draw], ["change:k", draw], ["change:gamma", draw],
                     ["change:titles", () => { options(); draw(); }]];
  for (const [ev, cb] of listeners) model.on(ev, cb);
  options();
  draw();
  return () => { for (const [ev, cb] of listeners) model.off(ev, cb); };
}

export default { render };
