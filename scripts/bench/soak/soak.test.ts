// The soak's own arithmetic, without running a soak (that is `npm run bench:soak`, a benchmark):
// which route a request is, what counts as an error, quantiles, the RSS figures, and a plot that is
// a well-formed SVG document.
import { rssFigures } from './memory';
import { linearTicks, svgDocument } from './plot';
import { quantile, RouteRecorder, routeOf } from './routes';

describe('routes', () => {
  it.each([
    ['POST', 'http://e/api/v1/register', {}, 'POST /api/v1/register'],
    ['POST', 'http://e/api/v1/publish', {}, 'POST /api/v1/publish'],
    ['POST', 'http://e/api/v1/publish', { 'x-chaff': '1' }, 'POST /api/v1/publish (chaff)'],
    ['GET', 'http://e/v1/440/index.txt', {}, 'GET /v1/{region}/index.txt'],
    ['GET', 'http://e/v1/440/1796515200-1796518800-00001.zip', {}, 'GET /v1/{region}/*.zip'],
    ['GET', 'http://e/site/index.html', {}, 'other'],
  ])('%s %s %j is %s', (method, url, headers, route) => expect(routeOf(url, { method, headers })).toBe(route));

  it('counts as errors what is neither a success nor a 304 to an index read, and requests without an answer', async () => {
    let now = 0;
    const recorder = new RouteRecorder(0, () => now);
    const answering = (status: number) => recorder.wrap(async () => ((now += 10), new Response(null, { status })));
    await answering(304)('http://e/v1/440/index.txt');
    await answering(200)('http://e/v1/440/a.zip');
    await answering(304)('http://e/v1/440/a.zip');
    await answering(503)('http://e/api/v1/publish', { method: 'POST' });
    await expect(recorder.wrap(() => ((now += 30), Promise.reject(new Error('ECONNRESET'))))('http://e/v1/440/index.txt')).rejects.toThrow('ECONNRESET');
    expect(recorder.errorCount).toBe(3);
    expect(recorder.errorsByKind).toEqual({ 'GET /v1/{region}/*.zip 304': 1, 'POST /api/v1/publish 503': 1, 'GET /v1/{region}/index.txt 0': 1 });
    expect(recorder.figures()['GET /v1/{region}/index.txt']).toMatchObject({ requests: 2, errors: 1, p50Ms: 10, maxMs: 30 });
  });

  it('quantile is the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([quantile(values, 0.5), quantile(values, 0.99), quantile(values, 1), quantile([], 0.5)]).toEqual([50, 99, 100, null]);
  });
});

describe('RSS figures', () => {
  const MIB = 1024 * 1024;
  it('compares medians of the window after the warm-up and of the window ending the load, so one collection moves nothing', () => {
    const samples = Array.from({ length: 61 }, (_, i) => ({ at: i * 10, bytes: (i === 30 ? 300 : 100 + (i >= 30 ? 10 : 0)) * MIB }));
    expect(rssFigures(samples, 100, 600, 60)).toEqual({ startMiB: 100, afterWarmUpMiB: 100, endMiB: 110, peakMiB: 300, growthAfterWarmUpPercent: 10 });
  });
});

describe('plot', () => {
  it('draws every series and marker into one SVG document', () => {
    const svg = svgDocument('a <soak>', [
      { title: 'RSS', xLabel: 'minutes', yLabel: 'MiB', series: [{ name: 'api', points: [[0, 100], [1, 110]] }], markers: [{ x: 0.5, label: 'end of warm-up' }] },
      { title: 'p99', xLabel: 'minutes', yLabel: 'ms', logY: true, series: [{ name: 'index', points: [[0, 5], [1, 500]] }] },
    ]);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>[\s\S]*<\/svg>\n$/);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg).toContain('a &lt;soak&gt;');
    expect(svg).toContain('end of warm-up');
  });

  it('puts round ticks over the range', () => {
    expect(linearTicks(10)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(linearTicks(173)).toEqual([0, 50, 100, 150]);
  });
});
