/**
 * The edge declaration as Azure resources, in the REST shape of the documented API versions
 * (Microsoft.Cdn 2024-02-01, Microsoft.Network FrontDoorWebApplicationFirewallPolicies
 * 2024-02-01, Microsoft.Web 2023-12-01): the single mapping both the ARM template
 * (`template.ts`) and `edge apply` (`apply.ts`) use. References between resources go through a
 * `ResourceIds` strategy: ARM template functions for the template, concrete ids for apply.
 */
import type { EdgeDeclaration, OriginGroupDeclaration, RouteDeclaration, RuleAction, RuleCondition, WafCustomRule, WafMatchCondition } from '../declaration';

export const CDN_API_VERSION = '2024-02-01';
export const WAF_API_VERSION = '2024-02-01';
export const WEB_API_VERSION = '2023-12-01';

export type ResourceType =
  | 'Microsoft.Cdn/profiles'
  | 'Microsoft.Cdn/profiles/afdEndpoints'
  | 'Microsoft.Cdn/profiles/customDomains'
  | 'Microsoft.Cdn/profiles/originGroups'
  | 'Microsoft.Cdn/profiles/originGroups/origins'
  | 'Microsoft.Cdn/profiles/ruleSets'
  | 'Microsoft.Cdn/profiles/ruleSets/rules'
  | 'Microsoft.Cdn/profiles/afdEndpoints/routes'
  | 'Microsoft.Cdn/profiles/securityPolicies'
  | 'Microsoft.Network/FrontDoorWebApplicationFirewallPolicies'
  | 'Microsoft.Web/sites/config'
  | 'Microsoft.Web/sites/slots/config';

/** A site's or a slot's `config/web`: where App Service keeps its access restrictions. */
export function isSiteConfig(type: ResourceType): type is 'Microsoft.Web/sites/config' | 'Microsoft.Web/sites/slots/config' {
  return type === 'Microsoft.Web/sites/config' || type === 'Microsoft.Web/sites/slots/config';
}

/** One resource: `names` are the name segments (profile, child, grandchild). */
export interface EdgeResource {
  type: ResourceType;
  names: string[];
  apiVersion: string;
  location?: string;
  sku?: { name: string };
  properties?: Record<string, unknown>;
  /** Resources that must exist first. */
  dependsOn: { type: ResourceType; names: string[] }[];
}

export interface ResourceIds {
  id(type: ResourceType, names: readonly string[]): string;
  /** The profile's Front Door ID (what `X-Azure-FDID` carries), for the Function App restriction. */
  frontDoorId(profileName: string): string;
}

/** ARM template functions: resolved by Azure at deployment. */
export const templateIds: ResourceIds = {
  id: (type, names) => `[resourceId('${type}', ${names.map((name) => `'${name}'`).join(', ')})]`,
  frontDoorId: (profileName) => `[reference(resourceId('Microsoft.Cdn/profiles', '${profileName}'), '${CDN_API_VERSION}').frontDoorId]`,
};

