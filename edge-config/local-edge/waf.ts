/**
 * The WAF of the local edge: the declaration's custom rules evaluated as Front Door's WAF does
 * (by priority; Allow and Block end the evaluation, Log goes on; Detection mode only logs) with
 * rate-limit rules counted per client socket address in a window that opens with the client's
 * first counted request. Managed rule sets are Azure's own and are not emulated here.
 */
import { BlockList, isIP } from 'node:net';
import type { WafCustomRule, WafMatchCondition, WafPolicyDeclaration } from '../declaration';
import { applyTransforms } from './transforms';

export interface WafRequest {
  method: string;
  /** The whole URL as Front Door's `RequestUri` sees it: scheme, host, port, path and query. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** The TCP peer's address. */
  socketAddress: string;
}

export type WafVerdict = { action: 'allow'; logged: string[] } | { action: 'block'; rule: string; logged: string[] };

interface Window {
  startedAt: number;
  count: number;
}

function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** A compiled condition: a predicate over the request. */
type Predicate = (request: WafRequest) => boolean;

function compileCondition(condition: WafMatchCondition): Predicate {
  const variable = (request: WafRequest): string | undefined => {
    switch (condition.matchVariable) {
      case 'RequestUri':
        return request.url;
      case 'RequestMethod':
        return request.method.toUpperCase();
      case 'QueryString': {
        const at = request.url.indexOf('?');
        return at === -1 ? '' : request.url.slice(at + 1);
      }
      case 'RequestHeader': {
        const value = request.headers[(condition.selector ?? '').toLowerCase()];
        return Array.isArray(value) ? value.join(', ') : value;
      }
      case 'SocketAddr':
        return normalizeAddress(request.socketAddress);
      case 'RemoteAddr': {
        // The original client as Front Door sees it: the first X-Forwarded-For entry, else the socket.
        const forwarded = request.headers['x-forwarded-for'];
        const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
        return normalizeAddress(first && isIP(first) ? first : request.socketAddress);
      }
    }
  };
  let test: (value: string) => boolean;
  if (condition.operator === 'Any') {
    test = () => true;
  } else if (condition.operator === 'IPMatch') {
    const list = new BlockList();
    for (const value of condition.values) {
      const [address, bits] = value.split('/');
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) list.addAddress(address, family);
      else list.addSubnet(address, Number(bits), family);
    }
    test = (value) => isIP(value) !== 0 && list.check(value, isIP(value) === 6 ? 'ipv6' : 'ipv4');
  } else if (condition.operator === 'RegEx') {
    const patterns = condition.values.map((value) => new RegExp(value));
    test = (value) => patterns.some((pattern) => pattern.test(applyTransforms(value, condition.transforms)));
  } else {
    const values = condition.values.map((value) => applyTransforms(value, condition.transforms));
    const op = condition.operator;
    test = (raw) => {
      const value = applyTransforms(raw, condition.transforms);
      return values.some((candidate) => (op === 'Equal' ? value === candidate : op === 'Contains' ? value.includes(candidate) : op === 'BeginsWith' ? value.startsWith(candidate) : value.endsWith(candidate)));
    };
  }
  return (request) => {
    const value = variable(request);
    const matched = value !== undefined && test(value);
    return condition.negate ? !matched : matched;
  };
}

export class WafEngine {
  private readonly rules: { rule: WafCustomRule; matches: Predicate }[];
  private readonly windows = new Map<string, Window>();
  private readonly now: () => number;

  constructor(
    private readonly policy: WafPolicyDeclaration,
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? Date.now;
    this.rules = policy.customRules
      .filter((rule) => rule.enabled)
      .sort((a, b) => a.priority - b.priority)
      .map((rule) => {
        const predicates = rule.matchConditions.map(compileCondition);
        return { rule, matches: (request: WafRequest) => predicates.every((predicate) => predicate(request)) };
      });
  }

  evaluate(request: WafRequest): WafVerdict {
    const logged: string[] = [];
    for (const { rule, matches } of this.rules) {
      if (!matches(request)) continue;
      if (rule.ruleType === 'RateLimitRule' && !this.overLimit(rule, request)) continue;
      if (rule.action === 'Log' || (rule.action === 'Block' && this.policy.mode === 'Detection')) {
        logged.push(rule.name);
        continue;
      }
      if (rule.action === 'Allow') return { action: 'allow', logged };
      return { action: 'block', rule: rule.name, logged };
    }
    return { action: 'allow', logged };
  }

  /** Counts the request; true once the client is past the threshold in its current window. */
  private overLimit(rule: Extract<WafCustomRule, { ruleType: 'RateLimitRule' }>, request: WafRequest): boolean {
    const now = this.now();
    const client = rule.groupBy === 'SocketAddr' ? normalizeAddress(request.socketAddress) : '*';
    const key = `${rule.name}\u0000${client}`;
    const durationInMs = rule.rateLimitDurationInMinutes * 60_000;
    let window = this.windows.get(key);
    if (!window || now - window.startedAt >= durationInMs) {
      window = { startedAt: now, count: 0 };
      this.windows.set(key, window);
      if (this.windows.size > 100_000) this.prune(now);
    }
    window.count += 1;
    return window.count > rule.rateLimitThreshold;
  }

  private prune(now: number): void {
    for (const [key, window] of this.windows) if (now - window.startedAt >= 5 * 60_000) this.windows.delete(key);
  }
}
