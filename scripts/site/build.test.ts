/**
 * The page build records the functions protobufjs generates for the phone library (its CSP allows
 * no eval). The local stack's publisher builds the page in a process that has already decoded
 * export files: the build must record them all the same (it once published no page there).
 */
import { generateKeyPairSync } from 'node:crypto';
import { verifyExportFile } from '../../client';
import { buildExport } from '../../proto/codec';
import { realisticKeys } from '../../proto/test-keys';
import { LocalSigner } from '../../publisher/signers/local';
import { buildSite } from './build';

jest.setTimeout(60_000);

it('builds the page in a process whose phone library has already decoded a file', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const start = Math.floor(Date.now() / 3_600_000) * 3600 - 7200;
  const file = await buildExport({ region: '440', startTimestamp: start, endTimestamp: start + 3600, keys: realisticKeys(2) }, new LocalSigner(privateKey, { keyId: '440', keyVersion: 'v1' }));
  await verifyExportFile(new Uint8Array(file.zip), { publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), keyId: '440', keyVersion: 'v1' }, { region: '440' });

  const files = await buildSite();
  const script = files.find((f) => /^app\.[0-9a-f]{12}\.js$/.test(baseName(f)));
  expect(script).toBeDefined();
  // The bundle looks generated functions up in the recorded table, and the table is not empty.
  const bundle = script!.data.toString('utf8');
  expect(bundle).toContain('new Map([[');
  // Among them the decoder of the export message (the phone decodes export.bin with it).
  expect(bundle).toMatch(/m\.startTimestamp/);
});

function baseName(file: { name: string }): string {
  return file.name.slice(file.name.lastIndexOf('/') + 1);
}
