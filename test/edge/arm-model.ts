/**
 * The compiled ARM template read back as a model of what Front Door will do: its WAF custom rules,
 * routes and rule-set rules turned back into declaration types from the JSON alone, so the same
 * matchers the local edge uses (WAF engine, route matching, rules engine) can predict Azure's
 * answer to a request. Whatever the compiler drops or mangles changes the prediction.
 */
import type { ArmTemplate } from '../../edge-config/arm/template';
import type { RouteDeclaration, RuleAction, RuleCondition, RuleSetDeclaration, WafCustomRule, WafMatchCondition, WafPolicyDeclaration } from '../../edge-config/declaration';
import { matchedPrefix, matchRoute } from '../../edge-config/local-edge/routes';
import { evaluateRuleSets, rewritePath, type HeaderEdit } from '../../edge-config/local-edge/rules';
import { WafEngine } from '../../edge-config/local-edge/waf';

type Json = Record<string, unknown>;

export interface ArmPrediction {
  /** Refused at the edge: by a WAF rule, or because no route serves the path. */
  refusedBy?: string;
  /** The origin request's path and query (after the route's origin path and any URL rewrite). */
  originTarget?: string;
  /** Request header edits the route's rules apply on the way to the origin. */
  requestHeaderEdits?: HeaderEdit[];
}

const lastName = (resource: { name: string }) => resource.name.split('/').at(-1) as string;
/** `[resourceId('Microsoft.Cdn/profiles/ruleSets', 'profile', 'Name')]` → `Name`. */
const referencedName = (ref: { id: string }) => /'([^']+)'\)\]$/.exec(ref.id)?.[1] as string;

function wafCondition(json: Json): WafMatchCondition {
  return { matchVariable: json.matchVariable, selector: json.selector, operator: json.operator, negate: json.negateCondition, values: json.matchValue, transforms: json.transforms } as WafMatchCondition;
}

function wafRule(json: Json): WafCustomRule {
  const base = { name: json.name as string, priority: json.priority as number, enabled: json.enabledState === 'Enabled', matchConditions: (json.matchConditions as Json[]).map(wafCondition), action: json.action as WafCustomRule['action'] };
  if (json.ruleType === 'RateLimitRule') {
    return { ...base, ruleType: 'RateLimitRule', rateLimitThreshold: json.rateLimitThreshold as number, rateLimitDurationInMinutes: json.rateLimitDurationInMinutes as 1 | 5, groupBy: (json.groupBy as { variableName: 'SocketAddr' | 'None' }[])[0].variableName };
  }
  return { ...base, ruleType: 'MatchRule' };
}

function ruleCondition(json: Json): RuleCondition {
  const p = json.parameters as Json;
  const common = { negate: p.negateCondition as boolean, values: p.matchValues as string[] };
  switch (json.name) {
    case 'RequestMethod':
      return { type: 'RequestMethod', ...common } as RuleCondition;
    case 'RequestHeader':
      return { type: 'RequestHeader', header: p.selector, operator: p.operator, transforms: p.transforms, ...common } as RuleCondition;
    default:
      return { type: json.name, operator: p.operator, transforms: p.transforms, ...common } as RuleCondition;
  }
}

function ruleAction(json: Json): RuleAction {
  const p = json.parameters as Json;
  if (json.name === 'UrlRewrite') return { type: 'UrlRewrite', sourcePattern: p.sourcePattern as string, destination: p.destination as string, preserveUnmatchedPath: p.preserveUnmatchedPath as boolean };
  return { type: json.name, headerAction: p.headerAction, header: p.headerName, value: p.value } as RuleAction;
}

export class ArmModel {
  private readonly waf: WafEngine;
  private readonly routes: (Pick<RouteDeclaration, 'name' | 'patterns' | 'originPath' | 'ruleSets'> & { ignoresQuery: boolean })[];
  private readonly ruleSets = new Map<string, RuleSetDeclaration>();

  constructor(template: ArmTemplate) {
    const resources = (JSON.parse(JSON.stringify(template)) as { resources: { type: string; name: string; properties?: Json }[] }).resources;
    const policy = resources.find((r) => r.type === 'Microsoft.Network/FrontDoorWebApplicationFirewallPolicies')?.properties as Json;
    const settings = policy.policySettings as Json;
    this.waf = new WafEngine({ mode: settings.mode, customRules: ((policy.customRules as Json).rules as Json[]).map(wafRule) } as WafPolicyDeclaration);
    this.routes = resources
      .filter((r) => r.type === 'Microsoft.Cdn/profiles/afdEndpoints/routes')
      .map((r) => {
        const p = r.properties as Json;
        return {
          name: lastName(r),
          patterns: p.patternsToMatch as string[],
          originPath: p.originPath as string | undefined,
          ruleSets: (p.ruleSets as { id: string }[]).map(referencedName),
          ignoresQuery: (p.cacheConfiguration as Json | undefined)?.queryStringCachingBehavior === 'IgnoreQueryString',
        };
      });
    for (const r of resources.filter((resource) => resource.type === 'Microsoft.Cdn/profiles/ruleSets/rules')) {
      const [, setName, ruleName] = r.name.split('/');
      const p = r.properties as Json;
      const set = this.ruleSets.get(setName) ?? { name: setName, rules: [] };
      set.rules.push({ name: ruleName, order: p.order as number, conditions: (p.conditions as Json[]).map(ruleCondition), actions: (p.actions as Json[]).map(ruleAction), stopEvaluatingRemainingRules: p.matchProcessingBehavior === 'Stop' });
      this.ruleSets.set(setName, set);
    }
  }

  /** What Front Door would do with the request, as far as the template says. */
  predict(request: { method: string; target: string; host: string; headers: Record<string, string> }): ArmPrediction {
    const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]));
    const verdict = this.waf.evaluate({ method: request.method, url: `https://${request.host}${request.target}`, headers, socketAddress: '127.0.0.1' });
    if (verdict.action === 'block') return { refusedBy: verdict.rule };
    const url = new URL(request.target, 'https://edge.invalid');
    const route = matchRoute(this.routes, url.pathname);
    if (!route) return { refusedBy: 'no route' };
    const outcome = evaluateRuleSets(
      route.ruleSets.map((name) => this.ruleSets.get(name) ?? { name, rules: [] }),
      { method: request.method, path: url.pathname, headers },
    );
    // Front Door sends the query on even when the cache key ignores it: the template has to keep it from the origin.
    const path = rewritePath(url.pathname, matchedPrefix(route, url.pathname), outcome.rewrite);
    return { originTarget: `${route.originPath ?? ''}${path}${url.search}`, requestHeaderEdits: outcome.requestHeaders };
  }
}
