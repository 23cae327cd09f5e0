/**
 * Checks an edge declaration before anything uses it: names and ranges Azure would refuse,
 * references between parts (a route's origin group, its rule sets), and mistakes that Azure would
 * accept but that break keyfront (a multi-origin group without a health probe, a UrlPath value
 * with a leading slash that can never match). Every problem names its field, e.g.
 * `routes[1].originGroup`.
 */
import { isIP } from 'node:net';
import { HTTP_METHODS, type EdgeDeclaration, type RuleCondition, type WafMatchCondition } from './declaration';

export type EdgeTarget = 'azure' | 'local';

export class EdgeConfigError extends Error {
  override readonly name = 'EdgeConfigError';
  constructor(readonly problems: { field: string; problem: string }[]) {
    super(`invalid edge declaration: ${problems.map((p) => `${p.field}: ${p.problem}`).join('; ')}`);
  }
}

const NAME_WITH_HYPHENS = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
const ALPHANUMERIC_NAME = /^[A-Za-z][A-Za-z0-9]*$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/**
 * Headers Front Door reserves: no rule set action may modify them, in requests or responses, nor
 * any header starting with x-ec or x-fd ("Rule set actions", Modify request header, the note on
 * reserved headers: https://learn.microsoft.com/azure/frontdoor/front-door-rules-engine-actions).
 */
export const FRONT_DOOR_RESERVED_HEADERS: readonly string[] = [
  'Accept-Ranges', 'Host', 'Connection', 'Content-Length', 'Transfer-Encoding', 'TE', 'Last-Modified', 'Keep-Alive', 'Expect', 'Upgrade',
  'If-Modified-Since', 'If-Unmodified-Since', 'If-None-Match', 'If-Match', 'Range', 'If-Range', 'X-Ms-Via', 'X-Ms-Force-Refresh', 'X-MSEdge-Ref',
  'Warning', 'Forwarded', 'Via', 'X-Forwarded-For', 'X-Forwarded-Proto', 'X-Forwarded-Host', 'X-Azure-RequestChain', 'X-Azure-FDID', 'X-Azure-RequestChainv2', 'X-Azure-Ref',
];
const RESERVED = new Set(FRONT_DOOR_RESERVED_HEADERS.map((name) => name.toLowerCase()));

/** Whether Front Door refuses a rule set action on `header`. */
export function isReservedHeader(header: string): boolean {
  const name = header.toLowerCase();
  return RESERVED.has(name) || name.startsWith('x-ec') || name.startsWith('x-fd');
}

const HOST_NAME = /^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

class Problems {
  readonly list: { field: string; problem: string }[] = [];
  add(field: string, problem: string): void {
    this.list.push({ field, problem });
  }
  check(ok: boolean, field: string, problem: string): void {
    if (!ok) this.add(field, problem);
  }
  name(value: unknown, field: string, pattern: RegExp, max: number, rule: string): void {
    if (typeof value !== 'string' || value.length === 0 || value.length > max || !pattern.test(value)) {
      this.add(field, `must be 1-${max} characters of ${rule}, got ${JSON.stringify(value)}`);
    }
  }
  integer(value: unknown, field: string, min: number, max: number): void {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) this.add(field, `must be an integer in ${min}..${max}, got ${JSON.stringify(value)}`);
  }
  oneOf(value: unknown, field: string, allowed: readonly unknown[]): void {
    if (!allowed.includes(value)) this.add(field, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  unique(values: unknown[], field: (index: number) => string, what: string): void {
    const seen = new Map<string, number>();
    values.forEach((value, index) => {
      const key = String(value).toLowerCase();
      if (seen.has(key)) this.add(field(index), `duplicate ${what} ${JSON.stringify(value)} (also at index ${seen.get(key)})`);
      else seen.set(key, index);
    });
  }
}

function checkOriginUrl(problems: Problems, url: unknown, field: string, target: EdgeTarget): void {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    return problems.add(field, `must be an absolute URL, got ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') problems.add(field, `must be http: or https:, got ${parsed.protocol}`);
  if (parsed.username || parsed.password || parsed.search || parsed.hash) problems.add(field, 'must not carry credentials, a query or a fragment');
  if (target === 'azure') {
    if (parsed.protocol !== 'https:') problems.add(field, 'must be https: (routes forward to origins over HTTPS only)');
    if (parsed.pathname !== '/') problems.add(field, `must be a host without a path in Azure (Front Door origins are host names), got path ${parsed.pathname}`);
    if (!HOST_NAME.test(parsed.hostname)) problems.add(field, `must name a public DNS host in Azure, got ${parsed.hostname}`);
  }
}

function checkPattern(problems: Problems, pattern: unknown, field: string): void {
  if (typeof pattern !== 'string' || !pattern.startsWith('/')) return problems.add(field, `must be a path starting with "/", got ${JSON.stringify(pattern)}`);
  const star = pattern.indexOf('*');
  if (star !== -1 && (star !== pattern.length - 1 || !pattern.endsWith('/*'))) problems.add(field, `may hold "*" only as a final "/*", got ${JSON.stringify(pattern)}`);
}

function checkRuleCondition(problems: Problems, condition: RuleCondition, field: string): void {
  problems.oneOf(condition.type, `${field}.type`, ['UrlPath', 'UrlFileExtension', 'RequestMethod', 'RequestHeader']);
  if (condition.type === 'RequestMethod') {
    if (condition.values.length === 0) problems.add(`${field}.values`, 'must name at least one method');
    condition.values.forEach((method, index) => problems.oneOf(method, `${field}.values[${index}]`, HTTP_METHODS));
    return;
  }
  if (condition.operator !== 'Any' && condition.values.length === 0) problems.add(`${field}.values`, `must not be empty for operator ${condition.operator}`);
  if (condition.type === 'UrlPath') {
    condition.values.forEach((value, index) => {
      // Front Door matches the path after "host/", so a leading slash never matches.
      if (value.startsWith('/')) problems.add(`${field}.values[${index}]`, `must not start with "/" (Front Door's URL path has no leading slash), got ${JSON.stringify(value)}`);
    });
  }
  if (condition.type === 'UrlFileExtension') {
    condition.values.forEach((value, index) => problems.check(!value.startsWith('.'), `${field}.values[${index}]`, `must be an extension without the dot, got ${JSON.stringify(value)}`));
  }
  if (condition.type === 'RequestHeader') problems.check(HEADER_NAME.test(condition.header), `${field}.header`, `must be a header name, got ${JSON.stringify(condition.header)}`);
}

