/**
 * An HTTP-level stand-in for the parts of the Azure Resource Manager REST API that keyfront calls:
 * Front Door Standard/Premium (`Microsoft.Cdn/profiles` and its children, api-version 2024-02-01),
 * the Front Door WAF policy (`Microsoft.Network/FrontDoorWebApplicationFirewallPolicies`,
 * 2024-02-01), and the endpoint purge action. No emulator exists for ARM, so this one follows the
 * documented shape: resource paths, `api-version`, bearer tokens, JSON bodies, ARM error bodies,
 * and long-running operations (201/202 + `Azure-AsyncOperation`, polled until `Succeeded`).
 *
 * It checks what it receives: a request that breaks the documented shape is answered 400 like ARM
 * would, and recorded in `violations`, which tests assert to be empty.
 *
 * HTTPS with a throwaway self-signed certificate for 127.0.0.1 (made with the `openssl` CLI): the
 * Azure SDK refuses to send bearer tokens over plain HTTP. Clients trust exactly that certificate.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { KnownTransformType } from '@azure/arm-frontdoor';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { isAuthorized, type RoleAssignmentGrant } from './azure-roles';

/** The api-versions of the SDKs we use (`@azure/arm-cdn` 9.x and `@azure/arm-frontdoor` 5.x). */
export const ARM_API_VERSIONS = {
  'microsoft.cdn': '2024-02-01',
  'microsoft.network': '2024-02-01',
  'microsoft.web': '2023-12-01',
} as const;

type Provider = keyof typeof ARM_API_VERSIONS;

/** The WAF's documented match transforms. */
const WAF_TRANSFORMS: string[] = Object.values(KnownTransformType);

export interface RecordedRequest {
  method: string;
  /** The decoded path, without the query. */
  path: string;
  apiVersion: string | null;
  body: unknown;
}

export interface PurgeCall {
  /** The endpoint's resource id. */
  endpointId: string;
  contentPaths: string[];
  domains?: string[];
}

export interface StoredResource {
  id: string;
  name: string;
  type: string;
  location?: string;
  sku?: { name: string };
  properties: Record<string, unknown>;
  [extra: string]: unknown;
}

export interface Fault {
  method: string;
  /** A substring of the request path (case-insensitive). */
  pathIncludes: string;
  status: number;
  code: string;
  message?: string;
  /** How many matching requests fail; 1 by default. */
  times?: number;
}

export interface ArmStandInOptions {
  /** How many polls of an operation answer `InProgress` before `Succeeded`; default 1. */
  pollsBeforeDone?: number;
  /** Makes purge operations end `Failed` with this error. */
  purgeOperationError?: { code: string; message: string };
  /**
   * Azure RBAC: the caller is this principal, holding these role assignments, and every request
   * needs the action Azure requires of it (`{type}/read|write|delete`, a purge
   * `Microsoft.Cdn/profiles/afdendpoints/purge/action`) from one of its roles at the request's
   * scope, or ARM answers 403 AuthorizationFailed. Without it every request is allowed.
   */
  caller?: { principalId: string; grants: RoleAssignmentGrant[] };
  /** The subscription the stand-in serves (random by default); grants name it in their scopes. */
  subscriptionId?: string;
}

export interface ArmStandIn {
  /** `https://127.0.0.1:{port}`: give it to the SDK clients as `endpoint`. */
  endpoint: string;
  /** A credential whose token the stand-in accepts (it rejects any other). */
  credential: TokenCredential;
  /** Client options for `CdnManagementClient` / `FrontDoorManagementClient`. */
  clientOptions(): { endpoint: string; agent: Agent; retryOptions: { maxRetries: number } };
  subscriptionId: string;
  requests: RecordedRequest[];
  violations: string[];
  purges: PurgeCall[];
  /** Stored resources by lower-cased id. */
  resources: Map<string, StoredResource>;
  /** Makes the next matching request(s) fail with an ARM error. */
  failNext(fault: Fault): void;
  /** Requests that changed something (PUT, PATCH, DELETE, POST). */
  writes(): RecordedRequest[];
  reset(): void;
  stop(): Promise<void>;
}

interface ResourceTypeSpec {
  /** Segments after the provider, e.g. `profiles/originGroups/origins` (case-insensitive). */
  pattern: string;
  /** The `type` ARM reports. */
  type: string;
  /** Checks a PUT body; returns the problems. */
  check(body: Record<string, unknown>, standIn: State): string[];
}

interface State {
  resources: Map<string, StoredResource>;
}

const CDN_PROFILE_SKUS = ['Standard_AzureFrontDoor', 'Premium_AzureFrontDoor'];

