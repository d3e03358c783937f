// Small DOM helpers. Text from the API always goes in as text nodes, never as HTML.

/** h("div", {class: "x", onclick: fn, dataset: {id}}, "text", childNode, [more]) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "value" || key === "checked" || key === "selected") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export const $ = (selector, root = document) => root.querySelector(selector);

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A two-column table of [label, value] rows. */
export function kvTable(rows) {
  return h("table", {class: "kv"},
    rows.filter(([, v]) => v !== undefined).map(([k, v]) =>
      h("tr", {}, h("th", {}, k), h("td", {}, v === null || v === "" ? "—" : v))));
}

/** A table with a header row and body rows (arrays of cells). */
export function table(headers, rows, attrs = {}) {
  return h("table", {class: "grid", ...attrs},
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c))))));
}

/** Options for a <select>: items [{value, label}], with an optional empty first choice. */
export function options(select, items, empty = null) {
  const current = select.value;
  replace(select, empty === null ? [] : [h("option", {value: ""}, empty)],
    items.map((it) => h("option", {value: it.value}, it.label)));
  if ([...select.options].some((o) => o.value === current)) select.value = current;
}

export const short = (id) => (id ? String(id).slice(0, 8) : "");
export const nameOf = (r) => (r && r.name) || short(r && r.id);