function checkWafCondition(problems: Problems, condition: WafMatchCondition, field: string): void {
  problems.oneOf(condition.matchVariable, `${field}.matchVariable`, ['RequestUri', 'RequestMethod', 'RequestHeader', 'QueryString', 'SocketAddr', 'RemoteAddr']);
  problems.oneOf(condition.operator, `${field}.operator`, ['Any', 'IPMatch', 'Equal', 'Contains', 'BeginsWith', 'EndsWith', 'RegEx']);
  if (condition.matchVariable === 'RequestHeader') problems.check(typeof condition.selector === 'string' && HEADER_NAME.test(condition.selector), `${field}.selector`, 'must name the header for RequestHeader');
  if (condition.operator !== 'Any' && condition.values.length === 0) problems.add(`${field}.values`, `must not be empty for operator ${condition.operator}`);
  const addressVariable = condition.matchVariable === 'SocketAddr' || condition.matchVariable === 'RemoteAddr';
  if (addressVariable !== (condition.operator === 'IPMatch' || condition.operator === 'Any')) problems.add(`${field}.operator`, 'IPMatch goes with SocketAddr/RemoteAddr, and they only with IPMatch (or Any)');
  condition.values.forEach((value, index) => {
    const at = `${field}.values[${index}]`;
    if (condition.operator === 'RegEx') {
      try {
        new RegExp(value);
      } catch (error) {
        problems.add(at, `is not a valid regular expression: ${(error as Error).message}`);
      }
    }
    if (condition.operator === 'IPMatch') {
      const [address, bits, extra] = value.split('/');
      const family = isIP(address);
      const maxBits = family === 6 ? 128 : 32;
      const ok = family !== 0 && extra === undefined && (bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= maxBits));
      problems.check(ok, at, `must be an IP address or CIDR range, got ${JSON.stringify(value)}`);
    }
    if (condition.matchVariable === 'RequestMethod') problems.oneOf(value, at, HTTP_METHODS);
  });
}

