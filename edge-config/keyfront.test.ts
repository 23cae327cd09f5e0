import { pathOf, ROUTES } from '../api/routes';
import { PUBLISH_REQUEST_FIELDS } from '../api/upload/upload';
import { API_HEALTH_PATH, API_METHODS, keyfrontEdge, UPLOAD_RANDOM_FIELDS } from './keyfront';
import { localEdgeEnvironment } from './config';

/** The edge must stay in step with the API's one route table. */
describe('keyfront\'s edge declaration and the write API', () => {
  const declaration = keyfrontEdge(localEdgeEnvironment({ api: 'http://127.0.0.1:7071', blobPrimary: 'http://127.0.0.1:10000/devstoreaccount1' }));

  it('lets through exactly the methods the API routes serve', () => {
    expect([...new Set(ROUTES.flatMap((route) => route.methods))].sort()).toEqual([...API_METHODS].sort());
  });

  it('probes the API\'s health route and rate-limits the routes phones write to', () => {
    const paths = ROUTES.map(pathOf);
    expect(paths).toContain(API_HEALTH_PATH);
    const limited = declaration.waf.customRules.filter((rule) => rule.ruleType === 'RateLimitRule').map((rule) => rule.matchConditions[0].values[0]);
    // Probe routes (health, the swap warm-up) are reads that store nothing.
    for (const path of ROUTES.filter((route) => !route.probe).map(pathOf)) {
      expect(limited.some((pattern) => new RegExp(pattern).test(`https://edge.example${path}`))).toBe(true);
    }
  });

  it('keeps the managed WAF rules off the upload fields of random text only, and on every other field', () => {
    for (const field of UPLOAD_RANDOM_FIELDS) expect(PUBLISH_REQUEST_FIELDS).toContain(field);
    const inspected = [...PUBLISH_REQUEST_FIELDS].filter((field) => !(UPLOAD_RANDOM_FIELDS as readonly string[]).includes(field));
    expect(inspected.sort()).toEqual(['healthAuthorityID', 'platform', 'symptomOnsetInterval', 'traveler']);
  });
});
