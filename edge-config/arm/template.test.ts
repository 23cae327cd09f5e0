import { KnownTransformType } from '@azure/arm-frontdoor';
import { loadAzureEdgeConfig } from '../config';
import { keyfrontEdge } from '../keyfront';
import { validateEdgeDeclaration } from '../validate';
import { compileArmTemplate, type ArmTemplateResource } from './template';

const config = loadAzureEdgeConfig({ KEYFRONT_EDGE_CUSTOM_DOMAINS: 'exports.example.org', KEYFRONT_EDGE_API_SITES: 'kf-api-jpe,kf-api-jpw', KEYFRONT_EDGE_STORAGE_ACCOUNT: 'kfexports' });
const declaration = validateEdgeDeclaration(keyfrontEdge(config.environment), 'azure');
const template = compileArmTemplate(declaration);
const profile = declaration.profile.name;
const endpoint = declaration.endpoint.name;

function resource(type: string, name: string): ArmTemplateResource {
  const found = template.resources.find((r) => r.type === type && r.name === name);
  if (!found) throw new Error(`no ${type} ${name} in the template`);
  return found;
}
const ref = (type: string, ...names: string[]) => `[resourceId('${type}', ${names.map((n) => `'${n}'`).join(', ')})]`;

describe('the ARM template of the edge declaration', () => {
  it('is a deployment template whose resources use the documented API versions', () => {
    expect(template.$schema).toBe('https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#');
    const versions = new Map(template.resources.map((r) => [r.type.split('/')[0], r.apiVersion]));
    expect(Object.fromEntries(versions)).toEqual({ 'Microsoft.Cdn': '2024-02-01', 'Microsoft.Network': '2024-02-01', 'Microsoft.Web': '2023-12-01' });
    expect(template.outputs.frontDoorId.value).toBe(`[reference(resourceId('Microsoft.Cdn/profiles', '${profile}'), '2024-02-01').frontDoorId]`);
  });

  it('declares the profile and endpoint as global resources of the declared SKU', () => {
    expect(resource('Microsoft.Cdn/profiles', profile)).toMatchObject({ location: 'Global', sku: { name: 'Premium_AzureFrontDoor' }, properties: { originResponseTimeoutSeconds: 30 } });
    expect(resource('Microsoft.Cdn/profiles/afdEndpoints', `${profile}/${endpoint}`)).toMatchObject({ location: 'Global', properties: { enabledState: 'Enabled' } });
    expect(resource('Microsoft.Cdn/profiles/customDomains', `${profile}/exports-example-org`).properties).toEqual({ hostName: 'exports.example.org', tlsSettings: { certificateType: 'ManagedCertificate', minimumTlsVersion: 'TLS12' } });
  });

  it('has every origin group with its probe and every origin with host, host header and priority', () => {
    for (const group of declaration.originGroups) {
      const compiled = resource('Microsoft.Cdn/profiles/originGroups', `${profile}/${group.name}`);
      expect(compiled.properties).toEqual({
        loadBalancingSettings: group.loadBalancing,
        healthProbeSettings: { probePath: group.healthProbe?.path, probeRequestType: group.healthProbe?.method, probeProtocol: 'Https', probeIntervalInSeconds: group.healthProbe?.intervalInSeconds },
        sessionAffinityState: 'Disabled',
      });
      for (const origin of group.origins) {
        const host = new URL(origin.url).hostname;
        expect(resource('Microsoft.Cdn/profiles/originGroups/origins', `${profile}/${group.name}/${origin.name}`).properties).toEqual({
          hostName: host, httpPort: 80, httpsPort: 443, originHostHeader: host, priority: origin.priority, weight: origin.weight, enabledState: 'Enabled', enforceCertificateNameCheck: true,
        });
      }
    }
    expect(resource('Microsoft.Cdn/profiles/originGroups/origins', `${profile}/exports/blob-secondary`).properties?.hostName).toBe('kfexports-secondary.blob.core.windows.net');
    expect(resource('Microsoft.Cdn/profiles/originGroups', `${profile}/exports`).properties?.healthProbeSettings).toMatchObject({ probePath: '/exports/v1/440/index.txt', probeRequestType: 'HEAD' });
  });

  it("routes /api/* to the API, HTTPS only and without caching, the phone's User-Agent deleted", () => {
    const api = resource('Microsoft.Cdn/profiles/afdEndpoints/routes', `${profile}/${endpoint}/api`).properties ?? {};
    expect(api).toMatchObject({
      originGroup: { id: ref('Microsoft.Cdn/profiles/originGroups', profile, 'api') },
      patternsToMatch: ['/api/*'],
      supportedProtocols: ['Https'],
      forwardingProtocol: 'HttpsOnly',
      httpsRedirect: 'Disabled',
      linkToDefaultDomain: 'Enabled',
      ruleSets: [{ id: ref('Microsoft.Cdn/profiles/ruleSets', profile, 'SecurityHeaders') }, { id: ref('Microsoft.Cdn/profiles/ruleSets', profile, 'ApiRequestHeaders') }],
      customDomains: [{ id: ref('Microsoft.Cdn/profiles/customDomains', profile, 'exports-example-org') }],
    });
    const deletes = resource('Microsoft.Cdn/profiles/ruleSets/rules', `${profile}/ApiRequestHeaders/Delete1`).properties ?? {};
    expect(deletes).toMatchObject({ actions: [{ name: 'ModifyRequestHeader', parameters: expect.objectContaining({ headerAction: 'Delete', headerName: 'User-Agent' }) }] });
    // Front Door turns caching off for a route without cacheConfiguration.
    expect(api).not.toHaveProperty('cacheConfiguration');
    expect(api).not.toHaveProperty('originPath');
  });

  it('routes /v1/* to the exports container, caching with query strings ignored and zips uncompressed', () => {
    const exports = resource('Microsoft.Cdn/profiles/afdEndpoints/routes', `${profile}/${endpoint}/exports`).properties ?? {};
    expect(exports).toMatchObject({
      originGroup: { id: ref('Microsoft.Cdn/profiles/originGroups', profile, 'exports') },
      originPath: '/exports',
      patternsToMatch: ['/v1/*'],
      supportedProtocols: ['Http', 'Https'],
      httpsRedirect: 'Enabled',
      cacheConfiguration: { queryStringCachingBehavior: 'IgnoreQueryString', compressionSettings: { isCompressionEnabled: true, contentTypesToCompress: ['text/plain', 'application/json'] } },
      ruleSets: [{ id: ref('Microsoft.Cdn/profiles/ruleSets', profile, 'SecurityHeaders') }, { id: ref('Microsoft.Cdn/profiles/ruleSets', profile, 'BlobRequestHeaders') }, { id: ref('Microsoft.Cdn/profiles/ruleSets', profile, 'ExportsCors') }],
    });
  });

  it('has every rule with its order, conditions and header actions as typed delivery-rule parameters', () => {
    for (const ruleSet of declaration.ruleSets) {
      resource('Microsoft.Cdn/profiles/ruleSets', `${profile}/${ruleSet.name}`);
      for (const rule of ruleSet.rules) {
        const compiled = resource('Microsoft.Cdn/profiles/ruleSets/rules', `${profile}/${ruleSet.name}/${rule.name}`).properties ?? {};
        expect(compiled.order).toBe(rule.order);
        expect(compiled.matchProcessingBehavior).toBe('Continue');
        expect(compiled.actions).toEqual(
          rule.actions.map((action) =>
            action.type === 'UrlRewrite'
              ? { name: 'UrlRewrite', parameters: { typeName: 'DeliveryRuleUrlRewriteActionParameters', sourcePattern: action.sourcePattern, destination: action.destination, preserveUnmatchedPath: action.preserveUnmatchedPath } }
              : { name: action.type, parameters: { typeName: 'DeliveryRuleHeaderActionParameters', headerAction: action.headerAction, headerName: action.header, ...(action.value !== undefined ? { value: action.value } : {}) } },
          ),
        );
      }
    }
    expect(resource('Microsoft.Cdn/profiles/ruleSets/rules', `${profile}/SecurityHeaders/Always`).properties?.actions).toContainEqual({ name: 'ModifyResponseHeader', parameters: { typeName: 'DeliveryRuleHeaderActionParameters', headerAction: 'Overwrite', headerName: 'Strict-Transport-Security', value: 'max-age=31536000; includeSubDomains' } });
    expect(resource('Microsoft.Cdn/profiles/ruleSets/rules', `${profile}/ExportsCors/ReadableByAnyPage`).properties?.actions).toContainEqual({ name: 'ModifyResponseHeader', parameters: { typeName: 'DeliveryRuleHeaderActionParameters', headerAction: 'Overwrite', headerName: 'Access-Control-Allow-Origin', value: '*' } });
  });

  it('compiles rule conditions to their named, typed parameters', () => {
    const withConditions = keyfrontEdge(config.environment);
    withConditions.ruleSets[0].rules[0].conditions = [
      { type: 'UrlPath', operator: 'BeginsWith', values: ['v1/'], negate: false, transforms: ['Lowercase'] },
      { type: 'UrlFileExtension', operator: 'Equal', values: ['zip'], negate: true, transforms: [] },
      { type: 'RequestMethod', values: ['GET', 'HEAD'], negate: false },
      { type: 'RequestHeader', header: 'Origin', operator: 'Any', values: [], negate: false, transforms: [] },
    ];
    const compiled = compileArmTemplate(validateEdgeDeclaration(withConditions, 'azure')).resources.find((r) => r.name === `${profile}/SecurityHeaders/Always`);
    expect(compiled?.properties?.conditions).toEqual([
      { name: 'UrlPath', parameters: { typeName: 'DeliveryRuleUrlPathMatchConditionParameters', operator: 'BeginsWith', negateCondition: false, matchValues: ['v1/'], transforms: ['Lowercase'] } },
      { name: 'UrlFileExtension', parameters: { typeName: 'DeliveryRuleUrlFileExtensionMatchConditionParameters', operator: 'Equal', negateCondition: true, matchValues: ['zip'], transforms: [] } },
      { name: 'RequestMethod', parameters: { typeName: 'DeliveryRuleRequestMethodConditionParameters', operator: 'Equal', negateCondition: false, matchValues: ['GET', 'HEAD'] } },
      { name: 'RequestHeader', parameters: { typeName: 'DeliveryRuleRequestHeaderConditionParameters', operator: 'Any', selector: 'Origin', negateCondition: false, matchValues: [], transforms: [] } },
    ]);
  });

  it('has the WAF policy with body inspection, a 429 JSON block response, IP scrubbing, managed rules and every custom rule', () => {
    const waf = resource('Microsoft.Network/FrontDoorWebApplicationFirewallPolicies', declaration.waf.name);
    expect(waf).toMatchObject({ location: 'Global', sku: { name: 'Premium_AzureFrontDoor' } });
    const settings = waf.properties?.policySettings as Record<string, unknown>;
    expect(settings).toMatchObject({ enabledState: 'Enabled', mode: 'Prevention', requestBodyCheck: 'Enabled', customBlockResponseStatusCode: 429, logScrubbing: { state: 'Enabled', scrubbingRules: [{ matchVariable: 'RequestIPAddress', selectorMatchOperator: 'EqualsAny', state: 'Enabled' }] } });
    expect(JSON.parse(Buffer.from(settings.customBlockResponseBody as string, 'base64').toString('utf8'))).toEqual({ error: expect.any(String), code: 'edge_refused' });
    expect(waf.properties?.managedRules).toEqual({
      managedRuleSets: [
        {
          ruleSetType: 'Microsoft_DefaultRuleSet',
          ruleSetVersion: '2.1',
          ruleSetAction: 'Block',
          exclusions: [
            { matchVariable: 'RequestBodyJsonArgNames', selectorMatchOperator: 'StartsWith', selector: 'temporaryExposureKeys' },
            { matchVariable: 'RequestBodyJsonArgNames', selectorMatchOperator: 'Equals', selector: 'verificationPayload' },
            { matchVariable: 'RequestBodyJsonArgNames', selectorMatchOperator: 'Equals', selector: 'hmacKey' },
            { matchVariable: 'RequestBodyJsonArgNames', selectorMatchOperator: 'Equals', selector: 'padding' },
            { matchVariable: 'RequestBodyJsonArgNames', selectorMatchOperator: 'Equals', selector: 'revisionToken' },
            { matchVariable: 'RequestBodyJsonArgNames', selectorMatchOperator: 'Equals', selector: 'deviceVerificationPayload' },
          ],
        },
      ],
    });
    const rules = (waf.properties?.customRules as { rules: Record<string, unknown>[] }).rules;
    expect(rules.map((r) => r.name)).toEqual(declaration.waf.customRules.map((r) => r.name));
    const publish = rules.find((r) => r.name === 'PublishRateLimit');
    expect(publish).toEqual({
      name: 'PublishRateLimit',
      priority: 30,
      enabledState: 'Enabled',
      ruleType: 'RateLimitRule',
      rateLimitDurationInMinutes: 1,
      rateLimitThreshold: 60,
      groupBy: [{ variableName: 'SocketAddr' }],
      matchConditions: [{ matchVariable: 'RequestUri', operator: 'RegEx', negateCondition: false, matchValue: ['^https?://[^/]+/api/v1/publish(?:[/?]|$)'], transforms: ['UrlDecode', 'Lowercase'] }],
      action: 'Block',
    });
    expect(rules.find((r) => r.name === 'RegisterRateLimit')).toMatchObject({ ruleType: 'RateLimitRule', rateLimitThreshold: 60, groupBy: [{ variableName: 'SocketAddr' }], matchConditions: [{ matchVariable: 'RequestUri', transforms: ['UrlDecode', 'Lowercase'] }] });
    expect(rules.find((r) => r.name === 'ApiMethods')).toMatchObject({
      ruleType: 'MatchRule',
      action: 'Block',
      matchConditions: [
        { matchVariable: 'RequestUri', operator: 'RegEx', matchValue: ['^https?://[^/]+/api/'], transforms: ['UrlDecode', 'Lowercase'] },
        { matchVariable: 'RequestMethod', operator: 'Equal', negateCondition: true, matchValue: ['GET', 'POST'] },
      ],
    });
    expect(rules.find((r) => r.name === 'ReadMethods')?.matchConditions).toContainEqual({ matchVariable: 'RequestMethod', operator: 'Equal', negateCondition: true, matchValue: ['GET', 'HEAD'], transforms: [] });
    expect(rules.find((r) => r.name === 'ReadMethods')?.matchConditions).toContainEqual({ matchVariable: 'RequestUri', operator: 'RegEx', negateCondition: true, matchValue: ['^(?:https?://[^/?#]+)?/api/'], transforms: [] });
    // Every transform is one the FrontDoor WAF API documents.
    const documented = new Set<string>(Object.values(KnownTransformType));
    expect(rules.flatMap((r) => (r.matchConditions as { transforms: string[] }[]).flatMap((c) => c.transforms)).filter((t) => !documented.has(t))).toEqual([]);
  });

  it('attaches the WAF policy to the endpoint and custom domains through a security policy', () => {
    const policy = template.resources.find((r) => r.type === 'Microsoft.Cdn/profiles/securityPolicies');
    expect(policy?.properties).toEqual({
      parameters: {
        type: 'WebApplicationFirewall',
        wafPolicy: { id: ref('Microsoft.Network/FrontDoorWebApplicationFirewallPolicies', declaration.waf.name) },
        associations: [{ domains: [{ id: ref('Microsoft.Cdn/profiles/afdEndpoints', profile, endpoint) }, { id: ref('Microsoft.Cdn/profiles/customDomains', profile, 'exports-example-org') }], patternsToMatch: ['/*'] }],
      },
    });
  });

  it("restricts each API Function App and its staging slot to the AzureFrontDoor.Backend service tag with this profile's X-Azure-FDID, and closes their scm sites", () => {
    const configs = ['kf-api-jpe', 'kf-api-jpw'].flatMap((site) => [resource('Microsoft.Web/sites/config', `${site}/web`), resource('Microsoft.Web/sites/slots/config', `${site}/staging/web`)]);
    for (const config of configs) {
      expect(config.properties).toEqual({
        ipSecurityRestrictionsDefaultAction: 'Deny',
        ipSecurityRestrictions: [
          {
            name: 'AllowKeyfrontFrontDoor',
            description: expect.any(String),
            priority: 100,
            action: 'Allow',
            tag: 'ServiceTag',
            ipAddress: 'AzureFrontDoor.Backend',
            headers: { 'x-azure-fdid': [`[reference(resourceId('Microsoft.Cdn/profiles', '${profile}'), '2024-02-01').frontDoorId]`] },
          },
        ],
        scmIpSecurityRestrictionsUseMain: false,
        scmIpSecurityRestrictionsDefaultAction: 'Deny',
        scmIpSecurityRestrictions: [],
      });
    }
  });

  it('only depends on resources it declares, and lists parents before children', () => {
    const ids = template.resources.map((r) => `[resourceId('${r.type}', ${r.name.split('/').map((n) => `'${n}'`).join(', ')})]`);
    template.resources.forEach((r, index) => {
      for (const dependency of r.dependsOn ?? []) {
        expect(ids).toContain(dependency);
        expect(ids.indexOf(dependency)).toBeLessThan(index);
      }
    });
    // Every reference inside properties points at a declared resource too.
    const text = JSON.stringify(template.resources.map((r) => r.properties));
    for (const match of text.matchAll(/\[resourceId\([^\]]*\)\]/g)) expect(ids).toContain(match[0]);
  });
});
