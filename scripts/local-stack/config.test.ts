import * as path from 'node:path';
import { ConfigError, loadLocalStackConfig, stackFileOf } from './config';

describe('loadLocalStackConfig', () => {
  it('defaults to .data/ under the working directory, region 440 and the agreed ports', () => {
    expect(loadLocalStackConfig({}, '/repo')).toEqual({ dataDir: '/repo/.data', region: '440', ports: { api: 7071, cosmos: 8081, blob: 10000, edge: 8080, edgeAdmin: 8089 } });
    expect(stackFileOf('/repo/.data')).toBe(path.join('/repo/.data', 'stack.json'));
  });

  it('reads every setting from its variable', () => {
    const config = loadLocalStackConfig({ KEYFRONT_DATA_DIR: '/tmp/kf', KEYFRONT_REGION: 'DE', KEYFRONT_API_PORT: '17071', KEYFRONT_COSMOS_PORT: '18081', KEYFRONT_BLOB_PORT: '20000', KEYFRONT_EDGE_PORT: '18080', KEYFRONT_EDGE_ADMIN_PORT: '18089' }, '/repo');
    expect(config).toEqual({ dataDir: '/tmp/kf', region: 'DE', ports: { api: 17071, cosmos: 18081, blob: 20000, edge: 18080, edgeAdmin: 18089 } });
  });

  it.each([
    [{ KEYFRONT_API_PORT: 'http' }, /KEYFRONT_API_PORT must be a port number/],
    [{ KEYFRONT_COSMOS_PORT: '70000' }, /KEYFRONT_COSMOS_PORT must be a port number/],
    [{ KEYFRONT_REGION: 'a/b' }, /KEYFRONT_REGION must be a region code matching/],
    [{ KEYFRONT_API_PORT: '8081' }, /ports of api and cosmos are both 8081/],
  ])('refuses %p naming the variable', (env, message) => {
    expect(() => loadLocalStackConfig(env, '/repo')).toThrow(ConfigError);
    expect(() => loadLocalStackConfig(env, '/repo')).toThrow(message);
  });
});
