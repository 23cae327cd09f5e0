/**
 * The edge hardening as Azure receives it: read from the compiled ARM template's JSON (rule
 * objects, regular expressions, header names), not from the declaration, so a compiler that drops
 * or mangles a rule fails here.
 */
import { loadAzureEdgeConfig } from '../config';
import { keyfrontEdge } from '../keyfront';
import { validateEdgeDeclaration } from '../validate';
import { compileArmTemplate, type ArmTemplateResource } from './template';

const config = loadAzureEdgeConfig({ KEYFRONT_EDGE_STORAGE_ACCOUNT: 'kfexports' });
const template = JSON.parse(JSON.stringify(compileArmTemplate(validateEdgeDeclaration(keyfrontEdge(config.environment), 'azure')))) as { resources: ArmTemplateResource[] };
const profile = config.environment.profileName;

interface WafRuleJson {
  name: string;
  priority: number;
  ruleType: string;
  action: string;
  enabledState: string;
  matchConditions: { matchVariable: string; operator: string; negateCondition: boolean; matchValue: string[]; transforms: string[] }[];
}
interface DeliveryRuleJson {
  order: number;
  conditions: unknown[];
  actions: { name: string; parameters: Record<string, unknown> }[];
}

const wafRules = (template.resources.find((r) => r.type === 'Microsoft.Network/FrontDoorWebApplicationFirewallPolicies')?.properties?.customRules as { rules: WafRuleJson[] }).rules;
const wafRule = (name: string): WafRuleJson => {
  const rule = wafRules.find((r) => r.name === name);
  if (!rule) throw new Error(`no WAF custom rule ${name}`);
  return rule;
};
const routes = template.resources.filter((r) => r.type === 'Microsoft.Cdn/profiles/afdEndpoints/routes');
const rulesOf = (ruleSet: string) => template.resources.filter((r) => r.type === 'Microsoft.Cdn/profiles/ruleSets/rules' && r.name.startsWith(`${profile}/${ruleSet}/`)).map((r) => r.properties as unknown as DeliveryRuleJson);
const ruleSetRef = (name: string) => ({ id: `[resourceId('Microsoft.Cdn/profiles/ruleSets', '${profile}', '${name}')]` });
const storageRoutes = routes.filter((r) => (r.properties?.originGroup as { id: string }).id.includes("'exports')"));

/** A WAF condition of the compiled JSON as a predicate over a request URI (transforms: UrlDecode only, as used). */
function uriCondition(condition: WafRuleJson['matchConditions'][number]): (uri: string) => boolean {
  expect(condition).toMatchObject({ matchVariable: 'RequestUri', operator: 'RegEx' });
  const patterns = condition.matchValue.map((value) => new RegExp(value));
  return (uri) => {
    const subject = condition.transforms.includes('UrlDecode') ? decodeURIComponent(uri.replace(/%(?![0-9A-Fa-f]{2})/g, '%25')) : uri;
    expect(condition.transforms.filter((t) => t !== 'UrlDecode')).toEqual([]);
    return patterns.some((pattern) => pattern.test(subject)) !== condition.negateCondition;
  };
}

const CANONICAL = ['/', '/v1/440/index.txt', '/v1/440/index.json', '/v1/440/1700000000-1700003600-00001.zip', '/v1/DE_x-1/index.txt', '/site/index.html', '/site/app.js', '/site/style.css', '/site/config.json', '/site/logo.v2.svg', '/site/signing-key.pem'];
const REFUSED = [
  '/v1/440/index.txt?comp=list', '/v1/440/index.txt?restype=container', '/?utm_source=x', '/v1/440/index.txt?', '/site/app.js?v=1',
  '/v1/440/%69ndex.txt', '/v1/440/index%2etxt', '/v1%2f440/index.txt', '/V1/440/index.txt', '/v1/440/INDEX.TXT', '/site/App.js',
  '/v1/440//index.txt', '/v1/440/./index.txt', '/v1/x/../440/index.txt', '/v1/440/index.txt/', '/v1/440/other.txt', '/v1/440/1-2-3.zip',
  '/v1/440/', '/v1/', '/site/', '/site/.hidden.js', '/site/a/b.js', '/site/index.php', '/site/other.pem', '/site/signing-key.PEM', '/site/signing-key.pem.js?', '/exports/v1/440/index.txt', '/robots.txt',
];