/** What the documented REST shape requires of each resource body (2024-02-01). */
const RESOURCE_TYPES: Record<Provider, ResourceTypeSpec[]> = {
  'microsoft.cdn': [
    {
      pattern: 'profiles',
      type: 'Microsoft.Cdn/profiles',
      check: (body) => [...requireField(body, 'location', 'string'), ...requireOneOf(body, 'sku.name', CDN_PROFILE_SKUS)],
    },
    { pattern: 'profiles/afdEndpoints', type: 'Microsoft.Cdn/profiles/afdendpoints', check: (body) => [...requireField(body, 'location', 'string'), ...optionalOneOf(body, 'properties.enabledState', ['Enabled', 'Disabled'])] },
    { pattern: 'profiles/afdEndpoints/routes', type: 'Microsoft.Cdn/profiles/afdendpoints/routes', check: checkRoute },
    { pattern: 'profiles/originGroups', type: 'Microsoft.Cdn/profiles/origingroups', check: checkOriginGroup },
    { pattern: 'profiles/originGroups/origins', type: 'Microsoft.Cdn/profiles/origingroups/origins', check: checkOrigin },
    { pattern: 'profiles/ruleSets', type: 'Microsoft.Cdn/profiles/rulesets', check: () => [] },
    { pattern: 'profiles/ruleSets/rules', type: 'Microsoft.Cdn/profiles/rulesets/rules', check: checkRule },
    { pattern: 'profiles/securityPolicies', type: 'Microsoft.Cdn/profiles/securitypolicies', check: checkSecurityPolicy },
    { pattern: 'profiles/customDomains', type: 'Microsoft.Cdn/profiles/customdomains', check: (body) => requireField(body, 'properties.hostName', 'string') },
  ],
  'microsoft.network': [{ pattern: 'FrontDoorWebApplicationFirewallPolicies', type: 'Microsoft.Network/frontdoorwebapplicationfirewallpolicies', check: checkWafPolicy }],
  'microsoft.web': [
    { pattern: 'sites', type: 'Microsoft.Web/sites', check: () => ['keyfront never creates sites'] },
    { pattern: 'sites/config', type: 'Microsoft.Web/sites/config', check: checkSiteConfig },
    { pattern: 'sites/slots', type: 'Microsoft.Web/sites/slots', check: () => ['keyfront never creates slots'] },
    { pattern: 'sites/slots/config', type: 'Microsoft.Web/sites/slots/config', check: checkSiteConfig },
  ],
};

/** App Service access restrictions (SiteConfig.ipSecurityRestrictions). */
function checkSiteConfig(body: Record<string, unknown>): string[] {
  const problems: string[] = [];
  // The site's rules, and the advanced-tool (scm) site's, have the same shape (SiteConfig, Microsoft.Web 2023-12-01).
  for (const list of ['ipSecurityRestrictions', 'scmIpSecurityRestrictions']) {
    problems.push(...optionalOneOf(body, `properties.${list}DefaultAction`, ['Allow', 'Deny']), ...optionalField(body, `properties.${list}`, 'array'));
    for (const [index, rule] of ((valueAt(body, `properties.${list}`) as unknown[]) ?? []).entries()) {
      const at = `properties.${list}[${index}]`;
      problems.push(...requireField(rule, 'ipAddress', 'string').map((p) => `${at}.${p}`));
      problems.push(...requireOneOf(rule, 'action', ['Allow', 'Deny']).map((p) => `${at}.${p}`));
      problems.push(...optionalOneOf(rule, 'tag', ['Default', 'XffProxy', 'ServiceTag']).map((p) => `${at}.${p}`));
      problems.push(...requireField(rule, 'priority', 'number').map((p) => `${at}.${p}`));
      const headers = valueAt(rule, 'headers');
      if (headers !== undefined) {
        for (const [name, values] of Object.entries(headers as Record<string, unknown>)) {
          if (name !== name.toLowerCase()) problems.push(`${at}.headers: header names must be lower case, got ${name}`);
          if (!Array.isArray(values) || values.length === 0 || values.length > 8 || !values.every((v) => typeof v === 'string' && v !== '')) problems.push(`${at}.headers.${name} must be 1-8 non-empty strings`);
        }
      }
    }
  }
  problems.push(...optionalField(body, 'properties.scmIpSecurityRestrictionsUseMain', 'boolean'));
  return problems;
}

