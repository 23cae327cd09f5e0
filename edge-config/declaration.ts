/**
 * The shape of an edge declaration: Azure Front Door Standard/Premium as keyfront uses it. One value
 * of this type drives both the ARM template (`arm/template.ts`) and the local edge
 * (`local-edge/`), so its fields follow Front Door's own model and names closely: a reader of the
 * ARM reference recognises every field, and the compiler stays a plain mapping.
 */

export type FrontDoorSku = 'Standard_AzureFrontDoor' | 'Premium_AzureFrontDoor';
export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'OPTIONS' | 'TRACE';
export const HTTP_METHODS: readonly HttpMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE'];

export interface EdgeDeclaration {
  profile: ProfileDeclaration;
  endpoint: EndpointDeclaration;
  /** Custom domains (Front Door managed certificates, TLS 1.2); the endpoint's own domain always serves too. */
  customDomains: CustomDomainDeclaration[];
  originGroups: OriginGroupDeclaration[];
  ruleSets: RuleSetDeclaration[];
  routes: RouteDeclaration[];
  waf: WafPolicyDeclaration;
  /**
   * App Service / Function App sites that must admit only this profile's traffic: an access
   * restriction allowing the `AzureFrontDoor.Backend` service tag with our `X-Azure-FDID`, on the
   * site and on each of its deployment slots (a slot has its own restrictions), and no access to
   * their advanced-tool (scm) sites.
   */
  originAccess: OriginAccessDeclaration[];
}

export interface ProfileDeclaration {
  /** 1-260 characters: letters, digits, hyphens; starts and ends with a letter or digit. */
  name: string;
  sku: FrontDoorSku;
  /** How long Front Door waits for an origin's answer (16-240 s). */
  originResponseTimeoutSeconds: number;
}

export interface EndpointDeclaration {
  /** Globally unique with the hash Azure appends: `{name}-{hash}.z01.azurefd.net`. */
  name: string;
  enabled: boolean;
}

export interface CustomDomainDeclaration {
  name: string;
  hostName: string;
}

export interface HealthProbeDeclaration {
  /** Path on the origin (with the origin path, if the route has one: Front Door probes the origin directly). */
  path: string;
  method: 'GET' | 'HEAD';
  protocol: 'Http' | 'Https';
  intervalInSeconds: number;
}

export interface OriginGroupDeclaration {
  name: string;
  /** Without a probe Front Door treats every origin as healthy (allowed for single-origin groups only). */
  healthProbe?: HealthProbeDeclaration;
  loadBalancing: {
    /** Probe samples kept per origin. */
    sampleSize: number;
    /** Of those, how many must have succeeded for the origin to be healthy. */
    successfulSamplesRequired: number;
    /** Origins this much slower than the fastest still share traffic (latency-based routing, Azure only). */
    additionalLatencyInMilliseconds: number;
  };
  origins: OriginDeclaration[];
}

export interface OriginDeclaration {
  name: string;
  /**
   * `https://host[:port]` in Azure (Front Door origins are host names). The local edge also
   * accepts a path, e.g. `http://127.0.0.1:10000/devstoreaccount1` for Azurite's path-style account.
   */
  url: string;
  /** The Host header sent to the origin; the URL's host by default (App Service and Blob need their own). */
  hostHeader?: string;
  /** 1-5; the lowest number with a healthy origin takes all traffic. */
  priority: number;
  /** 1-1000; shares traffic between healthy origins of the same priority. */
  weight: number;
  enabled: boolean;
}

export interface RouteCacheDeclaration {
  /** How query strings take part in the cache key. */
  queryStringCachingBehavior: 'IgnoreQueryString' | 'UseQueryString';
  /** Content types Front Door compresses at the edge; empty turns compression off. */
  compressContentTypes: string[];
}

export interface RouteDeclaration {
  name: string;
  /** Front Door path patterns: `/exact/path` or `/prefix/*`; the most specific match wins. */
  patterns: string[];
  originGroup: string;
  /** Prefixed to the request path on the way to the origin, e.g. `/exports` (the blob container). */
  originPath?: string;
  /** The methods this route serves; others are refused by the WAF (Front Door routes do not filter methods). */
  methods: HttpMethod[];
  /** Protocols clients may use; an HTTPS-only route accepts no plain HTTP at all. */
  supportedProtocols: ('Http' | 'Https')[];
  /** Redirect HTTP to HTTPS (only meaningful when both protocols are supported). */
  httpsRedirect: boolean;
  forwardingProtocol: 'HttpOnly' | 'HttpsOnly' | 'MatchRequest';
  /** Absent: caching is off for the route (Front Door answers `X-Cache: CONFIG_NOCACHE`). */
  cache?: RouteCacheDeclaration;
  /** Rule sets applied to this route's traffic, in this order. */
  ruleSets: string[];
}

export interface RuleSetDeclaration {
  /** Letters and digits only, starting with a letter (Front Door's rule set names). */
  name: string;
  rules: RuleDeclaration[];
}

export interface RuleDeclaration {
  /** Letters and digits only, starting with a letter. */
  name: string;
  /** Evaluation order within the rule set (unique, from 1). */
  order: number;
  /** All must match; none means "always". */
  conditions: RuleCondition[];
  actions: RuleAction[];
  /** Stop evaluating further rules of the set when this one matches. */
  stopEvaluatingRemainingRules: boolean;
}

