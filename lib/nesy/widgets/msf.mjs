// Front end of nesy.widgets.msf.MSFExplorer: draws an image, the ERF outline of the clicked
// target feature position (red) and of every position in its minimal significant feature set
// (Algorithm 2), all from the precomputed data in the widget state (no kernel needed).
// Imports only the DOM helpers (./dom.mjs; the widget bundles them): served by the book itself.

import { fillSelect, h } from "./dom.mjs";

const COLOURS = ["#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#17becf", "#bcbd22", "#8c564b", "#e377c2"];
const SCALE = 1.6;

export function entry(model) {
  const m = model.get("msf");
  const row = m[model.get("image")] || [];
  const perAlpha = row[model.get("alpha_index")] || [];
  return perAlpha[model.get("target")] || null;
}

export function cellAt(model, x, y) {
  // (x, y) in displayed pixels -> position index, row-major over the feature grid.
  const [H, W] = model.get("grid");
  const side = model.get("size") * SCALE;
  const col = Math.min(W - 1, Math.max(0, Math.floor((x / side) * W)));
  const r = Math.min(H - 1, Math.max(0, Math.floor((y / side) * H)));
  return r * W + col;
}

function render({ model, el }) {
  el.classList.add("nesy-msf");
  const controls = h("div", { style: "display:flex;gap:1em;align-items:center;flex-wrap:wrap;margin-bottom:0.4em" });
  const select = h("select", { class: "nesy-msf-image" });
  const slider = h("input", { type: "range", class: "nesy-msf-alpha", step: "1" });
  const alphaLabel = h("span", { class: "nesy-msf-alpha-value" });
  controls.append("image ", select, "alpha ", slider, alphaLabel);

  const canvas = h("canvas", { class: "nesy-msf-canvas", style: "cursor:crosshair" });
  const info = h("div", { class: "nesy-msf-info", style: "font-family:monospace;font-size:0.85em;margin-top:0.3em" });
  el.append(controls, canvas, info);

  const picture = new Image();
  let loadedFor = -1;

  function ellipse(ctx, o, colour, width) {
    const [cx, cy, rx, ry] = o.map((v) => v * SCALE);
    ctx.beginPath();
    ctx.ellipse(cx, cy, Math.max(rx, 2), Math.max(ry, 2), 0, 0, 2 * Math.PI);
    ctx.strokeStyle = colour;
    ctx.lineWidth = width;
    ctx.stroke();
  }

  function draw() {
    const side = model.get("size") * SCALE;
    const [H, W] = model.get("grid");
    canvas.width = side;
    canvas.height = side;
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, side, side);
    if (picture.complete && loadedFor === model.get("image")) ctx.drawImage(picture, 0, 0, side, side);
    ctx.strokeStyle = "rgba(255,255,255,0.35)";
    ctx.lineWidth = 1;
    for (let i = 1; i < W; i++) { ctx.beginPath(); ctx.moveTo((i * side) / W, 0); ctx.lineTo((i * side) / W, side); ctx.stroke(); }
    for (let i = 1; i < H; i++) { ctx.beginPath(); ctx.moveTo(0, (i * side) / H); ctx.lineTo(side, (i * side) / H); ctx.stroke(); }
    const t = model.get("target");
    const outlines = model.get("outlines")[model.get("image")];
    const e = entry(model);
    if (e) {
      e.indices.forEach((i, k) => {
        const colour = COLOURS[k % COLOURS.length];
        ctx.globalAlpha = 0.45;
        ctx.fillStyle = colour;
        ctx.fillRect(((i % W) * side) / W, (Math.floor(i / W) * side) / H, side / W, side / H);
        ctx.globalAlpha = 1;
        ellipse(ctx, outlines[i], colour, 2);
      });
    }
    const r = Math.floor(t / W), c = t % W;
    ctx.strokeStyle = "red";
    ctx.lineWidth = 2;
    ctx.strokeRect((c * side) / W, (r * side) / H, side / W, side / H);
    ellipse(ctx, outlines[t], "red", 3);
  }

  function update() {
    const titles = model.get("titles");
    if (select.options.length !== titles.length) {
      fillSelect(select, titles.map((_, i) => i), titles);
    }
    select.value = String(model.get("image"));
    const alphas = model.get("alphas");
    slider.min = "0";
    slider.max = String(alphas.length - 1);
    slider.value = String(model.get("alpha_index"));
    alphaLabel.textContent = `α = ${alphas[model.get("alpha_index")]}`;
    const [, W] = model.get("grid");
    const t = model.get("target");
    const e = entry(model);
    info.dataset.image = String(model.get("image"));
    info.dataset.target = String(t);
    info.dataset.alpha = String(alphas[model.get("alpha_index")]);
    if (!e) {
      info.dataset.indices = "";
      info.textContent = `target (${Math.floor(t / W)}, ${t % W}): no MSF computed (all-zero feature vector, or not precomputed)`;
    } else {
      info.dataset.indices = JSON.stringify(e.indices);
      const cells = e.indices.map((i) => `(${Math.floor(i / W)},${i % W})`).join(" ");
      info.textContent = `target (${Math.floor(t / W)}, ${t % W}): MSF of ${e.indices.length} vectors, ` +
        `d = ${e.similarity.toFixed(3)} >= α·s_ref = ${(alphas[model.get("alpha_index")] * e.s_ref).toFixed(3)} ` +
        `(s_ref = ${e.s_ref.toFixed(3)}): ${cells}`;
    }
    const image = model.get("image");
    if (loadedFor !== image) {
      picture.onload = () => { loadedFor = image; draw(); };
      picture.src = model.get("images")[image];  // a data URL
    }
    draw();
  }

  select.addEventListener("change", () => { model.set("image", Number(select.value)); model.save_changes(); update(); });
  slider.addEventListener("input", () => { model.set("alpha_index", Number(slider.value)); model.save_changes(); update(); });
  canvas.addEventListener("click", (event) => {
    const box = canvas.getBoundingClientRect();
    model.set("target", cellAt(model, event.clientX - box.left, event.clientY - box.top));
    model.save_changes();
    update();
  });
  for (const name of ["image", "target", "alpha_index", "alphas", "msf"]) model.on(`change:${name}`, update);
  update();
}

export default { render };
