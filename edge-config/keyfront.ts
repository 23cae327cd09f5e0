/**
 * keyfront's edge, declared once: what Front Door does in production and what the local edge
 * does in development and tests. Only the origins' addresses and resource names differ between
 * the two; they come in as an `EdgeEnvironment`.
 *
 * - `/api/*` goes to the write API (Function Apps in two regions, priority failover), HTTPS only,
 *   never cached, GET and POST only; `/api/v1/publish` and `/api/v1/register` are rate-limited per
 *   client socket address.
 * - `/v1/*` goes to the exports container of the storage account (primary, then its RA-GRS
 *   secondary read endpoint), GET and HEAD only, cached as the origin's Cache-Control says,
 *   query strings ignored, compression only for the index files (zips are already compressed).
 * - Every response carries HSTS and `X-Content-Type-Options`; exports carry CORS headers so a web
 *   page may read them.
 */
import type { EdgeDeclaration, FrontDoorSku, HttpMethod, RuleSetDeclaration, WafCustomRule, WafManagedRuleExclusion, WafTransform } from './declaration';

export interface EdgeOrigin {
  /** Origin URL: `https://host` in Azure; locally it may carry a path (Azurite's account). */
  url: string;
  hostHeader?: string;
}

export interface EdgeEnvironment {
  profileName: string;
  endpointName: string;
  sku: FrontDoorSku;
  customDomains: string[];
  wafPolicyName: string;
  /** The write API's origins, in priority order (first = primary region). */
  apiOrigins: (EdgeOrigin & { siteName?: string })[];
  /** The storage account's blob endpoint and its RA-GRS secondary read endpoint. */
  exportOrigins: { primary: EdgeOrigin; secondary: EdgeOrigin };
  /** The region whose index the blob health probe reads (an object that exists once the publisher has run). */
  probeRegion: string;
}

/** The methods the write API serves (its route table: GET health, POST register and publish). */
export const API_METHODS: HttpMethod[] = ['GET', 'POST'];
/** Exports are read-only. */
export const EXPORT_METHODS: HttpMethod[] = ['GET', 'HEAD'];

/**
 * Upload fields whose values are random bytes in base64 (keys, HMAC key, padding, revision token)
 * or a JWT: signature patterns of the managed rules match such text by chance, and a false block
 * loses a confirmed case's keys. The API validates these fields strictly itself; every other field
 * and header stays inspected. `StartsWith` covers the nested names of the key objects.
 */
export const UPLOAD_RANDOM_FIELDS = ['temporaryExposureKeys', 'verificationPayload', 'hmacKey', 'padding', 'revisionToken'] as const;
function uploadExclusions(): WafManagedRuleExclusion[] {
  return UPLOAD_RANDOM_FIELDS.map((field) => ({ matchVariable: 'RequestBodyJsonArgNames', selectorMatchOperator: field === 'temporaryExposureKeys' ? 'StartsWith' : 'Equals', selector: field }));
}

/** Requests per client socket address per minute before the WAF answers 429. */
export const RATE_LIMITS = { publishPerMinute: 60, registerPerMinute: 60 } as const;

export const API_HEALTH_PATH = '/api/health';
/** The blob container the exports live in (`/v1/...` on the edge is `/exports/v1/...` on the origin). */
export const EXPORTS_CONTAINER_PATH = '/exports';

/**
 * How the WAF reads a path: percent-decoded, then lower-cased. Azure Functions decodes the path
 * before routing, so `/api/v1/%70ublish` is a publish and must count as one.
 */
const PATH_TRANSFORMS: readonly WafTransform[] = ['UrlDecode', 'Lowercase'];

function rateLimit(name: string, priority: number, path: string, perMinute: number): WafCustomRule {
  return {
    name,
    priority,
    enabled: true,
    ruleType: 'RateLimitRule',
    rateLimitThreshold: perMinute,
    rateLimitDurationInMinutes: 1,
    groupBy: 'SocketAddr',
    // RequestUri is the whole URL (scheme, host, path, query): match the path part with a pattern anchored after the host.
    matchConditions: [{ matchVariable: 'RequestUri', operator: 'RegEx', negate: false, values: [`^https?://[^/]+${escapeRegex(path)}(?:[/?]|$)`], transforms: [...PATH_TRANSFORMS] }],
    action: 'Block',
  };
}

function onlyMethods(name: string, priority: number, pathPrefix: string, methods: HttpMethod[]): WafCustomRule {
  return {
    name,
    priority,
    enabled: true,
    ruleType: 'MatchRule',
    matchConditions: [
      { matchVariable: 'RequestUri', operator: 'RegEx', negate: false, values: [`^https?://[^/]+${escapeRegex(pathPrefix)}`], transforms: [...PATH_TRANSFORMS] },
      { matchVariable: 'RequestMethod', operator: 'Equal', negate: true, values: [...methods], transforms: [] },
    ],
    action: 'Block',
  };
}

