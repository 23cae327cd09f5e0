/**
 * The page's markup as plain data, so that one renderer serves both sides: the publisher writes it
 * as HTML text at publish time (`toHtml`, the page then reads fully without JavaScript) and the
 * script turns the same nodes into DOM elements for rows it has to add (`toDom` in dom.ts). No DOM
 * and no Node here. Text and attribute values are always escaped: file names come from storage.
 */

export interface MarkupElement {
  readonly tag: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly Markup[];
}

export type Markup = MarkupElement | string;

/** What `el` takes as a child: `null`, `undefined` and `false` are left out, so conditions read inline. */
export type MarkupChild = Markup | null | undefined | false | readonly MarkupChild[];

const TAG = /^[a-z][a-z0-9]*$/;
const ATTRIBUTE = /^[a-z][a-z0-9-]*$/;
/** Elements that have no closing tag in HTML. */
const VOID = new Set(['br', 'hr', 'img', 'input', 'link', 'meta', 'wbr']);

function flatten(children: readonly MarkupChild[], into: Markup[]): Markup[] {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) flatten(child as readonly MarkupChild[], into);
    else into.push(child as Markup);
  }
  return into;
}

/** `el('td', { class: 'num' }, '12')`. Tag and attribute names are checked: they are never data. */
export function el(tag: string, attributes: Record<string, string | undefined> = {}, ...children: MarkupChild[]): MarkupElement {
  if (!TAG.test(tag)) throw new Error(`not a tag name: ${JSON.stringify(tag)}`);
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (!ATTRIBUTE.test(name)) throw new Error(`not an attribute name: ${JSON.stringify(name)}`);
    if (value !== undefined) kept[name] = value;
  }
  return { tag, attributes: kept, children: flatten(children, []) };
}

const TEXT_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for an HTML text node or a double-quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => TEXT_ESCAPES[character]);
}

/** The HTML text of `markup`. */
export function toHtml(markup: Markup | readonly Markup[]): string {
  if (Array.isArray(markup)) return markup.map((part) => toHtml(part)).join('');
  if (typeof markup === 'string') return escapeHtml(markup);
  const node = markup as MarkupElement;
  const attributes = Object.entries(node.attributes)
    .map(([name, value]) => ` ${name}="${escapeHtml(value)}"`)
    .join('');
  if (VOID.has(node.tag)) return `<${node.tag}${attributes}>`;
  return `<${node.tag}${attributes}>${node.children.map((child) => toHtml(child)).join('')}</${node.tag}>`;
}
