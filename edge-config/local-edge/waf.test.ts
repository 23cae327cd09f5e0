import type { WafCustomRule, WafPolicyDeclaration } from '../declaration';
import { WafEngine, type WafRequest } from './waf';

function policy(customRules: WafCustomRule[], mode: 'Prevention' | 'Detection' = 'Prevention'): WafPolicyDeclaration {
  return { name: 'Test', mode, requestBodyCheck: true, blockResponse: { statusCode: 429, body: { error: 'no', code: 'edge_refused' } }, customRules, managedRuleSets: [], scrubClientIpFromLogs: true };
}
const request = (overrides: Partial<WafRequest> = {}): WafRequest => ({ method: 'POST', url: 'https://edge.example/api/v1/publish', headers: {}, socketAddress: '127.0.0.1', ...overrides });
const rateLimit = (threshold: number): WafCustomRule => ({
  name: 'Publish',
  priority: 1,
  enabled: true,
  ruleType: 'RateLimitRule',
  rateLimitThreshold: threshold,
  rateLimitDurationInMinutes: 1,
  groupBy: 'SocketAddr',
  matchConditions: [{ matchVariable: 'RequestUri', operator: 'Contains', negate: false, values: ['/api/v1/publish'], transforms: ['Lowercase'] }],
  action: 'Block',
});

