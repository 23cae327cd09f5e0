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
 * - `/` (rewritten to the blob `site/index.html`) and `/site/*` serve the transparency page from the
 *   same container, with a strict Content-Security-Policy set by the edge.
 * - Every response carries HSTS and `X-Content-Type-Options`; exports carry CORS headers so a web
 *   page may read them.
 * - Nothing a client sends changes what the storage origin answers (see `READ_PATHS`): read paths
 *   are an allow-list of the names the publisher writes, in one spelling and without a query, and
 *   the request headers Blob storage gives meaning to are removed on the way to it.
 */
import type { EdgeDeclaration, FrontDoorSku, HttpMethod, RouteDeclaration, RuleSetDeclaration, WafCustomRule, WafManagedRuleExclusion, WafMatchCondition, WafTransform } from './declaration';

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
  /** The write API's origins, in priority order (first = primary region); Azure sites name their slots too. */
  apiOrigins: (EdgeOrigin & { siteName?: string; slots?: string[] })[];
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
 * Upload fields whose values are random bytes in base64 (keys, HMAC key, padding, revision token,
 * an App Attest object) or a JWT (the certificate, a Play Integrity token): signature patterns of the managed rules match such text by chance, and a false block
 * loses a confirmed case's keys. The API validates these fields strictly itself; every other field
 * and header stays inspected. `StartsWith` covers the nested names of the key objects.
 */
export const UPLOAD_RANDOM_FIELDS = ['temporaryExposureKeys', 'verificationPayload', 'hmacKey', 'padding', 'revisionToken', 'deviceVerificationPayload'] as const;
function uploadExclusions(): WafManagedRuleExclusion[] {
  return UPLOAD_RANDOM_FIELDS.map((field) => ({ matchVariable: 'RequestBodyJsonArgNames', selectorMatchOperator: field === 'temporaryExposureKeys' ? 'StartsWith' : 'Equals', selector: field }));
}

/** Requests per client socket address per minute before the WAF answers 429. */
export const RATE_LIMITS = { publishPerMinute: 60, registerPerMinute: 60 } as const;

export const API_HEALTH_PATH = '/api/health';
/** The blob container the exports live in (`/v1/...` on the edge is `/exports/v1/...` on the origin). */
export const EXPORTS_CONTAINER_PATH = '/exports';
/** The blob the edge root `/` serves: the transparency page, written by the publisher under `site/`. */
export const SITE_INDEX_PATH = '/site/index.html';

/**
 * Every path the storage routes serve, in its one spelling and without a query: the names the
 * publisher writes (publisher/export-names.ts: a region of [A-Za-z0-9_-]{1,16}, the index files
 * and `{start}-{end}-{n:05}.zip`), the root and the page's `site/` files (the built ones, and the
 * public key `signing-key.pem` the publisher writes beside config.json). Matched against the raw
 * request URI (no transforms), so a percent-encoded, doubled, dotted or re-cased spelling, or any
 * query (Blob storage reads `comp`, `restype`, `snapshot`, `sig`, ...), never reaches the origin or
 * a cache key. The scheme and host are optional so the pattern holds whether the WAF's RequestUri
 * carries them or starts at the path.
 */
export const READ_PATHS = '^(?:https?://[^/?#]+)?/(?:|v1/[A-Za-z0-9_-]{1,16}/(?:index\\.txt|index\\.json|[0-9]{1,12}-[0-9]{1,12}-[0-9]{5,6}\\.zip)|site/(?:[a-z0-9][a-z0-9.-]{0,99}\\.(?:html|js|css|svg|json)|signing-key\\.pem))$';
/** Requests for the write API, by their raw path; everything else goes to the storage routes. */
const API_PATHS = '^(?:https?://[^/?#]+)?/api/';
/**
 * A path with an empty segment, a dot segment or a backslash once percent-decoded: one object
 * reachable under a second spelling (origins and the Functions host normalise these away).
 */
export const NON_CANONICAL_PATH = '^(?:https?://[^/?#]+)?(?:/[^?]*)?(?://|/\\.\\.?(?:[/?]|$)|\\\\)';

/**
 * Request headers Blob storage gives meaning to on a read (Get Blob, Get Blob Properties): the
 * service version and thereby the answer's shape, ranges, leases, customer-provided keys, tag
 * conditions, credentials and CORS headers. Removed on the way to the storage origin, so every
 * client gets the same representation. Range, If-Range and the conditional headers are not here:
 * Front Door reserves them (no rule may modify them, edge-config/validate.ts) and its cache handles
 * them itself (it fetches ranges in chunks of its own); a conditional that fails at the origin is an
 * error answer, which the routes never cache.
 */
export const BLOB_REQUEST_HEADERS = [
  'Authorization',
  'Origin',
  'x-ms-version',
  'x-ms-date',
  'x-ms-range',
  'x-ms-range-get-content-md5',
  'x-ms-range-get-content-crc64',
  'x-ms-structured-body',
  'x-ms-lease-id',
  'x-ms-if-tags',
  'x-ms-encryption-key',
  'x-ms-encryption-key-sha256',
  'x-ms-encryption-algorithm',
  'x-ms-encryption-scope',
  'x-ms-upn',
  'x-ms-client-request-id',
  // Not Blob's, but nothing for storage either: no client state travels to the origin.
  'Cookie',
] as const;

