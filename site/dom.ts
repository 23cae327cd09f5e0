/**
 * The few DOM calls the page makes, typed here rather than through TypeScript's lib.dom: the
 * project compiles against Node's types, and lib.dom would retype WebCrypto for every room.
 * Text always goes in as text nodes, never as HTML: file names and error messages come from the
 * network.
 */

export interface PageElement {
  append(...children: Array<PageElement | string>): void;
  replaceChildren(...children: Array<PageElement | string>): void;
  setAttribute(name: string, value: string): void;
  className: string;
  textContent: string | null;
  readonly firstElementChild: PageElement | null;
}

interface PageDocument {
  createElement(tag: string): PageElement;
  createElementNS(namespace: string, tag: string): PageElement;
  getElementById(id: string): PageElement | null;
  documentElement: PageElement & { dataset: Record<string, string | undefined> };
}

/** The browser's document (absent in Node, where only the pure modules of the page are tested). */
export function pageDocument(): PageDocument {
  return (globalThis as unknown as { document: PageDocument }).document;
}

type Child = PageElement | string | null | undefined | false;

/** `h('td', { class: 'x', 'data-label': 'Keys' }, '12')`. */
export function h(tag: string, attributes: Record<string, string> = {}, ...children: Child[]): PageElement {
  const element = pageDocument().createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  for (const child of children) if (child) element.append(child);
  return element;
}

const SVG = 'http://www.w3.org/2000/svg';

/** An SVG element; presentation goes through classes in style.css (the CSP allows no inline style). */
export function svg(tag: string, attributes: Record<string, string | number> = {}, ...children: Child[]): PageElement {
  const element = pageDocument().createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  for (const child of children) if (child) element.append(child);
  return element;
}

export function byId(id: string): PageElement {
  const element = pageDocument().getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element;
}
