// The DOM helpers of every widget view (bundled into each widget's _esm by nesy.widgets.esm).

const SVG_NS = "http://www.w3.org/2000/svg";

/** An element: h("div", {class: "x", style: "...", text: "..."}, [children or strings]). */
export function h(tag, attrs = {}, children = []) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "style") e.style.cssText = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  return e;
}

/** An SVG element with attributes (and text). */
export function svg(tag, attrs = {}, text = null) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== null) e.textContent = text;
  return e;
}

/** Replace a select's options: values[i] shown as labels[i] (default: the value). */
export function fillSelect(select, values, labels = null) {
  select.replaceChildren(...values.map((v, i) => h("option", { value: String(v), text: labels ? labels[i] : String(v) })));
}
