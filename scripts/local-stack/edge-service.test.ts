import { loadLocalStackConfig } from './config';
import { startEdgeService } from './edge-service';

describe('the edge service of the local stack', () => {
  it('refuses to start before the API and the blob storage it fronts', async () => {
    const config = loadLocalStackConfig({ KEYFRONT_EDGE_PORT: '1', KEYFRONT_EDGE_ADMIN_PORT: '2' });
    await expect(startEdgeService({ config, stack: { apiUrl: 'http://127.0.0.1:7071' } }, {})).rejects.toThrow('the edge service needs the api and publisher services started before it');
  });

  it('names a bad edge setting from the environment', async () => {
    const config = loadLocalStackConfig({});
    const stack = { apiUrl: 'http://127.0.0.1:7071', blobEndpoint: 'http://127.0.0.1:10000/devstoreaccount1', frontDoorId: '6f1c2a4e-0b7d-4c55-9a1e-2d3f4a5b6c7d' };
    await expect(startEdgeService({ config, stack }, { KEYFRONT_EDGE_CACHE_MAX_BYTES: 'lots' })).rejects.toThrow('KEYFRONT_EDGE_CACHE_MAX_BYTES must be an integer');
  });
});