/** Concrete ids of one resource group (what the REST API and the SDKs take). */
export function concreteIds(subscriptionId: string, resourceGroupName: string, frontDoorId = ''): ResourceIds {
  return {
    id: (type, names) => {
      const [namespace, ...types] = type.split('/');
      return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroupName}/providers/${namespace}/${types.map((t, index) => `${t}/${names[index]}`).join('/')}`;
    },
    frontDoorId: () => frontDoorId,
  };
}

function ruleCondition(condition: RuleCondition): Record<string, unknown> {
  switch (condition.type) {
    case 'UrlPath':
      return { name: 'UrlPath', parameters: { typeName: 'DeliveryRuleUrlPathMatchConditionParameters', operator: condition.operator, negateCondition: condition.negate, matchValues: condition.values, transforms: condition.transforms } };
    case 'UrlFileExtension':
      return { name: 'UrlFileExtension', parameters: { typeName: 'DeliveryRuleUrlFileExtensionMatchConditionParameters', operator: condition.operator, negateCondition: condition.negate, matchValues: condition.values, transforms: condition.transforms } };
    case 'RequestMethod':
      return { name: 'RequestMethod', parameters: { typeName: 'DeliveryRuleRequestMethodConditionParameters', operator: 'Equal', negateCondition: condition.negate, matchValues: condition.values } };
    case 'RequestHeader':
      return { name: 'RequestHeader', parameters: { typeName: 'DeliveryRuleRequestHeaderConditionParameters', operator: condition.operator, selector: condition.header, negateCondition: condition.negate, matchValues: condition.values, transforms: condition.transforms } };
  }
}

function ruleAction(action: RuleAction): Record<string, unknown> {
  if (action.type === 'UrlRewrite') {
    return { name: 'UrlRewrite', parameters: { typeName: 'DeliveryRuleUrlRewriteActionParameters', sourcePattern: action.sourcePattern, destination: action.destination, preserveUnmatchedPath: action.preserveUnmatchedPath } };
  }
  return {
    name: action.type,
    parameters: { typeName: 'DeliveryRuleHeaderActionParameters', headerAction: action.headerAction, headerName: action.header, ...(action.value !== undefined ? { value: action.value } : {}) },
  };
}

function wafCondition(condition: WafMatchCondition): Record<string, unknown> {
  return {
    matchVariable: condition.matchVariable,
    ...(condition.selector !== undefined ? { selector: condition.selector } : {}),
    operator: condition.operator,
    negateCondition: condition.negate,
    matchValue: condition.values,
    transforms: condition.transforms,
  };
}

function wafRule(rule: WafCustomRule): Record<string, unknown> {
  return {
    name: rule.name,
    priority: rule.priority,
    enabledState: rule.enabled ? 'Enabled' : 'Disabled',
    ruleType: rule.ruleType,
    ...(rule.ruleType === 'RateLimitRule' ? { rateLimitDurationInMinutes: rule.rateLimitDurationInMinutes, rateLimitThreshold: rule.rateLimitThreshold, groupBy: [{ variableName: rule.groupBy }] } : {}),
    matchConditions: rule.matchConditions.map(wafCondition),
    action: rule.action,
  };
}

function originProperties(group: OriginGroupDeclaration): { names: string; properties: Record<string, unknown> }[] {
  return group.origins.map((origin) => {
    const url = new URL(origin.url);
    return {
      names: origin.name,
      properties: {
        hostName: url.hostname,
        httpPort: url.protocol === 'http:' && url.port ? Number(url.port) : 80,
        httpsPort: url.protocol === 'https:' && url.port ? Number(url.port) : 443,
        originHostHeader: origin.hostHeader ?? url.hostname,
        priority: origin.priority,
        weight: origin.weight,
        enabledState: origin.enabled ? 'Enabled' : 'Disabled',
        enforceCertificateNameCheck: true,
      },
    };
  });
}

function routeProperties(declaration: EdgeDeclaration, route: RouteDeclaration, ids: ResourceIds): Record<string, unknown> {
  const profile = declaration.profile.name;
  return {
    customDomains: declaration.customDomains.map((domain) => ({ id: ids.id('Microsoft.Cdn/profiles/customDomains', [profile, domain.name]) })),
    originGroup: { id: ids.id('Microsoft.Cdn/profiles/originGroups', [profile, route.originGroup]) },
    ...(route.originPath !== undefined ? { originPath: route.originPath } : {}),
    ruleSets: route.ruleSets.map((name) => ({ id: ids.id('Microsoft.Cdn/profiles/ruleSets', [profile, name]) })),
    supportedProtocols: route.supportedProtocols,
    patternsToMatch: route.patterns,
    // Front Door disables caching for a route whose cacheConfiguration is absent.
    ...(route.cache
      ? {
          cacheConfiguration: {
            queryStringCachingBehavior: route.cache.queryStringCachingBehavior,
            compressionSettings: { isCompressionEnabled: route.cache.compressContentTypes.length > 0, contentTypesToCompress: route.cache.compressContentTypes },
          },
        }
      : {}),
    forwardingProtocol: route.forwardingProtocol,
    linkToDefaultDomain: 'Enabled',
    httpsRedirect: route.httpsRedirect ? 'Enabled' : 'Disabled',
    enabledState: 'Enabled',
  };
}

/** Every resource of the declaration, parents before children. */
export function edgeResources(declaration: EdgeDeclaration, ids: ResourceIds): EdgeResource[] {
  const profile = declaration.profile.name;
  const endpoint = declaration.endpoint.name;
  const profileRef = { type: 'Microsoft.Cdn/profiles' as const, names: [profile] };
  const resources: EdgeResource[] = [];
  const add = (resource: Omit<EdgeResource, 'apiVersion'> & { apiVersion?: string }) => resources.push({ apiVersion: CDN_API_VERSION, ...resource });

  add({ type: 'Microsoft.Cdn/profiles', names: [profile], location: 'Global', sku: { name: declaration.profile.sku }, properties: { originResponseTimeoutSeconds: declaration.profile.originResponseTimeoutSeconds }, dependsOn: [] });
  add({ type: 'Microsoft.Cdn/profiles/afdEndpoints', names: [profile, endpoint], location: 'Global', properties: { enabledState: declaration.endpoint.enabled ? 'Enabled' : 'Disabled' }, dependsOn: [profileRef] });
  for (const domain of declaration.customDomains) {
    add({ type: 'Microsoft.Cdn/profiles/customDomains', names: [profile, domain.name], properties: { hostName: domain.hostName, tlsSettings: { certificateType: 'ManagedCertificate', minimumTlsVersion: 'TLS12' } }, dependsOn: [profileRef] });
  }
  for (const group of declaration.originGroups) {
    const probe = group.healthProbe;
    add({
      type: 'Microsoft.Cdn/profiles/originGroups',
      names: [profile, group.name],
      properties: {
        loadBalancingSettings: { ...group.loadBalancing },
        ...(probe ? { healthProbeSettings: { probePath: probe.path, probeRequestType: probe.method, probeProtocol: probe.protocol, probeIntervalInSeconds: probe.intervalInSeconds } } : {}),
        sessionAffinityState: 'Disabled',
      },
      dependsOn: [profileRef],
    });
    for (const origin of originProperties(group)) {
      add({ type: 'Microsoft.Cdn/profiles/originGroups/origins', names: [profile, group.name, origin.names], properties: origin.properties, dependsOn: [{ type: 'Microsoft.Cdn/profiles/originGroups', names: [profile, group.name] }] });
    }
  }
  for (const ruleSet of declaration.ruleSets) {
    add({ type: 'Microsoft.Cdn/profiles/ruleSets', names: [profile, ruleSet.name], dependsOn: [profileRef] });
    for (const rule of ruleSet.rules) {
      add({
        type: 'Microsoft.Cdn/profiles/ruleSets/rules',
        names: [profile, ruleSet.name, rule.name],
        properties: { order: rule.order, conditions: rule.conditions.map(ruleCondition), actions: rule.actions.map(ruleAction), matchProcessingBehavior: rule.stopEvaluatingRemainingRules ? 'Stop' : 'Continue' },
        dependsOn: [{ type: 'Microsoft.Cdn/profiles/ruleSets', names: [profile, ruleSet.name] }],
      });
    }
  }
  for (const route of declaration.routes) {
    const group = declaration.originGroups.find((g) => g.name === route.originGroup);
    add({
      type: 'Microsoft.Cdn/profiles/afdEndpoints/routes',
      names: [profile, endpoint, route.name],
      properties: routeProperties(declaration, route, ids),
      // A route needs its group's origins, its rule sets' rules and the domains to exist.
      dependsOn: [
        { type: 'Microsoft.Cdn/profiles/afdEndpoints', names: [profile, endpoint] },
        ...(group?.origins ?? []).map((origin) => ({ type: 'Microsoft.Cdn/profiles/originGroups/origins' as const, names: [profile, route.originGroup, origin.name] })),
        ...route.ruleSets.flatMap((name) => (declaration.ruleSets.find((set) => set.name === name)?.rules ?? []).map((rule) => ({ type: 'Microsoft.Cdn/profiles/ruleSets/rules' as const, names: [profile, name, rule.name] }))),
        ...declaration.customDomains.map((domain) => ({ type: 'Microsoft.Cdn/profiles/customDomains' as const, names: [profile, domain.name] })),
      ],
    });
  }
  const waf = declaration.waf;
  add({
    type: 'Microsoft.Network/FrontDoorWebApplicationFirewallPolicies',
    names: [waf.name],
    apiVersion: WAF_API_VERSION,
    location: 'Global',
    sku: { name: declaration.profile.sku },
    properties: {
      policySettings: {
        enabledState: 'Enabled',
        mode: waf.mode,
        requestBodyCheck: waf.requestBodyCheck ? 'Enabled' : 'Disabled',
        customBlockResponseStatusCode: waf.blockResponse.statusCode,
        customBlockResponseBody: Buffer.from(JSON.stringify(waf.blockResponse.body)).toString('base64'),
        ...(waf.scrubClientIpFromLogs ? { logScrubbing: { state: 'Enabled', scrubbingRules: [{ matchVariable: 'RequestIPAddress', selectorMatchOperator: 'EqualsAny', state: 'Enabled' }] } } : {}),
      },
      customRules: { rules: waf.customRules.map(wafRule) },
      managedRules: {
        managedRuleSets: waf.managedRuleSets.map((set) => ({
          ruleSetType: set.ruleSetType,
          ruleSetVersion: set.ruleSetVersion,
          ruleSetAction: set.ruleSetAction,
          ...(set.exclusions?.length ? { exclusions: set.exclusions.map((e) => ({ matchVariable: e.matchVariable, selectorMatchOperator: e.selectorMatchOperator, selector: e.selector })) } : {}),
        })),
      },
    },
    dependsOn: [],
  });
  add({
    type: 'Microsoft.Cdn/profiles/securityPolicies',
    names: [profile, `${waf.name}Policy`],
    properties: {
      parameters: {
        type: 'WebApplicationFirewall',
        wafPolicy: { id: ids.id('Microsoft.Network/FrontDoorWebApplicationFirewallPolicies', [waf.name]) },
        associations: [
          {
            domains: [{ id: ids.id('Microsoft.Cdn/profiles/afdEndpoints', [profile, endpoint]) }, ...declaration.customDomains.map((domain) => ({ id: ids.id('Microsoft.Cdn/profiles/customDomains', [profile, domain.name]) }))],
            patternsToMatch: ['/*'],
          },
        ],
      },
    },
    dependsOn: [
      { type: 'Microsoft.Cdn/profiles/afdEndpoints', names: [profile, endpoint] },
      { type: 'Microsoft.Network/FrontDoorWebApplicationFirewallPolicies', names: [waf.name] },
      ...declaration.customDomains.map((domain) => ({ type: 'Microsoft.Cdn/profiles/customDomains' as const, names: [profile, domain.name] })),
    ],
  });
  // App Service access restrictions (https://learn.microsoft.com/azure/app-service/app-service-ip-restrictions):
  // rules match the request's source first (the service tag) and then its headers; a slot has its
  // own list; the scm site (Kudu) is closed, as releases run from a package URL and need none of it.
  const restriction = {
    ipSecurityRestrictionsDefaultAction: 'Deny',
    ipSecurityRestrictions: [
      {
        name: 'AllowKeyfrontFrontDoor',
        description: 'Only this Front Door profile (service tag plus its X-Azure-FDID) reaches the API',
        priority: 100,
        action: 'Allow',
        tag: 'ServiceTag',
        ipAddress: 'AzureFrontDoor.Backend',
        headers: { 'x-azure-fdid': [ids.frontDoorId(profile)] },
      },
    ],
    scmIpSecurityRestrictionsUseMain: false,
    scmIpSecurityRestrictionsDefaultAction: 'Deny',
    scmIpSecurityRestrictions: [],
  };
  for (const access of declaration.originAccess) {
    add({ type: 'Microsoft.Web/sites/config', names: [access.siteName, 'web'], apiVersion: WEB_API_VERSION, properties: restriction, dependsOn: [profileRef] });
    for (const slot of access.slots) {
      add({ type: 'Microsoft.Web/sites/slots/config', names: [access.siteName, slot, 'web'], apiVersion: WEB_API_VERSION, properties: restriction, dependsOn: [profileRef] });
    }
  }
  return resources;
}
