import type { RuleSetDeclaration, UrlRewriteAction } from '../declaration';
import { matchedPrefix, matchRoute } from './routes';
import { applyHeaderEdits, conditionMatches, evaluateRuleSets, rewritePath } from './rules';

describe('route matching', () => {
  const routes = [
    { name: 'all', patterns: ['/*'] },
    { name: 'api', patterns: ['/api/*'] },
    { name: 'publish', patterns: ['/api/v1/publish'] },
  ];
  it.each([
    ['/api/v1/publish', 'publish'],
    ['/api/v1/register', 'api'],
    ['/api', 'api'],
    ['/apiary', 'all'],
    ['/v1/440/index.txt', 'all'],
  ])('%s goes to %s (the most specific pattern)', (path, route) => {
    expect(matchRoute(routes, path)?.name).toBe(route);
  });
  it('matches nothing without a catch-all', () => {
    expect(matchRoute([{ name: 'api', patterns: ['/api/*'] }], '/v1/x')).toBeUndefined();
  });
});

describe('the rules engine', () => {
  const request = { method: 'GET', path: '/v1/440/Index.TXT', headers: { origin: 'https://page.example' } };

  it.each([
    [{ type: 'UrlPath', operator: 'BeginsWith', values: ['v1/'], negate: false, transforms: [] }, true],
    [{ type: 'UrlPath', operator: 'BeginsWith', values: ['/v1/'], negate: false, transforms: [] }, false],
    [{ type: 'UrlPath', operator: 'EndsWith', values: ['index.txt'], negate: false, transforms: ['Lowercase'] }, true],
    [{ type: 'UrlPath', operator: 'EndsWith', values: ['index.txt'], negate: false, transforms: [] }, false],
    [{ type: 'UrlFileExtension', operator: 'Equal', values: ['zip'], negate: true, transforms: ['Lowercase'] }, true],
    [{ type: 'RequestMethod', values: ['GET', 'HEAD'], negate: false }, true],
    [{ type: 'RequestHeader', header: 'Origin', operator: 'Any', values: [], negate: false, transforms: [] }, true],
    [{ type: 'RequestHeader', header: 'Referer', operator: 'Any', values: [], negate: false, transforms: [] }, false],
  ] as const)('%j matches: %s', (condition, expected) => {
    expect(conditionMatches(condition as never, request)).toBe(expected);
  });

  it('applies rule sets in order, rules by order, and stops a set when a rule says so', () => {
    const sets: RuleSetDeclaration[] = [
      {
        name: 'First',
        rules: [
          { name: 'Later', order: 2, conditions: [], actions: [{ type: 'ModifyResponseHeader', headerAction: 'Append', header: 'X-Trace', value: 'later' }], stopEvaluatingRemainingRules: false },
          { name: 'Sooner', order: 1, conditions: [], actions: [{ type: 'ModifyResponseHeader', headerAction: 'Overwrite', header: 'X-Trace', value: 'sooner' }], stopEvaluatingRemainingRules: true },
        ],
      },
      { name: 'Second', rules: [{ name: 'Req', order: 1, conditions: [], actions: [{ type: 'ModifyRequestHeader', headerAction: 'Delete', header: 'Cookie' }, { type: 'ModifyResponseHeader', headerAction: 'Append', header: 'X-Trace', value: 'second' }], stopEvaluatingRemainingRules: false }] },
    ];
    const outcome = evaluateRuleSets(sets, request);
    const response: Record<string, string | string[] | undefined> = { 'x-trace': 'origin' };
    applyHeaderEdits(response, outcome.responseHeaders);
    expect(response['x-trace']).toEqual(['sooner', 'second']);
    const requestHeaders: Record<string, string | string[] | undefined> = { cookie: 'a=1' };
    applyHeaderEdits(requestHeaders, outcome.requestHeaders);
    expect(requestHeaders).toEqual({});
  });

  it('rewrites the path after the route\'s pattern, as Front Door does, and keeps the rest only when asked', () => {
    const toIndex: UrlRewriteAction = { type: 'UrlRewrite', sourcePattern: '/', destination: '/site/index.html', preserveUnmatchedPath: false };
    const intoOld: UrlRewriteAction = { type: 'UrlRewrite', sourcePattern: '/new/', destination: '/old/', preserveUnmatchedPath: true };
    expect(rewritePath('/', matchedPrefix({ patterns: ['/'] }, '/'), toIndex)).toBe('/site/index.html');
    expect(rewritePath('/site/new/a.js', matchedPrefix({ patterns: ['/site/*'] }, '/site/new/a.js'), intoOld)).toBe('/site/old/a.js');
    expect(rewritePath('/site/other/a.js', '/site', intoOld)).toBe('/site/other/a.js');
    expect(rewritePath('/site/a.js', '/site', undefined)).toBe('/site/a.js');
    const outcome = evaluateRuleSets([{ name: 'Rewrite', rules: [{ name: 'Root', order: 1, conditions: [], actions: [toIndex], stopEvaluatingRemainingRules: false }] }], request);
    expect([outcome.rewrite, outcome.requestHeaders, outcome.responseHeaders]).toEqual([toIndex, [], []]);
  });

  it('names the part of the path a route\'s most specific pattern covers', () => {
    expect(matchedPrefix({ patterns: ['/v1/*', '/v1/440/*'] }, '/v1/440/index.txt')).toBe('/v1/440');
    expect(matchedPrefix({ patterns: ['/'] }, '/')).toBe('');
    expect(matchedPrefix({ patterns: ['/site/*'] }, '/site')).toBe('/site');
  });
});