/** A rule set of one unconditional rule that sets response headers. */
function alwaysSetResponseHeaders(name: string, ruleName: string, headers: Record<string, string>): RuleSetDeclaration {
  return {
    name,
    rules: [{ name: ruleName, order: 1, conditions: [], actions: Object.entries(headers).map(([header, value]) => ({ type: 'ModifyResponseHeader', headerAction: 'Overwrite', header, value })), stopEvaluatingRemainingRules: false }],
  };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function keyfrontEdge(env: EdgeEnvironment): EdgeDeclaration {
  return {
    profile: { name: env.profileName, sku: env.sku, originResponseTimeoutSeconds: 30 },
    endpoint: { name: env.endpointName, enabled: true },
    customDomains: env.customDomains.map((hostName) => ({ name: hostName.replace(/\./g, '-'), hostName })),
    originGroups: [
      {
        name: 'api',
        healthProbe: { path: API_HEALTH_PATH, method: 'GET', protocol: 'Https', intervalInSeconds: 30 },
        loadBalancing: { sampleSize: 4, successfulSamplesRequired: 3, additionalLatencyInMilliseconds: 0 },
        origins: env.apiOrigins.map((origin, index) => ({
          name: `api-${index + 1}`,
          url: origin.url,
          hostHeader: origin.hostHeader,
          priority: index + 1,
          weight: 1000,
          enabled: true,
        })),
      },
      {
        name: 'exports',
        // HEAD of a blob that exists: the storage account answers 200 only for objects it holds.
        healthProbe: { path: `${EXPORTS_CONTAINER_PATH}/v1/${env.probeRegion}/index.txt`, method: 'HEAD', protocol: 'Https', intervalInSeconds: 30 },
        loadBalancing: { sampleSize: 4, successfulSamplesRequired: 3, additionalLatencyInMilliseconds: 0 },
        origins: [
          { name: 'blob-primary', url: env.exportOrigins.primary.url, hostHeader: env.exportOrigins.primary.hostHeader, priority: 1, weight: 1000, enabled: true },
          { name: 'blob-secondary', url: env.exportOrigins.secondary.url, hostHeader: env.exportOrigins.secondary.hostHeader, priority: 2, weight: 1000, enabled: true },
        ],
      },
    ],
    ruleSets: [
      alwaysSetResponseHeaders('SecurityHeaders', 'Always', { 'Strict-Transport-Security': 'max-age=31536000; includeSubDomains', 'X-Content-Type-Options': 'nosniff' }),
      alwaysSetResponseHeaders('ExportsCors', 'ReadableByAnyPage', { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'ETag, Last-Modified, Content-Length, Age, X-Cache' }),
    ],
    routes: [
      {
        name: 'api',
        patterns: ['/api/*'],
        originGroup: 'api',
        methods: API_METHODS,
        supportedProtocols: ['Https'],
        httpsRedirect: false,
        forwardingProtocol: 'HttpsOnly',
        ruleSets: ['SecurityHeaders'],
      },
      {
        name: 'exports',
        patterns: ['/v1/*'],
        originGroup: 'exports',
        originPath: EXPORTS_CONTAINER_PATH,
        methods: EXPORT_METHODS,
        supportedProtocols: ['Http', 'Https'],
        httpsRedirect: true,
        forwardingProtocol: 'HttpsOnly',
        cache: { queryStringCachingBehavior: 'IgnoreQueryString', compressContentTypes: ['text/plain', 'application/json'] },
        ruleSets: ['SecurityHeaders', 'ExportsCors'],
      },
    ],
    waf: {
      name: env.wafPolicyName,
      mode: 'Prevention',
      requestBodyCheck: true,
      // One status for every block (Front Door allows one per policy): 429 tells a throttled phone to back off.
      blockResponse: { statusCode: 429, body: { error: 'request refused by the edge: too many requests from this address, or a method this path does not serve', code: 'edge_refused' } },
      customRules: [
        onlyMethods('ApiMethods', 10, '/api/', API_METHODS),
        onlyMethods('ExportMethods', 20, '/v1/', EXPORT_METHODS),
        rateLimit('PublishRateLimit', 30, '/api/v1/publish', RATE_LIMITS.publishPerMinute),
        rateLimit('RegisterRateLimit', 40, '/api/v1/register', RATE_LIMITS.registerPerMinute),
      ],
      managedRuleSets: env.sku === 'Premium_AzureFrontDoor' ? [{ ruleSetType: 'Microsoft_DefaultRuleSet', ruleSetVersion: '2.1', ruleSetAction: 'Block', exclusions: uploadExclusions() }] : [],
      scrubClientIpFromLogs: true,
    },
    originAccess: env.apiOrigins.flatMap((origin) => (origin.siteName ? [{ siteName: origin.siteName }] : [])),
  };
}