function valueAt(body: unknown, dotted: string): unknown {
  let value: unknown = body;
  for (const part of dotted.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function requireField(body: unknown, dotted: string, kind: 'string' | 'number' | 'object' | 'array' | 'boolean'): string[] {
  const value = valueAt(body, dotted);
  const ok = kind === 'array' ? Array.isArray(value) : kind === 'object' ? value !== null && typeof value === 'object' && !Array.isArray(value) : typeof value === kind;
  return ok ? [] : [`${dotted} must be a ${kind}, got ${JSON.stringify(value)}`];
}

function optionalField(body: unknown, dotted: string, kind: 'string' | 'number' | 'object' | 'array' | 'boolean'): string[] {
  return valueAt(body, dotted) === undefined ? [] : requireField(body, dotted, kind);
}

function requireOneOf(body: unknown, dotted: string, allowed: readonly unknown[]): string[] {
  const value = valueAt(body, dotted);
  return allowed.includes(value) ? [] : [`${dotted} must be one of ${allowed.join('|')}, got ${JSON.stringify(value)}`];
}

function optionalOneOf(body: unknown, dotted: string, allowed: readonly unknown[]): string[] {
  return valueAt(body, dotted) === undefined ? [] : requireOneOf(body, dotted, allowed);
}

function optionalRange(body: unknown, dotted: string, min: number, max: number): string[] {
  const value = valueAt(body, dotted);
  if (value === undefined) return [];
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? [] : [`${dotted} must be an integer in ${min}..${max}, got ${JSON.stringify(value)}`];
}

function referenceProblems(state: State, dotted: string, id: unknown): string[] {
  if (typeof id !== 'string') return [`${dotted} must be a resource id`];
  return state.resources.has(id.toLowerCase()) ? [] : [`${dotted} refers to ${id}, which does not exist`];
}

function checkOriginGroup(body: Record<string, unknown>): string[] {
  return [
    ...requireField(body, 'properties', 'object'),
    ...optionalRange(body, 'properties.loadBalancingSettings.sampleSize', 1, 255),
    ...optionalRange(body, 'properties.loadBalancingSettings.successfulSamplesRequired', 1, 255),
    ...optionalRange(body, 'properties.loadBalancingSettings.additionalLatencyInMilliseconds', 0, 1000),
    ...optionalField(body, 'properties.healthProbeSettings.probePath', 'string'),
    ...optionalOneOf(body, 'properties.healthProbeSettings.probeRequestType', ['NotSet', 'GET', 'HEAD']),
    ...optionalOneOf(body, 'properties.healthProbeSettings.probeProtocol', ['NotSet', 'Http', 'Https']),
    ...optionalRange(body, 'properties.healthProbeSettings.probeIntervalInSeconds', 1, 255),
    ...optionalOneOf(body, 'properties.sessionAffinityState', ['Enabled', 'Disabled']),
  ];
}

function checkOrigin(body: Record<string, unknown>): string[] {
  return [
    ...requireField(body, 'properties.hostName', 'string'),
    ...optionalRange(body, 'properties.httpPort', 1, 65535),
    ...optionalRange(body, 'properties.httpsPort', 1, 65535),
    ...optionalField(body, 'properties.originHostHeader', 'string'),
    ...optionalRange(body, 'properties.priority', 1, 5),
    ...optionalRange(body, 'properties.weight', 1, 1000),
    ...optionalOneOf(body, 'properties.enabledState', ['Enabled', 'Disabled']),
    ...optionalField(body, 'properties.enforceCertificateNameCheck', 'boolean'),
  ];
}

function checkRoute(body: Record<string, unknown>, state: State): string[] {
  const problems = [
    ...requireField(body, 'properties.originGroup.id', 'string'),
    ...referenceProblems(state, 'properties.originGroup.id', valueAt(body, 'properties.originGroup.id')),
    ...optionalField(body, 'properties.patternsToMatch', 'array'),
    ...optionalOneOf(body, 'properties.forwardingProtocol', ['HttpOnly', 'HttpsOnly', 'MatchRequest']),
    ...optionalOneOf(body, 'properties.linkToDefaultDomain', ['Enabled', 'Disabled']),
    ...optionalOneOf(body, 'properties.httpsRedirect', ['Enabled', 'Disabled']),
    ...optionalOneOf(body, 'properties.enabledState', ['Enabled', 'Disabled']),
    ...optionalOneOf(body, 'properties.cacheConfiguration.queryStringCachingBehavior', ['IgnoreQueryString', 'UseQueryString', 'IgnoreSpecifiedQueryStrings', 'IncludeSpecifiedQueryStrings']),
    ...optionalField(body, 'properties.cacheConfiguration.compressionSettings.isCompressionEnabled', 'boolean'),
  ];
  for (const [index, protocol] of ((valueAt(body, 'properties.supportedProtocols') as unknown[]) ?? []).entries()) {
    if (protocol !== 'Http' && protocol !== 'Https') problems.push(`properties.supportedProtocols[${index}] must be Http|Https`);
  }
  for (const [index, pattern] of ((valueAt(body, 'properties.patternsToMatch') as unknown[]) ?? []).entries()) {
    if (typeof pattern !== 'string' || !pattern.startsWith('/')) problems.push(`properties.patternsToMatch[${index}] must be a path pattern starting with "/"`);
  }
  for (const [index, ruleSet] of ((valueAt(body, 'properties.ruleSets') as unknown[]) ?? []).entries()) {
    problems.push(...referenceProblems(state, `properties.ruleSets[${index}].id`, valueAt(ruleSet, 'id')));
  }
  for (const [index, domain] of ((valueAt(body, 'properties.customDomains') as unknown[]) ?? []).entries()) {
    problems.push(...referenceProblems(state, `properties.customDomains[${index}].id`, valueAt(domain, 'id')));
  }
  return problems;
}

/** A rule's conditions and actions are `{ name, parameters: { typeName, ... } }` (discriminated by `name`). */
function checkRule(body: Record<string, unknown>): string[] {
  const problems = [...requireField(body, 'properties.order', 'number'), ...requireField(body, 'properties.actions', 'array'), ...optionalOneOf(body, 'properties.matchProcessingBehavior', ['Continue', 'Stop'])];
  for (const list of ['conditions', 'actions'] as const) {
    for (const [index, item] of ((valueAt(body, `properties.${list}`) as unknown[]) ?? []).entries()) {
      problems.push(...requireField(item, 'name', 'string').map((p) => `properties.${list}[${index}].${p}`));
      problems.push(...requireField(item, 'parameters.typeName', 'string').map((p) => `properties.${list}[${index}].${p}`));
    }
  }
  return problems;
}

function checkSecurityPolicy(body: Record<string, unknown>, state: State): string[] {
  const problems = [...requireOneOf(body, 'properties.parameters.type', ['WebApplicationFirewall']), ...referenceProblems(state, 'properties.parameters.wafPolicy.id', valueAt(body, 'properties.parameters.wafPolicy.id')), ...requireField(body, 'properties.parameters.associations', 'array')];
  for (const [index, association] of ((valueAt(body, 'properties.parameters.associations') as unknown[]) ?? []).entries()) {
    for (const [d, domain] of ((valueAt(association, 'domains') as unknown[]) ?? []).entries()) {
      problems.push(...referenceProblems(state, `properties.parameters.associations[${index}].domains[${d}].id`, valueAt(domain, 'id')));
    }
    problems.push(...requireField(association, 'patternsToMatch', 'array').map((p) => `properties.parameters.associations[${index}].${p}`));
  }
  return problems;
}

function checkWafPolicy(body: Record<string, unknown>): string[] {
  const problems = [
    ...requireField(body, 'location', 'string'),
    ...requireOneOf(body, 'sku.name', CDN_PROFILE_SKUS),
    ...optionalOneOf(body, 'properties.policySettings.enabledState', ['Enabled', 'Disabled']),
    ...optionalOneOf(body, 'properties.policySettings.mode', ['Prevention', 'Detection']),
    ...optionalOneOf(body, 'properties.policySettings.requestBodyCheck', ['Enabled', 'Disabled']),
    ...optionalOneOf(body, 'properties.policySettings.customBlockResponseStatusCode', [200, 403, 405, 406, 429]),
  ];
  for (const [index, rule] of ((valueAt(body, 'properties.customRules.rules') as unknown[]) ?? []).entries()) {
    const at = `properties.customRules.rules[${index}]`;
    problems.push(...requireField(rule, 'priority', 'number').map((p) => `${at}.${p}`));
    problems.push(...requireOneOf(rule, 'ruleType', ['MatchRule', 'RateLimitRule']).map((p) => `${at}.${p}`));
    problems.push(...requireOneOf(rule, 'action', ['Allow', 'Block', 'Log', 'Redirect', 'AnomalyScoring', 'JSChallenge']).map((p) => `${at}.${p}`));
    problems.push(...requireField(rule, 'matchConditions', 'array').map((p) => `${at}.${p}`));
    if (valueAt(rule, 'ruleType') === 'RateLimitRule') {
      problems.push(...requireOneOf(rule, 'rateLimitDurationInMinutes', [1, 5]).map((p) => `${at}.${p}`));
      problems.push(...requireField(rule, 'rateLimitThreshold', 'number').map((p) => `${at}.${p}`));
    }
    for (const [c, condition] of ((valueAt(rule, 'matchConditions') as unknown[]) ?? []).entries()) {
      problems.push(...requireField(condition, 'matchVariable', 'string').map((p) => `${at}.matchConditions[${c}].${p}`));
      problems.push(...requireField(condition, 'operator', 'string').map((p) => `${at}.matchConditions[${c}].${p}`));
      problems.push(...requireField(condition, 'matchValue', 'array').map((p) => `${at}.matchConditions[${c}].${p}`));
      for (const [t, transform] of ((valueAt(condition, 'transforms') as unknown[]) ?? []).entries()) {
        if (!WAF_TRANSFORMS.includes(transform as string)) problems.push(`${at}.matchConditions[${c}].transforms[${t}] must be one of ${WAF_TRANSFORMS.join(', ')}, got ${JSON.stringify(transform)}`);
      }
    }
  }
  for (const [index, ruleSet] of ((valueAt(body, 'properties.managedRules.managedRuleSets') as unknown[]) ?? []).entries()) {
    problems.push(...requireField(ruleSet, 'ruleSetType', 'string').map((p) => `properties.managedRules.managedRuleSets[${index}].${p}`));
    problems.push(...requireField(ruleSet, 'ruleSetVersion', 'string').map((p) => `properties.managedRules.managedRuleSets[${index}].${p}`));
    for (const [e, exclusion] of ((valueAt(ruleSet, 'exclusions') as unknown[]) ?? []).entries()) {
      const at = `properties.managedRules.managedRuleSets[${index}].exclusions[${e}]`;
      problems.push(...requireOneOf(exclusion, 'matchVariable', ['RequestHeaderNames', 'RequestCookieNames', 'QueryStringArgNames', 'RequestBodyPostArgNames', 'RequestBodyJsonArgNames']).map((p) => `${at}.${p}`));
      problems.push(...requireOneOf(exclusion, 'selectorMatchOperator', ['Equals', 'Contains', 'StartsWith', 'EndsWith', 'EqualsAny']).map((p) => `${at}.${p}`));
      problems.push(...requireField(exclusion, 'selector', 'string').map((p) => `${at}.${p}`));
    }
  }
  return problems;
}

interface ParsedPath {
  subscriptionId: string;
  resourceGroup: string;
  provider: Provider;
  /** `[type, name]` pairs after the provider; the last may lack a name (a collection). */
  segments: { type: string; name?: string }[];
  /** `purge` on an endpoint. */
  action?: string;
}

const PATH_PREFIX = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/(Microsoft\.Cdn|Microsoft\.Network|Microsoft\.Web)\/(.+)$/i;

function parseArmPath(pathname: string): ParsedPath | undefined {
  const match = PATH_PREFIX.exec(pathname);
  if (!match) return undefined;
  const parts = match[4].split('/');
  const segments: { type: string; name?: string }[] = [];
  let action: string | undefined;
  for (let i = 0; i < parts.length; i += 2) {
    if (i + 1 < parts.length) segments.push({ type: parts[i], name: parts[i + 1] });
    else if (parts[i].toLowerCase() === 'purge' && segments.length === 2) action = 'purge';
    else segments.push({ type: parts[i] });
  }
  return { subscriptionId: match[1], resourceGroup: match[2], provider: match[3].toLowerCase() as ParsedPath['provider'], segments, action };
}

export function makeCertificate(): { cert: Buffer; key: Buffer } {
  const dir = mkdtempSync(path.join(tmpdir(), 'arm-stand-in-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    return { cert: readFileSync(certFile), key: readFileSync(keyFile) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-ms-request-id': randomUUID(), ...headers });
  res.end(text);
}

export function armError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { error: { code, message } });
}

