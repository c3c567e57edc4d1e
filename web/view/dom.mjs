// The two DOM helpers every view uses.

/** The element with this id (the ids are index.html's). */
export const $ = (id) => document.getElementById(id);

/** A new element: `el('td', { className: 'num', textContent: '0 B' }, child, …)`. */
export function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}