/** Throws an EdgeConfigError listing every problem; returns the declaration when it is sound. */
export function validateEdgeDeclaration(declaration: EdgeDeclaration, target: EdgeTarget): EdgeDeclaration {
  const problems = new Problems();
  const { profile, endpoint, originGroups, ruleSets, routes, waf } = declaration;

  problems.name(profile.name, 'profile.name', NAME_WITH_HYPHENS, 260, 'letters, digits and inner hyphens');
  problems.oneOf(profile.sku, 'profile.sku', ['Standard_AzureFrontDoor', 'Premium_AzureFrontDoor']);
  problems.integer(profile.originResponseTimeoutSeconds, 'profile.originResponseTimeoutSeconds', 16, 240);
  problems.name(endpoint.name, 'endpoint.name', NAME_WITH_HYPHENS, 46, 'letters, digits and inner hyphens');

  declaration.customDomains.forEach((domain, index) => {
    problems.name(domain.name, `customDomains[${index}].name`, NAME_WITH_HYPHENS, 260, 'letters, digits and inner hyphens');
    problems.check(HOST_NAME.test(domain.hostName), `customDomains[${index}].hostName`, `must be a DNS host name, got ${JSON.stringify(domain.hostName)}`);
  });
  problems.unique(declaration.customDomains.map((d) => d.name), (i) => `customDomains[${i}].name`, 'custom domain name');

  problems.check(originGroups.length > 0, 'originGroups', 'must declare at least one origin group');
  problems.unique(originGroups.map((g) => g.name), (i) => `originGroups[${i}].name`, 'origin group name');
  originGroups.forEach((group, g) => {
    const at = `originGroups[${g}]`;
    problems.name(group.name, `${at}.name`, NAME_WITH_HYPHENS, 90, 'letters, digits and inner hyphens');
    const { sampleSize, successfulSamplesRequired, additionalLatencyInMilliseconds } = group.loadBalancing;
    problems.integer(sampleSize, `${at}.loadBalancing.sampleSize`, 1, 255);
    problems.integer(successfulSamplesRequired, `${at}.loadBalancing.successfulSamplesRequired`, 1, sampleSize);
    problems.integer(additionalLatencyInMilliseconds, `${at}.loadBalancing.additionalLatencyInMilliseconds`, 0, 1000);
    if (group.healthProbe) {
      problems.check(group.healthProbe.path.startsWith('/'), `${at}.healthProbe.path`, `must start with "/", got ${JSON.stringify(group.healthProbe.path)}`);
      problems.oneOf(group.healthProbe.method, `${at}.healthProbe.method`, ['GET', 'HEAD']);
      problems.oneOf(group.healthProbe.protocol, `${at}.healthProbe.protocol`, ['Http', 'Https']);
      problems.integer(group.healthProbe.intervalInSeconds, `${at}.healthProbe.intervalInSeconds`, 1, 255);
    } else if (group.origins.length > 1) {
      problems.add(`${at}.healthProbe`, 'is required when a group has more than one origin (failover needs probes)');
    }
    problems.check(group.origins.length > 0, `${at}.origins`, 'must hold at least one origin');
    problems.unique(group.origins.map((o) => o.name), (i) => `${at}.origins[${i}].name`, 'origin name');
    group.origins.forEach((origin, o) => {
      const oat = `${at}.origins[${o}]`;
      problems.name(origin.name, `${oat}.name`, NAME_WITH_HYPHENS, 90, 'letters, digits and inner hyphens');
      checkOriginUrl(problems, origin.url, `${oat}.url`, target);
      problems.integer(origin.priority, `${oat}.priority`, 1, 5);
      problems.integer(origin.weight, `${oat}.weight`, 1, 1000);
      if (origin.hostHeader !== undefined) problems.check(/^[A-Za-z0-9.-]+(?::\d+)?$/.test(origin.hostHeader), `${oat}.hostHeader`, `must be a host[:port], got ${JSON.stringify(origin.hostHeader)}`);
    });
    problems.check(group.origins.some((o) => o.enabled), `${at}.origins`, 'must have at least one enabled origin');
  });

  problems.unique(ruleSets.map((r) => r.name), (i) => `ruleSets[${i}].name`, 'rule set name');
  ruleSets.forEach((ruleSet, s) => {
    const at = `ruleSets[${s}]`;
    problems.name(ruleSet.name, `${at}.name`, ALPHANUMERIC_NAME, 60, 'letters and digits, starting with a letter');
    problems.unique(ruleSet.rules.map((r) => r.name), (i) => `${at}.rules[${i}].name`, 'rule name');
    problems.unique(ruleSet.rules.map((r) => r.order), (i) => `${at}.rules[${i}].order`, 'rule order');
    ruleSet.rules.forEach((rule, r) => {
      const rat = `${at}.rules[${r}]`;
      problems.name(rule.name, `${rat}.name`, ALPHANUMERIC_NAME, 260, 'letters and digits, starting with a letter');
      problems.integer(rule.order, `${rat}.order`, 1, 1000);
      problems.check(rule.conditions.length <= 10, `${rat}.conditions`, 'holds at most 10 conditions');
      rule.conditions.forEach((condition, c) => checkRuleCondition(problems, condition, `${rat}.conditions[${c}]`));
      problems.check(rule.actions.length > 0 && rule.actions.length <= 5, `${rat}.actions`, 'must hold 1-5 actions');
      rule.actions.forEach((action, a) => {
        const aat = `${rat}.actions[${a}]`;
        problems.oneOf(action.type, `${aat}.type`, ['ModifyResponseHeader', 'ModifyRequestHeader', 'UrlRewrite']);
        if (action.type === 'UrlRewrite') {
          problems.check(/^\/[^?#*\s]*$/.test(action.sourcePattern), `${aat}.sourcePattern`, `must be a path prefix starting with "/", got ${JSON.stringify(action.sourcePattern)}`);
          problems.check(/^\/[^?#*\s]*$/.test(action.destination), `${aat}.destination`, `must be a path starting with "/" (Front Door rewrites the path only), got ${JSON.stringify(action.destination)}`);
          return;
        }
        problems.oneOf(action.headerAction, `${aat}.headerAction`, ['Append', 'Overwrite', 'Delete']);
        problems.check(HEADER_NAME.test(action.header), `${aat}.header`, `must be a header name, got ${JSON.stringify(action.header)}`);
        problems.check(!isReservedHeader(action.header), `${aat}.header`, `${action.header} is reserved by Front Door: no rule set action may modify it (the edge handles it itself)`);
        if (action.headerAction !== 'Delete') problems.check(typeof action.value === 'string' && !/[\r\n]/.test(action.value), `${aat}.value`, 'must be a one-line string for Append and Overwrite');
      });
    });
  });

  problems.check(routes.length > 0, 'routes', 'must declare at least one route');
  problems.unique(routes.map((r) => r.name), (i) => `routes[${i}].name`, 'route name');
  problems.unique(routes.flatMap((r) => r.patterns), () => 'routes', 'path pattern');
  const groupNames = new Set(originGroups.map((g) => g.name));
  const ruleSetNames = new Set(ruleSets.map((r) => r.name));
  routes.forEach((route, r) => {
    const at = `routes[${r}]`;
    problems.name(route.name, `${at}.name`, NAME_WITH_HYPHENS, 50, 'letters, digits and inner hyphens');
    problems.check(route.patterns.length > 0, `${at}.patterns`, 'must hold at least one pattern');
    route.patterns.forEach((pattern, p) => checkPattern(problems, pattern, `${at}.patterns[${p}]`));
    problems.check(groupNames.has(route.originGroup), `${at}.originGroup`, `names no origin group (${JSON.stringify(route.originGroup)}); declared: ${[...groupNames].join(', ')}`);
    if (route.originPath !== undefined) problems.check(/^\/[^?#*]*[^/]$/.test(route.originPath), `${at}.originPath`, `must start with "/" and not end with one, got ${JSON.stringify(route.originPath)}`);
    problems.check(route.methods.length > 0, `${at}.methods`, 'must allow at least one method');
    route.methods.forEach((method, m) => problems.oneOf(method, `${at}.methods[${m}]`, HTTP_METHODS));
    problems.check(route.supportedProtocols.length > 0, `${at}.supportedProtocols`, 'must accept Http or Https');
    route.supportedProtocols.forEach((protocol, p) => problems.oneOf(protocol, `${at}.supportedProtocols[${p}]`, ['Http', 'Https']));
    if (route.httpsRedirect) problems.check(route.supportedProtocols.includes('Http') && route.supportedProtocols.includes('Https'), `${at}.httpsRedirect`, 'needs both Http and Https in supportedProtocols');
    problems.oneOf(route.forwardingProtocol, `${at}.forwardingProtocol`, ['HttpOnly', 'HttpsOnly', 'MatchRequest']);
    route.ruleSets.forEach((name, i) => problems.check(ruleSetNames.has(name), `${at}.ruleSets[${i}]`, `names no rule set (${JSON.stringify(name)}); declared: ${[...ruleSetNames].join(', ')}`));
    if (route.cache) {
      problems.oneOf(route.cache.queryStringCachingBehavior, `${at}.cache.queryStringCachingBehavior`, ['IgnoreQueryString', 'UseQueryString']);
      route.cache.compressContentTypes.forEach((type, t) => problems.check(/^[a-z0-9.+-]+\/[a-z0-9.+-]+$/i.test(type), `${at}.cache.compressContentTypes[${t}]`, `must be a media type, got ${JSON.stringify(type)}`));
      problems.check(!route.cache.compressContentTypes.includes('application/zip'), `${at}.cache.compressContentTypes`, 'must not compress application/zip (already compressed)');
    }
  });

  problems.name(waf.name, 'waf.name', ALPHANUMERIC_NAME, 128, 'letters and digits, starting with a letter');
  problems.oneOf(waf.mode, 'waf.mode', ['Prevention', 'Detection']);
  problems.oneOf(waf.blockResponse.statusCode, 'waf.blockResponse.statusCode', [200, 403, 405, 406, 429]);
  problems.unique(waf.customRules.map((r) => r.name), (i) => `waf.customRules[${i}].name`, 'custom rule name');
  problems.unique(waf.customRules.map((r) => r.priority), (i) => `waf.customRules[${i}].priority`, 'custom rule priority');
  waf.customRules.forEach((rule, r) => {
    const at = `waf.customRules[${r}]`;
    problems.name(rule.name, `${at}.name`, ALPHANUMERIC_NAME, 128, 'letters and digits, starting with a letter');
    problems.integer(rule.priority, `${at}.priority`, 0, 1_000_000);
    problems.oneOf(rule.action, `${at}.action`, ['Allow', 'Block', 'Log']);
    problems.check(rule.matchConditions.length > 0 && rule.matchConditions.length <= 10, `${at}.matchConditions`, 'must hold 1-10 conditions');
    rule.matchConditions.forEach((condition, c) => checkWafCondition(problems, condition, `${at}.matchConditions[${c}]`));
    if (rule.ruleType === 'RateLimitRule') {
      problems.integer(rule.rateLimitThreshold, `${at}.rateLimitThreshold`, 10, 1_000_000);
      problems.oneOf(rule.rateLimitDurationInMinutes, `${at}.rateLimitDurationInMinutes`, [1, 5]);
      problems.oneOf(rule.groupBy, `${at}.groupBy`, ['SocketAddr', 'None']);
    } else {
      problems.oneOf(rule.ruleType, `${at}.ruleType`, ['MatchRule', 'RateLimitRule']);
    }
  });
  if (waf.managedRuleSets.length > 0) problems.check(profile.sku === 'Premium_AzureFrontDoor', 'waf.managedRuleSets', 'need profile.sku Premium_AzureFrontDoor (managed rules are a Premium feature)');
  waf.managedRuleSets.forEach((set, i) => {
    problems.check(/^[A-Za-z_]+$/.test(set.ruleSetType), `waf.managedRuleSets[${i}].ruleSetType`, `must be a rule set type such as Microsoft_DefaultRuleSet, got ${JSON.stringify(set.ruleSetType)}`);
    problems.check(/^\d+\.\d+$/.test(set.ruleSetVersion), `waf.managedRuleSets[${i}].ruleSetVersion`, `must be a version such as 2.1, got ${JSON.stringify(set.ruleSetVersion)}`);
    problems.oneOf(set.ruleSetAction, `waf.managedRuleSets[${i}].ruleSetAction`, ['Block', 'Log']);
    set.exclusions?.forEach((exclusion, e) => {
      const at = `waf.managedRuleSets[${i}].exclusions[${e}]`;
      problems.oneOf(exclusion.matchVariable, `${at}.matchVariable`, ['RequestHeaderNames', 'RequestCookieNames', 'QueryStringArgNames', 'RequestBodyPostArgNames', 'RequestBodyJsonArgNames']);
      problems.oneOf(exclusion.selectorMatchOperator, `${at}.selectorMatchOperator`, ['Equals', 'Contains', 'StartsWith', 'EndsWith', 'EqualsAny']);
      if (exclusion.selectorMatchOperator !== 'EqualsAny') {
        const ok = typeof exclusion.selector === 'string' && exclusion.selector.trim() !== '' && exclusion.selector.length <= 256;
        problems.check(ok, `${at}.selector`, `must name what is excluded (1 to 256 characters), got ${JSON.stringify(exclusion.selector)}`);
      }
    });
  });

  declaration.originAccess.forEach((access, i) => {
    problems.name(access.siteName, `originAccess[${i}].siteName`, NAME_WITH_HYPHENS, 60, 'letters, digits and inner hyphens');
    // A slot's host is {site}-{slot}.azurewebsites.net: at most 19 characters (App Service "Add a slot").
    access.slots.forEach((slot, j) => problems.name(slot, `originAccess[${i}].slots[${j}]`, NAME_WITH_HYPHENS, 19, 'letters, digits and inner hyphens'));
  });

  if (problems.list.length > 0) throw new EdgeConfigError(problems.list);
  return declaration;
}
