// Patch-rules explorer (anywidget view). Everything it shows is embedded in the widget state
// by nesy.widgets.rules.RulesExplorer: per dataset the test images (PNG data URLs), the rules
// they activate (antecedents as shapes with their exact text) and each sample's activated
// rules. It only reads and draws, so it works in the static book without a kernel.

const SCALE = 8;

import { fillSelect, h } from "./dom.mjs";

const el = (tag, cls, text) => h(tag, { ...(cls ? { class: cls } : {}), ...(text !== undefined ? { text } : {}) });

function render({ model, el: root }) {
  const box = h("div", { class: "nesy-rw", style: "font: 13px sans-serif; display: flex; gap: 16px; flex-wrap: wrap;" });
  const left = h("div", { class: "nesy-rw-left" });
  const right = h("div", { class: "nesy-rw-right", style: "min-width: 320px; max-width: 520px;" });
  const datasetSelect = h("select", { class: "nesy-rw-dataset" });
  const slider = h("input", { class: "nesy-rw-sample", type: "range", min: "0", step: "1" });
  const info = h("div", { class: "nesy-rw-info" });
  const canvas = h("canvas", { class: "nesy-rw-canvas",
    style: "image-rendering: pixelated; border: 1px solid #999; margin-top: 6px;" });
  const rulesTitle = h("div", { class: "nesy-rw-rules-title" });
  const list = h("ul", { class: "nesy-rw-rules", style: "list-style: none; padding: 0; margin: 4px 0;" });
  const antecedents = h("ol", { class: "nesy-rw-antecedents" });
  left.append(datasetSelect, el("br"), slider, info, canvas);
  right.append(rulesTitle, list, antecedents);
  box.append(left, right);
  root.append(box);

  const image = new Image();
  let rule = -1;

  function current() {
    return model.get("data")[model.get("dataset")];
  }

  function activatedOf(d, i) {
    return d.samples[i].activated;
  }

  function draw() {
    const d = current();
    canvas.width = d.width * SCALE;
    canvas.height = d.height * SCALE;
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    if (image.complete && image.naturalWidth) ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
    antecedents.replaceChildren();
    if (rule < 0) return;
    const r = d.rules[rule];
    for (const s of r.shapes) {
      ctx.strokeStyle = s.colour;
      ctx.fillStyle = s.colour;
      ctx.lineWidth = 2;
      if (s.kind === "pixel") ctx.fillRect(s.col * SCALE, s.row * SCALE, SCALE, SCALE);
      else ctx.strokeRect(s.col * SCALE + 1, s.row * SCALE + 1, s.size * SCALE - 2, s.size * SCALE - 2);
      const li = el("li", "nesy-rw-antecedent", s.text);
      li.style.color = s.colour;
      antecedents.append(li);
    }
  }

  function showRules() {
    const d = current();
    const i = model.get("sample");
    const active = activatedOf(d, i);
    if (!active.includes(rule)) rule = active.length ? active[0] : -1;
    rulesTitle.textContent = active.length
      ? `${active.length} activated rule(s):`
      : "No rule fires: the default rule (the model's class) applies.";
    list.replaceChildren();
    for (const k of active) {
      const r = d.rules[k];
      const li = el("li");
      const b = el("button", "nesy-rw-rule", `rule ${r.id}: ${r.shapes.length} antecedents → ${r.class_name} (covers ${r.covering})`);
      b.dataset.rule = String(k);
      b.style.cssText = "margin: 2px 0; text-align: left;" + (k === rule ? " font-weight: bold; border: 2px solid #333;" : "");
      b.addEventListener("click", () => {
        rule = k;
        model.set("rule", k);
        model.save_changes();
        showRules();
      });
      li.append(b);
      list.append(li);
    }
    draw();
  }

  function showSample() {
    const d = current();
    const i = Math.min(model.get("sample"), d.samples.length - 1);
    slider.max = String(d.samples.length - 1);
    slider.value = String(i);
    const s = d.samples[i];
    info.textContent = `test sample ${s.id}: true class ${s.label}, model ${s.prediction}`;
    image.onload = draw;
    image.src = s.image;
    showRules();
  }

  function showDatasets() {
    fillSelect(datasetSelect, Object.keys(model.get("data")));
    datasetSelect.value = model.get("dataset");
  }

  datasetSelect.addEventListener("change", () => {
    model.set("dataset", datasetSelect.value);
    model.set("sample", 0);
    model.save_changes();
    rule = -1;
    showSample();
  });
  slider.addEventListener("input", () => {
    model.set("sample", Number(slider.value));
    model.save_changes();
    rule = -1;
    showSample();
  });
  const onChange = () => {
    datasetSelect.value = model.get("dataset");
    rule = model.get("rule");
    showSample();
  };
  model.on("change:dataset", onChange);
  model.on("change:sample", onChange);
  model.on("change:rule", onChange);
  rule = model.get("rule");
  showDatasets();
  showSample();
  return () => {
    model.off("change:dataset", onChange);
    model.off("change:sample", onChange);
    model.off("change:rule", onChange);
  };
}

export default { render };
