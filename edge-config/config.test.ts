import { ConfigError, loadAzureEdgeConfig, loadLocalEdgeConfig, secondaryOf } from './config';

describe('edge settings', () => {
  it('derives the Azure origins from the site and account names', () => {
    const config = loadAzureEdgeConfig({ KEYFRONT_EDGE_API_SITES: 'kf-api-jpe, kf-api-jpw', KEYFRONT_EDGE_STORAGE_ACCOUNT: 'kfexports', KEYFRONT_EDGE_SUBSCRIPTION_ID: '00000000-0000-0000-0000-000000000001', KEYFRONT_EDGE_RESOURCE_GROUP: 'rg' });
    expect(config.environment.apiOrigins).toEqual([
      { url: 'https://kf-api-jpe.azurewebsites.net', hostHeader: 'kf-api-jpe.azurewebsites.net', siteName: 'kf-api-jpe', slots: ['staging'] },
      { url: 'https://kf-api-jpw.azurewebsites.net', hostHeader: 'kf-api-jpw.azurewebsites.net', siteName: 'kf-api-jpw', slots: ['staging'] },
    ]);
    expect(loadAzureEdgeConfig({ KEYFRONT_EDGE_API_SITES: 'kf-api-jpe', KEYFRONT_EDGE_API_SLOTS: 'staging,canary' }).environment.apiOrigins[0].slots).toEqual(['staging', 'canary']);
    expect(() => loadAzureEdgeConfig({ KEYFRONT_EDGE_API_SLOTS: 'staging,-bad' })).toThrow(/KEYFRONT_EDGE_API_SLOTS holds an invalid slot name "-bad"/);
    expect(config.environment.exportOrigins.secondary.url).toBe('https://kfexports-secondary.blob.core.windows.net');
    expect(config).toMatchObject({ subscriptionId: '00000000-0000-0000-0000-000000000001', resourceGroupName: 'rg' });
  });

  it.each([
    [{ KEYFRONT_EDGE_SKU: 'Classic' }, 'KEYFRONT_EDGE_SKU must be Standard_AzureFrontDoor or Premium_AzureFrontDoor'],
    [{ KEYFRONT_EDGE_STORAGE_ACCOUNT: 'Bad-Account' }, 'KEYFRONT_EDGE_STORAGE_ACCOUNT must be 3-24 lower-case letters and digits'],
    [{ KEYFRONT_EDGE_SUBSCRIPTION_ID: 'my-sub' }, 'KEYFRONT_EDGE_SUBSCRIPTION_ID must be a GUID'],
    [{ KEYFRONT_EDGE_API_SITES: ' , ' }, 'KEYFRONT_EDGE_API_SITES must name at least one Function App'],
  ])('names the variable: %j', (env, message) => {
    expect(() => loadAzureEdgeConfig(env)).toThrow(ConfigError);
    expect(() => loadAzureEdgeConfig(env)).toThrow(message);
  });

  it('reads the local edge settings with the contract defaults', () => {
    const config = loadLocalEdgeConfig({ KEYFRONT_EDGE_FRONT_DOOR_ID: '11111111-2222-3333-4444-555555555555' });
    expect(config).toMatchObject({ host: '127.0.0.1', port: 8080, adminPort: 8089, probeIntervalInMs: undefined });
    expect(loadLocalEdgeConfig({ KEYFRONT_EDGE_PROBE_INTERVAL_MS: '250' }).probeIntervalInMs).toBe(250);
    expect(config.environment.apiOrigins).toEqual([{ url: 'http://127.0.0.1:7071' }]);
    expect(config.environment.exportOrigins).toEqual({ primary: { url: 'http://127.0.0.1:10000/devstoreaccount1' }, secondary: { url: 'http://127.0.0.1:10000/devstoreaccount1-secondary' } });
  });

  it.each([
    [{ KEYFRONT_EDGE_PORT: '80000' }, 'KEYFRONT_EDGE_PORT must be an integer from 0 to 65535'],
    [{ KEYFRONT_EDGE_FRONT_DOOR_ID: 'not-a-guid' }, 'KEYFRONT_EDGE_FRONT_DOOR_ID must be a GUID'],
    [{ KEYFRONT_EDGE_BLOB_ORIGIN: 'ftp://x' }, 'KEYFRONT_EDGE_BLOB_ORIGIN must be an http(s) URL'],
    [{ KEYFRONT_EDGE_HOST: 'example.org' }, 'KEYFRONT_EDGE_HOST must be an IP address'],
    [{ KEYFRONT_EDGE_PROBE_INTERVAL_MS: '10' }, 'KEYFRONT_EDGE_PROBE_INTERVAL_MS must be an integer from 100 to 600000'],
  ])('names the local variable: %j', (env, message) => {
    expect(() => loadLocalEdgeConfig(env)).toThrow(message);
  });

  it.each([
    ['http://127.0.0.1:10000/devstoreaccount1', 'http://127.0.0.1:10000/devstoreaccount1-secondary'],
    ['https://kfexports.blob.core.windows.net', 'https://kfexports-secondary.blob.core.windows.net'],
  ])('the RA-GRS secondary of %s is %s', (primary, secondary) => {
    expect(secondaryOf(primary)).toBe(secondary);
  });
});
