/**
 * The rules engine of the local edge: evaluates a route's rule sets against a request, as Front Door
 * does (rule sets in the route's order, rules by `order`, every condition must match, a matching
 * rule may stop the rest of its set), and applies the header actions and URL rewrite that result.
 */
import type { HeaderAction, RuleAction, RuleCondition, RuleSetDeclaration, RuleTransform, UrlRewriteAction } from '../declaration';
import { applyTransforms } from './transforms';

export interface RuleRequest {
  method: string;
  /** The URL path with its leading slash, without the query. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface HeaderEdit {
  headerAction: HeaderAction;
  header: string;
  value?: string;
}

export interface RuleOutcome {
  requestHeaders: HeaderEdit[];
  responseHeaders: HeaderEdit[];
  /** The last matching URL rewrite, if any. */
  rewrite?: UrlRewriteAction;
}

function compare(operator: 'Any' | 'Equal' | 'BeginsWith' | 'EndsWith' | 'Contains', value: string, candidates: readonly string[], transforms: readonly RuleTransform[]): boolean {
  if (operator === 'Any') return true;
  const subject = applyTransforms(value, transforms);
  return candidates.some((raw) => {
    const candidate = applyTransforms(raw, transforms);
    if (operator === 'Equal') return subject === candidate;
    if (operator === 'BeginsWith') return subject.startsWith(candidate);
    if (operator === 'EndsWith') return subject.endsWith(candidate);
    return subject.includes(candidate);
  });
}

function headerValue(headers: RuleRequest['headers'], name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

export function conditionMatches(condition: RuleCondition, request: RuleRequest): boolean {
  let matched: boolean;
  switch (condition.type) {
    case 'UrlPath':
      // Front Door's URL path is what follows "host/": no leading slash.
      matched = compare(condition.operator, request.path.replace(/^\//, ''), condition.values, condition.transforms);
      break;
    case 'UrlFileExtension': {
      const last = request.path.slice(request.path.lastIndexOf('/') + 1);
      const dot = last.lastIndexOf('.');
      matched = dot > 0 && compare(condition.operator === 'Any' ? 'Any' : 'Equal', last.slice(dot + 1), condition.values, condition.transforms);
      break;
    }
    case 'RequestMethod':
      matched = (condition.values as string[]).includes(request.method.toUpperCase());
      break;
    case 'RequestHeader': {
      const value = headerValue(request.headers, condition.header);
      matched = value !== undefined && compare(condition.operator, value, condition.values, condition.transforms);
      break;
    }
  }
  return condition.negate ? !matched : matched;
}

/** Collects the header actions of every matching rule of the given rule sets, in order. */
export function evaluateRuleSets(ruleSets: readonly RuleSetDeclaration[], request: RuleRequest): RuleOutcome {
  const outcome: RuleOutcome = { requestHeaders: [], responseHeaders: [] };
  for (const ruleSet of ruleSets) {
    const rules = [...ruleSet.rules].sort((a, b) => a.order - b.order);
    for (const rule of rules) {
      if (!rule.conditions.every((condition) => conditionMatches(condition, request))) continue;
      for (const action of rule.actions) collect(outcome, action);
      if (rule.stopEvaluatingRemainingRules) break;
    }
  }
  return outcome;
}

function collect(outcome: RuleOutcome, action: RuleAction): void {
  if (action.type === 'UrlRewrite') {
    outcome.rewrite = action;
    return;
  }
  const edit = { headerAction: action.headerAction, header: action.header.toLowerCase(), value: action.value };
  if (action.type === 'ModifyRequestHeader') outcome.requestHeaders.push(edit);
  else outcome.responseHeaders.push(edit);
}

/** Applies header edits to a lower-cased header record, in place. */
export function applyHeaderEdits(headers: Record<string, string | string[] | undefined>, edits: readonly HeaderEdit[]): void {
  for (const edit of edits) {
    if (edit.headerAction === 'Delete') {
      delete headers[edit.header];
    } else if (edit.headerAction === 'Overwrite') {
      headers[edit.header] = edit.value ?? '';
    } else {
      const current = headers[edit.header];
      headers[edit.header] = current === undefined ? (edit.value ?? '') : [...(Array.isArray(current) ? current : [current]), edit.value ?? ''];
    }
  }
}

/**
 * The path sent to the origin after a URL rewrite, as Front Door applies it: `sourcePattern` is a
 * prefix of the path after the route's matched pattern (`routePrefix`, "" for an exact pattern),
 * replaced by `destination`; the rest follows only with `preserveUnmatchedPath`. Unchanged when
 * the source pattern does not match.
 */
export function rewritePath(path: string, routePrefix: string, rewrite: UrlRewriteAction | undefined): string {
  if (!rewrite) return path;
  const rest = path.slice(routePrefix.length) || '/';
  if (!rest.startsWith(rewrite.sourcePattern)) return path;
  return `${routePrefix}${rewrite.destination}${rewrite.preserveUnmatchedPath ? rest.slice(rewrite.sourcePattern.length) : ''}`;
}
