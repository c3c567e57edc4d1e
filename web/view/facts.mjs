// A <dl> of facts: the image's (Tags, ID, Platform…) and the result's (More about this squash).

import { el } from './dom.mjs';

/**
 * Fills `dl` with `facts`: `{ label, value }`, plus `key` and `raw` where the tests (and
 * anyone scripting the page) read a fact by name: then the <dd> has data-key and data-value.
 */
export function showFacts(dl, facts) {
  dl.replaceChildren(
    ...facts.flatMap(({ label, value, key, raw }) => {
      const dd = el('dd', { textContent: value });
      if (key !== undefined) {
        dd.dataset.key = key;
        dd.dataset.value = raw;
      }
      return [el('dt', { textContent: label }), dd];
    }),
  );
}
