/**
 * The few DOM calls the page makes, typed here rather than through TypeScript's lib.dom: the
 * project compiles against Node's types, and lib.dom would retype WebCrypto for every room.
 * Text always goes in as text nodes, never as HTML: file names and error messages come from the
 * network.
 */
import type { Markup } from './markup';

export interface PageElement {
  append(...children: Array<PageElement | string>): void;
  replaceChildren(...children: Array<PageElement | string>): void;
  /** Inserts before this element, in its parent. */
  before(...nodes: Array<PageElement | string>): void;
  setAttribute(name: string, value: string): void;
  getAttribute(name: string): string | null;
  removeAttribute(name: string): void;
  hasAttribute(name: string): boolean;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
  addEventListener(type: string, listener: () => void): void;
  className: string;
  textContent: string | null;
  /** `<button>` */
  disabled?: boolean;
  /** `<details>` */
  open?: boolean;
  hidden: boolean;
}

interface PageDocument {
  createElement(tag: string): PageElement;
  getElementById(id: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
  documentElement: PageElement & { dataset: Record<string, string | undefined> };
}

/** The browser's document (absent in Node, where only the pure modules of the page are tested). */
export function pageDocument(): PageDocument {
  return (globalThis as unknown as { document: PageDocument }).document;
}

type Child = PageElement | string | null | undefined | false;

/** `h('button', { type: 'button' }, 'Check')`: for the few elements only the script adds. */
export function h(tag: string, attributes: Record<string, string> = {}, ...children: Child[]): PageElement {
  const element = pageDocument().createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  for (const child of children) if (child) element.append(child);
  return element;
}

/** The DOM of markup the publisher would have written as HTML (page-content.ts). */
export function toDom(markup: Markup): PageElement | string {
  if (typeof markup === 'string') return markup;
  const element = pageDocument().createElement(markup.tag);
  for (const [name, value] of Object.entries(markup.attributes)) element.setAttribute(name, value);
  for (const child of markup.children) element.append(toDom(child));
  return element;
}

export function byId(id: string): PageElement {
  const element = pageDocument().getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element;
}

export function all(root: { querySelectorAll(selector: string): ArrayLike<PageElement> }, selector: string): PageElement[] {
  return Array.from(root.querySelectorAll(selector));
}