export type RuleTransform = 'Lowercase' | 'Uppercase' | 'Trim' | 'UrlDecode';

/**
 * Rule conditions. `UrlPath` values are written without the leading `/`, as Front Door matches them
 * (a request for `/v1/440/index.txt` has the URL path `v1/440/index.txt`).
 */
export type RuleCondition =
  | { type: 'UrlPath'; operator: 'Any' | 'Equal' | 'BeginsWith' | 'EndsWith' | 'Contains'; values: string[]; negate: boolean; transforms: RuleTransform[] }
  | { type: 'UrlFileExtension'; operator: 'Any' | 'Equal'; values: string[]; negate: boolean; transforms: RuleTransform[] }
  | { type: 'RequestMethod'; values: HttpMethod[]; negate: boolean }
  | { type: 'RequestHeader'; header: string; operator: 'Any' | 'Equal' | 'Contains' | 'BeginsWith'; values: string[]; negate: boolean; transforms: RuleTransform[] };

export type HeaderAction = 'Append' | 'Overwrite' | 'Delete';

export type HeaderRuleAction =
  | { type: 'ModifyResponseHeader'; headerAction: HeaderAction; header: string; value?: string }
  | { type: 'ModifyRequestHeader'; headerAction: HeaderAction; header: string; value?: string };

/**
 * Front Door's URL rewrite: the path sent to the origin. `sourcePattern` is a prefix of the path
 * after the route's pattern (the whole path for an exact pattern); it is replaced by `destination`,
 * and what follows it is kept only with `preserveUnmatchedPath`. The query string is not touched.
 */
export interface UrlRewriteAction {
  type: 'UrlRewrite';
  sourcePattern: string;
  destination: string;
  preserveUnmatchedPath: boolean;
}

export type RuleAction = HeaderRuleAction | UrlRewriteAction;

export type WafMatchVariable = 'RequestUri' | 'RequestMethod' | 'RequestHeader' | 'QueryString' | 'SocketAddr' | 'RemoteAddr';
export type WafOperator = 'Any' | 'IPMatch' | 'Equal' | 'Contains' | 'BeginsWith' | 'EndsWith' | 'RegEx';
export type WafTransform = 'Lowercase' | 'Uppercase' | 'Trim' | 'UrlDecode' | 'RemoveNulls';

export interface WafMatchCondition {
  /** `RequestUri` is the whole URL: scheme, host, port, path and query. */
  matchVariable: WafMatchVariable;
  /** The header name, for `RequestHeader`. */
  selector?: string;
  operator: WafOperator;
  negate: boolean;
  values: string[];
  transforms: WafTransform[];
}

export interface WafCustomRuleBase {
  /** Letters and digits only, starting with a letter. */
  name: string;
  /** Unique; lower runs first. */
  priority: number;
  enabled: boolean;
  /** All must match. */
  matchConditions: WafMatchCondition[];
  action: 'Allow' | 'Block' | 'Log';
}

export interface WafMatchRule extends WafCustomRuleBase {
  ruleType: 'MatchRule';
}

export interface WafRateLimitRule extends WafCustomRuleBase {
  ruleType: 'RateLimitRule';
  /** Requests allowed per client in the window. */
  rateLimitThreshold: number;
  rateLimitDurationInMinutes: 1 | 5;
  /** `SocketAddr`: the TCP peer (not a client-supplied X-Forwarded-For). */
  groupBy: 'SocketAddr' | 'None';
}

export type WafCustomRule = WafMatchRule | WafRateLimitRule;

/** Request parts a managed rule set does not inspect (the documented `ManagedRuleExclusion`). */
export interface WafManagedRuleExclusion {
  matchVariable: 'RequestHeaderNames' | 'RequestCookieNames' | 'QueryStringArgNames' | 'RequestBodyPostArgNames' | 'RequestBodyJsonArgNames';
  selectorMatchOperator: 'Equals' | 'Contains' | 'StartsWith' | 'EndsWith' | 'EqualsAny';
  /** The name (or its start, end, part) of the excluded elements; ignored with `EqualsAny`. */
  selector: string;
}

export interface WafManagedRuleSet {
  ruleSetType: string;
  ruleSetVersion: string;
  ruleSetAction: 'Block' | 'Log';
  /** Applied to every rule of the set. */
  exclusions?: WafManagedRuleExclusion[];
}

export interface WafPolicyDeclaration {
  /** Letters and digits only, starting with a letter (Azure refuses hyphens here). */
  name: string;
  mode: 'Prevention' | 'Detection';
  /** Managed rules inspect request bodies too. */
  requestBodyCheck: boolean;
  /** What a blocked request gets: one status and JSON body for the whole policy (Front Door's limit). */
  blockResponse: { statusCode: 200 | 403 | 405 | 406 | 429; body: { error: string; code: string } };
  customRules: WafCustomRule[];
  /** Managed rule sets (Premium only), e.g. `Microsoft_DefaultRuleSet` 2.1. */
  managedRuleSets: WafManagedRuleSet[];
  /** Scrub client IP addresses from WAF logs (keyfront never logs client addresses). */
  scrubClientIpFromLogs: boolean;
}

export interface OriginAccessDeclaration {
  /** The Function App (site) name. */
  siteName: string;
  /** Its deployment slots (e.g. `staging`), restricted like the site: `{site}-{slot}.azurewebsites.net` is public too. */
  slots: string[];
}