/** The transparency page's policy: its own scripts, styles and data only; no frames, forms or base changes. */
export const SITE_SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
} as const;

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

const NOT_API: WafMatchCondition = { matchVariable: 'RequestUri', operator: 'RegEx', negate: true, values: [API_PATHS], transforms: [] };

/** The storage routes' WAF rules: GET and HEAD only, and only the allow-listed paths. */
function readRules(): WafCustomRule[] {
  return [
    { name: 'ReadMethods', priority: 20, enabled: true, ruleType: 'MatchRule', matchConditions: [NOT_API, { matchVariable: 'RequestMethod', operator: 'Equal', negate: true, values: [...EXPORT_METHODS], transforms: [] }], action: 'Block' },
    { name: 'ReadPathsOnly', priority: 25, enabled: true, ruleType: 'MatchRule', matchConditions: [NOT_API, { matchVariable: 'RequestUri', operator: 'RegEx', negate: true, values: [READ_PATHS], transforms: [] }], action: 'Block' },
  ];
}

/** Header deletions in rules of at most five actions (Front Door's limit per rule). */
function deleteRequestHeaders(name: string, headers: readonly string[]): RuleSetDeclaration {
  const rules = [];
  for (let at = 0; at < headers.length; at += 5) {
    rules.push({ name: `Delete${rules.length + 1}`, order: rules.length + 1, conditions: [], actions: headers.slice(at, at + 5).map((header) => ({ type: 'ModifyRequestHeader' as const, headerAction: 'Delete' as const, header })), stopEvaluatingRemainingRules: false });
  }
  return { name, rules };
}

/**
 * Request headers the API never reads that say something about the phone: its user agent (app
 * version, OS, device model). Deleted on the way to the API, because the Functions host records a
 * request's User-Agent in its own request telemetry (README "Telemetry", privacy).
 */
export const API_REQUEST_HEADERS = ['User-Agent'];

/** A cached, read-only route to the exports container. */
function storageRoute(name: string, patterns: string[], compress: string[], ruleSets: string[]): RouteDeclaration {
  return {
    name,
    patterns,
    originGroup: 'exports',
    originPath: EXPORTS_CONTAINER_PATH,
    methods: EXPORT_METHODS,
    supportedProtocols: ['Http', 'Https'],
    httpsRedirect: true,
    forwardingProtocol: 'HttpsOnly',
    cache: { queryStringCachingBehavior: 'IgnoreQueryString', compressContentTypes: compress },
    ruleSets: ['SecurityHeaders', 'BlobRequestHeaders', ...ruleSets],
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
      deleteRequestHeaders('BlobRequestHeaders', BLOB_REQUEST_HEADERS),
      alwaysSetResponseHeaders('SitePageHeaders', 'StrictPolicy', SITE_SECURITY_HEADERS),
      {
        name: 'SiteRootRewrite',
        rules: [{ name: 'RootToIndex', order: 1, conditions: [], actions: [{ type: 'UrlRewrite', sourcePattern: '/', destination: SITE_INDEX_PATH, preserveUnmatchedPath: false }], stopEvaluatingRemainingRules: false }],
      },
      deleteRequestHeaders('ApiRequestHeaders', API_REQUEST_HEADERS),
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
        ruleSets: ['SecurityHeaders', 'ApiRequestHeaders'],
      },
      storageRoute('exports', ['/v1/*'], ['text/plain', 'application/json'], ['ExportsCors']),
      storageRoute('site-root', ['/'], ['text/html'], ['SitePageHeaders', 'SiteRootRewrite']),
      storageRoute('site', ['/site/*'], ['text/html', 'text/css', 'application/javascript', 'text/javascript', 'image/svg+xml', 'application/json'], ['SitePageHeaders']),
    ],
    waf: {
      name: env.wafPolicyName,
      mode: 'Prevention',
      requestBodyCheck: true,
      // One status for every block (Front Door allows one per policy): 429 tells a throttled phone to back off.
      blockResponse: { statusCode: 429, body: { error: 'request refused by the edge: too many requests from this address, or a method, path spelling or query this edge does not serve', code: 'edge_refused' } },
      customRules: [
        { name: 'NonCanonicalPath', priority: 5, enabled: true, ruleType: 'MatchRule', matchConditions: [{ matchVariable: 'RequestUri', operator: 'RegEx', negate: false, values: [NON_CANONICAL_PATH], transforms: ['UrlDecode'] }], action: 'Block' },
        onlyMethods('ApiMethods', 10, '/api/', API_METHODS),
        ...readRules(),
        rateLimit('PublishRateLimit', 30, '/api/v1/publish', RATE_LIMITS.publishPerMinute),
        rateLimit('RegisterRateLimit', 40, '/api/v1/register', RATE_LIMITS.registerPerMinute),
      ],
      managedRuleSets: env.sku === 'Premium_AzureFrontDoor' ? [{ ruleSetType: 'Microsoft_DefaultRuleSet', ruleSetVersion: '2.1', ruleSetAction: 'Block', exclusions: uploadExclusions() }] : [],
      scrubClientIpFromLogs: true,
    },
    originAccess: env.apiOrigins.flatMap((origin) => (origin.siteName ? [{ siteName: origin.siteName, slots: origin.slots ?? [] }] : [])),
  };
}
