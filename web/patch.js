// patch.js: blocks of text described as plain objects and written into the
// DOM in place. A what-if rewrites every card's figures; building each card's
// blocks as new elements to compare with the old ones (isEqualNode) and
// replace them made about 40 elements per card per what-if: most of the
// page's script time in a horizon change, garbage to collect, and new layout
// objects for every block whose text changed. Described as objects, a block
// whose structure is the same is updated by writing the text nodes and
// attributes that differ: a changed figure is one text node's data.
//
//   h(tag, attrs, ...kids)  an element: attrs are attributes (all set with
//                           setAttribute); kids are strings or h()s, null,
//                           undefined and false skipped
//   make(d)                 the element (or text node) d describes
//   patch(node, d)          makes node what d describes, in place where the
//                           tag is the same; returns the node now in its place
//   patchChildren(parent, ds)  the same for parent's children
// Elements made here carry no listeners: one replaced loses nothing.

export function h(tag, attrs, ...kids) {
  return { tag, attrs: attrs || {}, kids: kids.filter((k) => k !== null && k !== undefined && k !== false) };
}

export function make(d) {
  if (typeof d !== 'object') return document.createTextNode(String(d));
  const e = document.createElement(d.tag);
  for (const k in d.attrs) e.setAttribute(k, d.attrs[k]);
  for (const k of d.kids) e.append(make(k));
  return e;
}

// Writes d's attributes onto e and removes any it does not have.
function patchAttrs(e, attrs) {
  let n = 0;
  for (const k in attrs) {
    n++;
    const v = String(attrs[k]);
    if (e.getAttribute(k) !== v) e.setAttribute(k, v);
  }
  if (e.attributes.length === n) return;
  for (const a of [...e.attributes]) if (!(a.name in attrs)) e.removeAttribute(a.name);
}

export function patch(node, d) {
  if (typeof d !== 'object') {
    const t = String(d);
    if (node.nodeType === Node.TEXT_NODE) {
      if (node.data !== t) node.data = t;
      return node;
    }
  } else if (node.nodeType === Node.ELEMENT_NODE && node.localName === d.tag) {
    patchAttrs(node, d.attrs);
    patchChildren(node, d.kids);
    return node;
  }
  const fresh = make(d);
  node.replaceWith(fresh);
  return fresh;
}

// A different count of children is a different structure: rebuilt (a card
// gaining a "vs baseline" line, a longer alert list).
export function patchChildren(parent, ds) {
  const kids = parent.childNodes;
  if (kids.length !== ds.length) {
    parent.replaceChildren(...ds.map(make));
    return;
  }
  for (let i = 0; i < ds.length; i++) patch(kids[i], ds[i]);
}