describe('the hardening in the compiled ARM template', () => {
  it('refuses at the WAF every read path but the canonical names the publisher writes, and any query', () => {
    const rule = wafRule('ReadPathsOnly');
    expect(rule).toMatchObject({ ruleType: 'MatchRule', action: 'Block', enabledState: 'Enabled' });
    const [notApi, notAllowed] = rule.matchConditions.map(uriCondition);
    const blocked = (uri: string) => notApi(uri) && notAllowed(uri);
    for (const path of CANONICAL) expect([path, blocked(`https://edge.example${path}`), blocked(path)]).toEqual([path, false, false]);
    for (const path of REFUSED) expect([path, blocked(`https://edge.example${path}`), blocked(path)]).toEqual([path, true, true]);
    // The API keeps its own rules: its paths are outside this one.
    expect(blocked('https://edge.example/api/v1/publish?x=1')).toBe(false);
  });

  it('refuses methods other than GET and HEAD on every path that is not the API', () => {
    const rule = wafRule('ReadMethods');
    expect(rule).toMatchObject({ ruleType: 'MatchRule', action: 'Block' });
    const [notApi] = rule.matchConditions.map((condition) => (condition.matchVariable === 'RequestUri' ? uriCondition(condition) : () => true));
    expect(rule.matchConditions[1]).toEqual({ matchVariable: 'RequestMethod', operator: 'Equal', negateCondition: true, matchValue: ['GET', 'HEAD'], transforms: [] });
    expect(['/', '/site/app.js', '/v1/440/index.txt'].every((path) => notApi(`https://edge.example${path}`))).toBe(true);
    expect(notApi('https://edge.example/api/v1/register')).toBe(false);
  });

  it('refuses, before any other rule, a path with an empty or dot segment or a backslash, however it is encoded', () => {
    const rule = wafRule('NonCanonicalPath');
    expect(rule.priority).toBe(Math.min(...wafRules.map((r) => r.priority)));
    const [nonCanonical] = rule.matchConditions.map(uriCondition);
    for (const path of ['/v1//440/index.txt', '//v1/440/index.txt', '/v1/./440/index.txt', '/v1/%2e%2e/v1/440/index.txt', '/api/v1/%2E/publish', '/v1/440%2F%2Findex.txt', '/api\\v1/publish', '/v1/440/..']) {
      expect([path, nonCanonical(`https://edge.example${path}`)]).toEqual([path, true]);
    }
    for (const path of [...CANONICAL, '/api/v1/publish', '/v1/440/index.txt?x=/./']) expect([path, nonCanonical(`https://edge.example${path}`)]).toEqual([path, false]);
  });

  it('deletes every request header Blob storage reads on a GET, on every route to the storage origin', () => {
    const rules = rulesOf('BlobRequestHeaders');
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect(rule.conditions).toEqual([]);
      expect(rule.actions.length).toBeLessThanOrEqual(5);
      for (const action of rule.actions) expect(action).toEqual({ name: 'ModifyRequestHeader', parameters: { typeName: 'DeliveryRuleHeaderActionParameters', headerAction: 'Delete', headerName: expect.any(String) } });
    }
    const deleted = rules.flatMap((rule) => rule.actions.map((action) => String(action.parameters.headerName).toLowerCase()));
    for (const header of ['authorization', 'origin', 'x-ms-version', 'x-ms-date', 'x-ms-range', 'x-ms-lease-id', 'x-ms-encryption-key', 'x-ms-if-tags', 'x-ms-range-get-content-md5']) expect(deleted).toContain(header);
    // Front Door reserves these (no rule may modify them; its cache answers them itself): a rule naming one would not deploy.
    for (const header of ['range', 'if-range', 'if-match', 'if-unmodified-since']) expect(deleted).not.toContain(header);
    expect(storageRoutes.map((r) => r.name.split('/')[2]).sort()).toEqual(['exports', 'site', 'site-root']);
    for (const route of storageRoutes) expect(route.properties?.ruleSets).toContainEqual(ruleSetRef('BlobRequestHeaders'));
  });

  it('keeps every query string out of every storage route\'s cache key, and serves them GET-only through the cache', () => {
    for (const route of storageRoutes) {
      expect(route.properties).toMatchObject({ originPath: '/exports', forwardingProtocol: 'HttpsOnly', cacheConfiguration: { queryStringCachingBehavior: 'IgnoreQueryString' } });
    }
  });

  it('serves the edge root from the blob site/index.html by a URL rewrite, and /site/* as files', () => {
    const root = routes.find((r) => r.name === `${profile}/${config.environment.endpointName}/site-root`);
    const site = routes.find((r) => r.name === `${profile}/${config.environment.endpointName}/site`);
    expect(root?.properties).toMatchObject({ patternsToMatch: ['/'], cacheConfiguration: { compressionSettings: { isCompressionEnabled: true, contentTypesToCompress: ['text/html'] } } });
    expect(site?.properties).toMatchObject({ patternsToMatch: ['/site/*'] });
    expect(root?.properties?.ruleSets).toContainEqual(ruleSetRef('SiteRootRewrite'));
    expect(site?.properties?.ruleSets).not.toContainEqual(ruleSetRef('SiteRootRewrite'));
    expect(rulesOf('SiteRootRewrite')).toEqual([
      { order: 1, conditions: [], matchProcessingBehavior: 'Continue', actions: [{ name: 'UrlRewrite', parameters: { typeName: 'DeliveryRuleUrlRewriteActionParameters', sourcePattern: '/', destination: '/site/index.html', preserveUnmatchedPath: false } }] },
    ]);
  });

  it('sets the page\'s strict security headers on / and /site/* responses', () => {
    const headers = Object.fromEntries(rulesOf('SitePageHeaders').flatMap((rule) => rule.actions).map((action) => [action.parameters.headerName, action.parameters]));
    expect(headers['Content-Security-Policy']).toEqual({ typeName: 'DeliveryRuleHeaderActionParameters', headerAction: 'Overwrite', headerName: 'Content-Security-Policy', value: "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'" });
    expect(headers['Referrer-Policy']).toMatchObject({ headerAction: 'Overwrite', value: 'no-referrer' });
    expect(headers['X-Content-Type-Options']).toMatchObject({ headerAction: 'Overwrite', value: 'nosniff' });
    for (const name of ['site-root', 'site']) expect(routes.find((r) => r.name.endsWith(`/${name}`))?.properties?.ruleSets).toContainEqual(ruleSetRef('SitePageHeaders'));
    expect(routes.find((r) => r.name.endsWith('/exports'))?.properties?.ruleSets).not.toContainEqual(ruleSetRef('SitePageHeaders'));
  });
});