export async function startArmStandIn(options: ArmStandInOptions = {}): Promise<ArmStandIn> {
  const { cert, key } = makeCertificate();
  const token = `arm-stand-in-${randomBytes(12).toString('hex')}`;
  const subscriptionId = options.subscriptionId ?? randomUUID();
  const pollsBeforeDone = options.pollsBeforeDone ?? 1;
  const requests: RecordedRequest[] = [];
  const violations: string[] = [];
  const purges: PurgeCall[] = [];
  const resources = new Map<string, StoredResource>();
  const faults: Fault[] = [];
  /** Operation id -> polls left before it ends, and its error if it fails. */
  const operations = new Map<string, { pollsLeft: number; error?: { code: string; message: string } }>();
  let endpoint = '';

  const reject = (res: ServerResponse, status: number, code: string, problem: string): void => {
    violations.push(problem);
    armError(res, status, code, problem);
  };

  const startOperation = (provider: ParsedPath['provider'], error?: { code: string; message: string }): Record<string, string> => {
    const id = randomUUID();
    operations.set(id, { pollsLeft: pollsBeforeDone, error });
    const providerName = provider === 'microsoft.cdn' ? 'Microsoft.Cdn' : provider === 'microsoft.network' ? 'Microsoft.Network' : 'Microsoft.Web';
    const url = `${endpoint}/subscriptions/${subscriptionId}/providers/${providerName}/operationresults/${id}?api-version=${ARM_API_VERSIONS[provider]}`;
    return { 'azure-asyncoperation': url, location: url };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', endpoint);
    const method = (req.method ?? 'GET').toUpperCase();
    const text = await readBody(req);
    let body: unknown = undefined;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        return reject(res, 400, 'InvalidRequestContent', `${method} ${url.pathname}: the body is not JSON`);
      }
    }
    const apiVersion = url.searchParams.get('api-version');
    requests.push({ method, path: decodeURIComponent(url.pathname), apiVersion, body });

    if (req.headers.authorization !== `Bearer ${token}`) return armError(res, 401, 'AuthenticationFailed', 'missing or unknown bearer token');

    const fault = faults.find((f) => f.method === method && url.pathname.toLowerCase().includes(f.pathIncludes.toLowerCase()));
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      if (fault.times <= 0) faults.splice(faults.indexOf(fault), 1);
      return armError(res, fault.status, fault.code, fault.message ?? `injected ${fault.code}`);
    }

    const operation = /^\/subscriptions\/[^/]+\/providers\/Microsoft\.(?:Cdn|Network|Web)\/operationresults\/([^/]+)$/i.exec(url.pathname);
    if (operation && method === 'GET') {
      const state = operations.get(operation[1]);
      if (!state) return armError(res, 404, 'NotFound', 'no such operation');
      if (state.pollsLeft > 0) {
        state.pollsLeft -= 1;
        return sendJson(res, 200, { status: 'InProgress' });
      }
      return sendJson(res, 200, state.error ? { status: 'Failed', error: state.error } : { status: 'Succeeded' });
    }

    const parsed = parseArmPath(url.pathname);
    if (!parsed) return reject(res, 404, 'InvalidResourceType', `${method} ${url.pathname}: not a resource path keyfront should call`);
    if (parsed.subscriptionId !== subscriptionId) return reject(res, 404, 'SubscriptionNotFound', `${method} ${url.pathname}: unknown subscription`);
    const expectedVersion = ARM_API_VERSIONS[parsed.provider];
    if (apiVersion !== expectedVersion) return reject(res, 400, 'InvalidApiVersionParameter', `${method} ${url.pathname}: api-version ${apiVersion} (expected ${expectedVersion})`);
    if (text !== '' && !String(req.headers['content-type'] ?? '').startsWith('application/json')) return reject(res, 415, 'UnsupportedMediaType', `${method} ${url.pathname}: content-type ${req.headers['content-type']}`);

    const typePath = parsed.segments.map((s) => s.type.toLowerCase()).join('/');
    const spec = RESOURCE_TYPES[parsed.provider].find((candidate) => candidate.pattern.toLowerCase() === typePath);
    if (!spec) return reject(res, 404, 'InvalidResourceType', `${method} ${url.pathname}: unknown resource type ${typePath}`);
    const prefix = `/subscriptions/${subscriptionId}/resourceGroups/${parsed.resourceGroup}/providers/${spec.type.split('/')[0]}`;
    const idOf = (count: number) => `${prefix}/${parsed.segments.slice(0, count).map((s) => `${s.type}/${s.name}`).join('/')}`;
    const last = parsed.segments[parsed.segments.length - 1];

    // Every level above this one must exist (ARM answers ParentResourceNotFound otherwise).
    for (let level = 1; level < parsed.segments.length; level += 1) {
      if (!resources.has(idOf(level).toLowerCase())) return reject(res, 404, 'ParentResourceNotFound', `${method} ${url.pathname}: parent ${idOf(level)} does not exist`);
    }

    // The action Azure authorizes: the resource type's read/write/delete, or the purge action.
    const resourceType = `${spec.type.split('/')[0]}/${parsed.segments.map((s) => s.type).join('/')}`;
    const action = parsed.action === 'purge' ? `${resourceType}/purge/action` : `${resourceType}/${method === 'GET' ? 'read' : method === 'DELETE' ? 'delete' : 'write'}`;
    const scope = parsed.action === 'purge' ? idOf(2) : parsed.segments[parsed.segments.length - 1].name === undefined ? idOf(parsed.segments.length - 1) : idOf(parsed.segments.length);
    if (options.caller && !isAuthorized(options.caller.grants, options.caller.principalId, action, scope)) {
      return armError(res, 403, 'AuthorizationFailed', `The client '${options.caller.principalId}' with object id '${options.caller.principalId}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`);
    }

    if (parsed.action === 'purge') {
      if (method !== 'POST') return reject(res, 405, 'MethodNotAllowed', `${method} on purge`);
      if (typePath !== 'profiles/afdendpoints') return reject(res, 404, 'InvalidResourceType', `purge on ${typePath}`);
      const id = idOf(2);
      if (!resources.has(id.toLowerCase())) return armError(res, 404, 'NotFound', `endpoint ${id} does not exist`);
      const contentPaths = valueAt(body, 'contentPaths');
      const domains = valueAt(body, 'domains');
      const problems: string[] = [];
      if (!Array.isArray(contentPaths) || contentPaths.length === 0 || !contentPaths.every((p) => typeof p === 'string' && p.startsWith('/'))) problems.push('contentPaths must be a non-empty array of paths starting with "/"');
      if (domains !== undefined && (!Array.isArray(domains) || !domains.every((d) => typeof d === 'string'))) problems.push('domains must be an array of host names');
      if (problems.length > 0) return reject(res, 400, 'BadRequest', `POST ${url.pathname}: ${problems.join('; ')}`);
      purges.push({ endpointId: id, contentPaths: contentPaths as string[], ...(domains ? { domains: domains as string[] } : {}) });
      return sendJson(res, 202, undefined, startOperation(parsed.provider, options.purgeOperationError));
    }

    if (last.name === undefined) {
      if (method !== 'GET') return reject(res, 405, 'MethodNotAllowed', `${method} on a collection`);
      const collection = `${idOf(parsed.segments.length - 1)}/${last.type}/`.toLowerCase().replace(/^\/\//, '/');
      const value = [...resources.values()].filter((r) => r.id.toLowerCase().startsWith(collection) && !r.id.slice(collection.length).includes('/'));
      return sendJson(res, 200, { value });
    }

    const id = idOf(parsed.segments.length);
    const existing = resources.get(id.toLowerCase());
    switch (method) {
      case 'GET':
        // A site's config/web always exists once the site does.
        if (spec.type.endsWith('/config')) return sendJson(res, 200, siteConfigView(id, last.name, existing, spec.type));
        if (!existing) return armError(res, 404, 'NotFound', `${id} was not found`);
        return sendJson(res, 200, existing);
      case 'DELETE': {
        if (!existing) return sendJson(res, 204, undefined);
        const children = [...resources.keys()].filter((k) => k.startsWith(`${id.toLowerCase()}/`));
        for (const child of children) resources.delete(child);
        resources.delete(id.toLowerCase());
        return sendJson(res, 202, undefined, startOperation(parsed.provider));
      }
      case 'PATCH': {
        // Only a site's config/web is patched (keyfront changes its access restrictions, nothing else).
        if (!spec.type.endsWith('/config') || last.name !== 'web') return reject(res, 405, 'MethodNotAllowed', `PATCH ${url.pathname}: keyfront patches only the config/web of sites and slots`);
        const patch = (body ?? {}) as Record<string, unknown>;
        const problems = spec.check(patch, { resources });
        if (problems.length > 0) return reject(res, 400, 'BadRequest', `PATCH ${url.pathname}: ${problems.join('; ')}`);
        const merged: StoredResource = { id, name: last.name, type: spec.type, properties: { ...(existing?.properties ?? {}), ...((patch.properties as Record<string, unknown>) ?? {}) } };
        resources.set(id.toLowerCase(), merged);
        return sendJson(res, 200, siteConfigView(id, last.name, merged, spec.type));
      }
      case 'PUT': {
        if (spec.type.startsWith('Microsoft.Web/')) return reject(res, 405, 'MethodNotAllowed', `PUT ${url.pathname}: a PUT of config/web replaces the whole site configuration; keyfront must PATCH`);
        const put = (body ?? {}) as Record<string, unknown>;
        if (typeof put !== 'object' || Array.isArray(put)) return reject(res, 400, 'InvalidRequestContent', `PUT ${url.pathname}: the body must be a JSON object`);
        const problems = spec.check(put, { resources });
        if (problems.length > 0) return reject(res, 400, 'BadRequest', `PUT ${url.pathname}: ${problems.join('; ')}`);
        const stored: StoredResource = {
          ...(put as object),
          id,
          name: last.name,
          type: spec.type,
          properties: { ...((put.properties as Record<string, unknown>) ?? {}), ...readOnlyProperties(spec.type, last.name, existing), provisioningState: 'Succeeded', deploymentStatus: 'NotStarted' },
        };
        resources.set(id.toLowerCase(), stored);
        const answer = { ...stored, properties: { ...stored.properties, provisioningState: existing ? 'Updating' : 'Creating' } };
        return sendJson(res, existing ? 200 : 201, answer, startOperation(parsed.provider));
      }
      default:
        return reject(res, 405, 'MethodNotAllowed', `${method} ${url.pathname}: keyfront only PUTs, PATCHes, GETs and DELETEs resources`);
    }
  };

  const server: Server = createServer({ cert, key }, (req, res) => {
    handle(req, res).catch((error: unknown) => armError(res, 500, 'InternalServerError', (error as Error).message));
  });
  await new Promise<void>((resolve, reject_) => {
    server.once('error', reject_);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = new Agent({ ca: cert, keepAlive: true });

  return {
    endpoint,
    subscriptionId,
    credential: { getToken: async (): Promise<AccessToken> => ({ token, expiresOnTimestamp: Date.now() + 3600_000 }) },
    clientOptions: () => ({ endpoint, agent, retryOptions: { maxRetries: 0 } }),
    requests,
    violations,
    purges,
    resources,
    failNext: (fault) => {
      faults.push({ ...fault });
    },
    writes: () => requests.filter((r) => r.method !== 'GET'),
    reset: () => {
      requests.length = 0;
      violations.length = 0;
      purges.length = 0;
    },
    stop: async () => {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A site's config/web as App Service answers it: after the explicit access restrictions, the
 * implicit rule for requests none of them matched (priority 2147483647, "Allow all" while there is
 * none, else as `ipSecurityRestrictionsDefaultAction` says, "Deny all" by default). It is not stored.
 */
function siteConfigView(id: string, name: string, stored: StoredResource | undefined, type: string): StoredResource {
  const properties = { ...(stored?.properties ?? {}) };
  for (const list of ['ipSecurityRestrictions', 'scmIpSecurityRestrictions']) {
    const explicit = Array.isArray(properties[list]) ? (properties[list] as unknown[]) : [];
    const action = properties[`${list}DefaultAction`] ?? (explicit.length === 0 ? 'Allow' : 'Deny');
    properties[list] = [...explicit, { ipAddress: 'Any', action, priority: 2147483647, name: `${String(action)} all`, description: `${String(action)} all access` }];
  }
  return { id, name, type, properties };
}

/** Values Azure assigns: the profile's Front Door ID (the `X-Azure-FDID` header), an endpoint's host name. */
function readOnlyProperties(type: string, name: string, existing: StoredResource | undefined): Record<string, unknown> {
  if (type === 'Microsoft.Cdn/profiles') return { frontDoorId: existing?.properties.frontDoorId ?? randomUUID() };
  if (type === 'Microsoft.Cdn/profiles/afdendpoints') return { hostName: existing?.properties.hostName ?? `${name}-${randomBytes(8).toString('hex')}.z01.azurefd.net` };
  return {};
}

/** Seeds an existing Front Door profile and endpoint (what a purge test needs). */
export function seedEndpoint(standIn: ArmStandIn, resourceGroup: string, profileName: string, endpointName: string): string {
  const profileId = `/subscriptions/${standIn.subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Cdn/profiles/${profileName}`;
  const endpointId = `${profileId}/afdEndpoints/${endpointName}`;
  standIn.resources.set(profileId.toLowerCase(), { id: profileId, name: profileName, type: 'Microsoft.Cdn/profiles', location: 'Global', sku: { name: 'Premium_AzureFrontDoor' }, properties: { frontDoorId: randomUUID(), provisioningState: 'Succeeded' } });
  standIn.resources.set(endpointId.toLowerCase(), { id: endpointId, name: endpointName, type: 'Microsoft.Cdn/profiles/afdendpoints', location: 'Global', properties: { hostName: `${endpointName}-test.z01.azurefd.net`, enabledState: 'Enabled', provisioningState: 'Succeeded' } });
  return endpointId;
}

/** Seeds an existing Function App (the API) and its slots, whose config/web keyfront restricts. */
export function seedSite(standIn: ArmStandIn, resourceGroup: string, siteName: string, slots: string[] = []): string {
  const id = `/subscriptions/${standIn.subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Web/sites/${siteName}`;
  standIn.resources.set(id.toLowerCase(), { id, name: siteName, type: 'Microsoft.Web/sites', location: 'japaneast', properties: { state: 'Running' } });
  for (const slot of slots) {
    standIn.resources.set(`${id}/slots/${slot}`.toLowerCase(), { id: `${id}/slots/${slot}`, name: slot, type: 'Microsoft.Web/sites/slots', location: 'japaneast', properties: { state: 'Running' } });
  }
  return id;
}
