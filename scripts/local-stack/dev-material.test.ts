import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadApiConfig } from '../../api/config';
import { DEV_MATERIAL_FILES, devApiEnvironment, DevMaterialError, loadOrCreateDevMaterial, readDevMaterial } from './dev-material';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'keyfront-dev-material-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('dev material', () => {
  it('is created on first use with files 0600 in a 0700 directory, and reused afterwards', async () => {
    const dir = path.join(root, 'data');
    const first = await loadOrCreateDevMaterial(dir);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    for (const file of Object.values(DEV_MATERIAL_FILES)) expect((await stat(path.join(dir, file))).mode & 0o777).toBe(0o600);
    const second = await loadOrCreateDevMaterial(dir);
    expect(second.frontDoorId).toBe(first.frontDoorId);
    expect(second.registerKey.equals(first.registerKey)).toBe(true);
    expect(second.revisionTokenKey.equals(first.revisionTokenKey)).toBe(true);
    expect(second.healthAuthority).toEqual(first.healthAuthority);
    expect(await readDevMaterial(dir)).toEqual(second);
  });

  it('configures the API: its Front Door ID, keys and a health authority trusting only the public key', async () => {
    const material = await loadOrCreateDevMaterial(root);
    const config = loadApiConfig({ ...devApiEnvironment(material, 'DE'), KEYFRONT_STORE: 'memory' });
    expect(config.frontDoorIds).toEqual([material.frontDoorId]);
    expect(config.healthAuthorities).toEqual([{ id: 'dev', issuer: material.healthAuthority.issuer, audience: material.healthAuthority.audience, regions: ['DE'], jwks: { keys: [material.healthAuthority.publicJwk] } }]);
    expect(JSON.stringify(config.healthAuthorities)).not.toContain(String(material.healthAuthority.privateJwk.d));
  });

  it('tells the user to run npm start when there is none', async () => {
    await expect(readDevMaterial(root)).rejects.toThrow(DevMaterialError);
    await expect(readDevMaterial(root)).rejects.toThrow(/run `npm start` once/);
  });

  it('names a corrupt file and how to recover', async () => {
    await loadOrCreateDevMaterial(root);
    await writeFile(path.join(root, DEV_MATERIAL_FILES.apiKeys), '{"registerKey": 1}');
    await expect(readDevMaterial(root)).rejects.toThrow(/api-keys\.json is not valid dev material .* delete it/);
    await writeFile(path.join(root, DEV_MATERIAL_FILES.frontDoorId), 'nope');
    await expect(loadOrCreateDevMaterial(root)).rejects.toThrow(/front-door-id/);
  });

  it('keeps a private key only in its own file', async () => {
    const material = await loadOrCreateDevMaterial(root);
    const keys = await readFile(path.join(root, DEV_MATERIAL_FILES.apiKeys), 'utf8');
    expect(keys).not.toContain(String(material.healthAuthority.privateJwk.d));
  });
});