describe('WafEngine', () => {
  it('counts a rate limit per socket address in a window that opens with the first request', () => {
    let now = 1_000_000;
    const waf = new WafEngine(policy([rateLimit(10)]), { now: () => now });
    const verdicts = Array.from({ length: 11 }, () => waf.evaluate(request()).action);
    expect(verdicts.slice(0, 10).every((v) => v === 'allow')).toBe(true);
    expect(verdicts[10]).toBe('block');
    // Another client has its own count.
    expect(waf.evaluate(request({ socketAddress: '::ffff:10.0.0.2' })).action).toBe('allow');
    // Other paths do not count.
    expect(waf.evaluate(request({ url: 'https://edge.example/api/v1/register' })).action).toBe('allow');
    now += 60_000;
    expect(waf.evaluate(request()).action).toBe('allow');
  });

  it('only logs in Detection mode', () => {
    const waf = new WafEngine(policy([rateLimit(10)], 'Detection'));
    const verdicts = Array.from({ length: 12 }, () => waf.evaluate(request()));
    expect(verdicts.every((v) => v.action === 'allow')).toBe(true);
    expect(verdicts[11].logged).toEqual(['Publish']);
  });

  it('evaluates by priority: Allow ends the evaluation, Log goes on, disabled rules are skipped', () => {
    const allowOffice: WafCustomRule = { name: 'Office', priority: 1, enabled: true, ruleType: 'MatchRule', matchConditions: [{ matchVariable: 'SocketAddr', operator: 'IPMatch', negate: false, values: ['10.1.0.0/16'], transforms: [] }], action: 'Allow' };
    const logAll: WafCustomRule = { name: 'LogAll', priority: 2, enabled: true, ruleType: 'MatchRule', matchConditions: [{ matchVariable: 'RequestMethod', operator: 'Any', negate: false, values: [], transforms: [] }], action: 'Log' };
    const blockPost: WafCustomRule = { name: 'NoPost', priority: 3, enabled: true, ruleType: 'MatchRule', matchConditions: [{ matchVariable: 'RequestMethod', operator: 'Equal', negate: false, values: ['POST'], transforms: [] }], action: 'Block' };
    const disabled: WafCustomRule = { ...blockPost, name: 'Off', priority: 0, enabled: false, matchConditions: [{ matchVariable: 'RequestMethod', operator: 'Equal', negate: false, values: ['GET'], transforms: [] }] };
    const waf = new WafEngine(policy([blockPost, logAll, allowOffice, disabled]));
    expect(waf.evaluate(request({ socketAddress: '10.1.2.3' }))).toEqual({ action: 'allow', logged: [] });
    expect(waf.evaluate(request())).toEqual({ action: 'block', rule: 'NoPost', logged: ['LogAll'] });
    expect(waf.evaluate(request({ method: 'GET' }))).toEqual({ action: 'allow', logged: ['LogAll'] });
  });

  it('reads RemoteAddr from X-Forwarded-For and SocketAddr from the TCP peer', () => {
    const block = (variable: 'RemoteAddr' | 'SocketAddr'): WafCustomRule => ({ name: variable, priority: 1, enabled: true, ruleType: 'MatchRule', matchConditions: [{ matchVariable: variable, operator: 'IPMatch', negate: false, values: ['203.0.113.0/24'], transforms: [] }], action: 'Block' });
    const spoofed = request({ headers: { 'x-forwarded-for': '203.0.113.9, 10.0.0.1' } });
    expect(new WafEngine(policy([block('RemoteAddr')])).evaluate(spoofed).action).toBe('block');
    expect(new WafEngine(policy([block('SocketAddr')])).evaluate(spoofed).action).toBe('allow');
  });

  it('matches headers, query strings and regular expressions with transforms and negation', () => {
    const rule: WafCustomRule = {
      name: 'Mixed',
      priority: 1,
      enabled: true,
      ruleType: 'MatchRule',
      matchConditions: [
        { matchVariable: 'RequestHeader', selector: 'User-Agent', operator: 'BeginsWith', negate: false, values: ['curl/'], transforms: ['Lowercase'] },
        { matchVariable: 'QueryString', operator: 'Contains', negate: true, values: ['allowed=1'], transforms: [] },
        { matchVariable: 'RequestUri', operator: 'RegEx', negate: false, values: ['^https://[^/]+/api/'], transforms: ['Lowercase'] },
      ],
      action: 'Block',
    };
    const waf = new WafEngine(policy([rule]));
    expect(waf.evaluate(request({ headers: { 'user-agent': 'CURL/8.0' }, url: 'https://EDGE/API/x?y=2' })).action).toBe('block');
    expect(waf.evaluate(request({ headers: { 'user-agent': 'CURL/8.0' }, url: 'https://edge/api/x?allowed=1' })).action).toBe('allow');
    expect(waf.evaluate(request({ headers: { 'user-agent': 'phone' }, url: 'https://edge/api/x' })).action).toBe('allow');
  });

  it('applies transforms in their order, UrlDecode leaving a malformed escape as it is and decoding the rest', () => {
    const rule = (transforms: WafCustomRule['matchConditions'][number]['transforms']): WafCustomRule => ({
      name: 'Publish',
      priority: 1,
      enabled: true,
      ruleType: 'MatchRule',
      matchConditions: [{ matchVariable: 'RequestUri', operator: 'RegEx', negate: false, values: ['^https?://[^/]+/api/v1/publish(?:[/?]|$)'], transforms }],
      action: 'Block',
    });
    const decodeThenLower = new WafEngine(policy([rule(['UrlDecode', 'Lowercase'])]));
    for (const url of ['https://edge/api/v1/%70ublish', 'https://edge/api/v1/%50UBLISH', 'https://edge/api/v1/%70ublish?x=%zz&y=%E0%A4%A', 'https://edge/api%2Fv1%2Fpublish']) {
      expect([url, decodeThenLower.evaluate(request({ url })).action]).toEqual([url, 'block']);
    }
    expect(decodeThenLower.evaluate(request({ url: 'https://edge/api/v1/%2570ublish' })).action).toBe('allow');
    // Lowercase first leaves %50 as it is, and UrlDecode then gives an upper-case P: no match.
    expect(new WafEngine(policy([rule(['Lowercase', 'UrlDecode'])])).evaluate(request({ url: 'https://edge/api/v1/%50UBLISH' })).action).toBe('allow');
    expect(new WafEngine(policy([rule(['Lowercase'])])).evaluate(request({ url: 'https://edge/api/v1/%70ublish' })).action).toBe('allow');
  });
});
