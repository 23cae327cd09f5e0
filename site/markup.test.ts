import { el, escapeHtml, toHtml } from './markup';

describe('the page markup as data', () => {
  it('writes elements, attributes and text as HTML, escaping every text and value', () => {
    const markup = el('p', { class: 'x', title: 'a "b" <c>' }, 'one & <two>', el('br'), el('code', {}, "it's"));
    expect(toHtml(markup)).toBe('<p class="x" title="a &quot;b&quot; &lt;c&gt;">one &amp; &lt;two&gt;<br><code>it&#39;s</code></p>');
  });

  it('leaves out absent children and attributes, and flattens lists', () => {
    expect(toHtml(el('ul', { hidden: undefined }, null, false, undefined, [el('li', {}, 'a'), [el('li', {}, 'b')]]))).toBe('<ul><li>a</li><li>b</li></ul>');
  });

  it('cannot be made to write a comment, a tag or an attribute from data', () => {
    const hostile = '--><script>alert(1)</script><!--';
    expect(toHtml(el('td', { 'data-path': hostile }, hostile))).not.toMatch(/<script|<!--|-->/);
    expect(escapeHtml(hostile)).toBe('--&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;!--');
  });

  it.each([['a tag', () => el('scr ipt')], ['an attribute', () => el('a', { 'on click': 'x' })], ['an upper-case attribute', () => el('a', { onClick: 'x' })]])('refuses %s name that is not one', (_what, make) => {
    expect(make).toThrow(/not a(n attribute| tag) name/);
  });
});
