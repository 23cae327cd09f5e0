import { localEdgeEnvironment, loadAzureEdgeConfig } from './config';
import type { EdgeDeclaration } from './declaration';
import { keyfrontEdge } from './keyfront';
import { EdgeConfigError, validateEdgeDeclaration } from './validate';

const azure = () => keyfrontEdge(loadAzureEdgeConfig({}).environment);
const local = () => keyfrontEdge(localEdgeEnvironment({ api: 'http://127.0.0.1:7071', blobPrimary: 'http://127.0.0.1:10000/devstoreaccount1' }));

function problemsOf(declaration: EdgeDeclaration, target: 'azure' | 'local' = 'azure'): string[] {
  try {
    validateEdgeDeclaration(declaration, target);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(EdgeConfigError);
    return (error as EdgeConfigError).problems.map((p) => `${p.field}: ${p.problem}`);
  }
}

describe('validateEdgeDeclaration', () => {
  it('accepts keyfront\'s declaration for Azure and for the local edge', () => {
    expect(problemsOf(azure(), 'azure')).toEqual([]);
    expect(problemsOf(local(), 'local')).toEqual([]);
  });

  it.each<[string, (d: EdgeDeclaration) => void, string]>([
    ['a route naming an unknown origin group', (d) => (d.routes[1].originGroup = 'exprots'), 'routes[1].originGroup: names no origin group ("exprots"); declared: api, exports'],
    ['a route naming an unknown rule set', (d) => (d.routes[0].ruleSets = ['Nope']), 'routes[0].ruleSets[0]: names no rule set'],
    ['a pattern with a star in the middle', (d) => (d.routes[1].patterns = ['/v1/*/index.txt']), 'routes[1].patterns[0]: may hold "*" only as a final "/*"'],
    ['two routes with the same pattern', (d) => (d.routes[1].patterns = ['/api/*']), 'routes: duplicate path pattern "/api/*"'],
    ['an origin priority out of range', (d) => (d.originGroups[1].origins[1].priority = 6), 'originGroups[1].origins[1].priority: must be an integer in 1..5, got 6'],
    ['an origin weight out of range', (d) => (d.originGroups[0].origins[0].weight = 0), 'originGroups[0].origins[0].weight: must be an integer in 1..1000'],
    ['more samples required than taken', (d) => (d.originGroups[0].loadBalancing.successfulSamplesRequired = 5), 'originGroups[0].loadBalancing.successfulSamplesRequired: must be an integer in 1..4, got 5'],
    ['a failover group without a probe', (d) => delete d.originGroups[1].healthProbe, 'originGroups[1].healthProbe: is required when a group has more than one origin'],
    ['an origin URL with a path in Azure', (d) => (d.originGroups[1].origins[0].url = 'https://acct.blob.core.windows.net/exports'), 'originGroups[1].origins[0].url: must be a host without a path in Azure'],
    ['a plain-HTTP origin in Azure', (d) => (d.originGroups[0].origins[0].url = 'http://api.example.org'), 'originGroups[0].origins[0].url: must be https:'],
    ['a UrlPath condition with a leading slash', (d) => d.ruleSets[1].rules[0].conditions.push({ type: 'UrlPath', operator: 'BeginsWith', values: ['/v1/'], negate: false, transforms: [] }), 'ruleSets[1].rules[0].conditions[0].values[0]: must not start with "/"'],
    ['a rule set name with a hyphen', (d) => (d.ruleSets[0].name = 'Security-Headers'), 'ruleSets[0].name: must be 1-60 characters of letters and digits'],
    ['an Overwrite action without a value', (d) => delete (d.ruleSets[0].rules[0].actions[0] as { value?: string }).value, 'ruleSets[0].rules[0].actions[0].value: must be a one-line string'],
    ['a URL rewrite to a path with a query', (d) => (d.ruleSets[4].rules[0].actions[0] = { type: 'UrlRewrite', sourcePattern: '/', destination: '/site/index.html?comp=list', preserveUnmatchedPath: false }), 'ruleSets[4].rules[0].actions[0].destination: must be a path starting with "/"'],
    ['a URL rewrite source that is not a path', (d) => (d.ruleSets[4].rules[0].actions[0] = { type: 'UrlRewrite', sourcePattern: 'site', destination: '/site/index.html', preserveUnmatchedPath: false }), 'ruleSets[4].rules[0].actions[0].sourcePattern: must be a path prefix starting with "/"'],
    // Front Door refuses a rule set action on a reserved header (Rule set actions, the note on reserved headers).
    ['a rule deleting Range, which Front Door reserves', (d) => ((d.ruleSets[2].rules[0].actions[0] as { header: string }).header = 'Range'), 'ruleSets[2].rules[0].actions[0].header: Range is reserved by Front Door: no rule set action may modify it'],
    ['a rule setting an x-fd header', (d) => ((d.ruleSets[0].rules[0].actions[0] as { header: string }).header = 'X-FD-Anything'), 'ruleSets[0].rules[0].actions[0].header: X-FD-Anything is reserved by Front Door'],
    ['a WAF policy name with a hyphen', (d) => (d.waf.name = 'keyfront-waf'), 'waf.name: must be 1-128 characters of letters and digits'],
    ['two WAF rules with one priority', (d) => (d.waf.customRules[1].priority = d.waf.customRules[0].priority), 'waf.customRules[1].priority: duplicate custom rule priority 5'],
    ['a rate limit below 10 per window', (d) => d.waf.customRules[4].ruleType === 'RateLimitRule' && (d.waf.customRules[4].rateLimitThreshold = 5), 'waf.customRules[4].rateLimitThreshold: must be an integer in 10..1000000, got 5'],
    ['a broken WAF regular expression', (d) => (d.waf.customRules[0].matchConditions[0].values = ['^(']), 'waf.customRules[0].matchConditions[0].values[0]: is not a valid regular expression'],
    ['an unknown block status', (d) => (d.waf.blockResponse.statusCode = 418 as 429), 'waf.blockResponse.statusCode: must be one of 200, 403, 405, 406, 429, got 418'],
    ['managed rules on Standard', (d) => (d.profile.sku = 'Standard_AzureFrontDoor'), 'waf.managedRuleSets: need profile.sku Premium_AzureFrontDoor'],
    ['a managed rule exclusion of an unknown part', (d) => (d.waf.managedRuleSets[0].exclusions![0].matchVariable = 'RequestBody' as 'RequestBodyJsonArgNames'), 'waf.managedRuleSets[0].exclusions[0].matchVariable: must be one of RequestHeaderNames, RequestCookieNames, QueryStringArgNames, RequestBodyPostArgNames, RequestBodyJsonArgNames, got "RequestBody"'],
    ['a managed rule exclusion with an unknown operator', (d) => (d.waf.managedRuleSets[0].exclusions![1].selectorMatchOperator = 'Regex' as 'Equals'), 'waf.managedRuleSets[0].exclusions[1].selectorMatchOperator: must be one of Equals, Contains, StartsWith, EndsWith, EqualsAny, got "Regex"'],
    ['a managed rule exclusion that names nothing', (d) => (d.waf.managedRuleSets[0].exclusions![2].selector = ' '), 'waf.managedRuleSets[0].exclusions[2].selector: must name what is excluded (1 to 256 characters), got " "'],
    ['compressing zips', (d) => d.routes[1].cache?.compressContentTypes.push('application/zip'), 'routes[1].cache.compressContentTypes: must not compress application/zip'],
    ['an HTTPS redirect on an HTTPS-only route', (d) => (d.routes[0].httpsRedirect = true), 'routes[0].httpsRedirect: needs both Http and Https'],
    ['an origin response timeout out of range', (d) => (d.profile.originResponseTimeoutSeconds = 5), 'profile.originResponseTimeoutSeconds: must be an integer in 16..240, got 5'],
  ])('names the field of %s', (_what, mutate, message) => {
    const declaration = azure();
    mutate(declaration);
    expect(problemsOf(declaration).join('\n')).toContain(message);
  });

  it('allows origin paths and plain HTTP for the local edge only', () => {
    const declaration = local();
    expect(problemsOf(declaration, 'local')).toEqual([]);
    expect(problemsOf(declaration, 'azure').join('\n')).toContain('originGroups[1].origins[0].url: must be https:');
  });

  it('lists every problem at once', () => {
    const declaration = azure();
    declaration.routes[0].originGroup = 'x';
    declaration.waf.name = 'bad-name';
    expect(problemsOf(declaration)).toHaveLength(2);
  });
});
