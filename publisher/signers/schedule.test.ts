/**
 * The signer schedule alone, then a publisher on memory parts through a key rotation: before it one
 * signature per file, during the overlap two (old key first), after the old key's window none by
 * it; files published earlier keep their bytes.
 */
import { generateKeyPairSync } from 'node:crypto';
import { openExport, verifyExport } from '../../proto/codec';
import { DAY, exposuresInWindow, HOUR, readPublished, T0, TEST_SETTINGS } from '../../test/support/publisher-harness';
import { createMemoryPublisher } from '../memory-publisher';
import { publishExports } from '../run';
import { LocalSigner } from './local';
import { NoValidSignerError, scheduleOf, SignerSchedule } from './schedule';

function key(keyVersion: string, keyId = '440') {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { signer: new LocalSigner(privateKey, { keyId, keyVersion }), publicKey };
}

const v1 = key('v1');
const v2 = key('v2');
const jp = key('v1', 'JP');
const versionsOf = (signers: readonly { signatureInfo: { verificationKeyVersion?: string; verificationKeyId?: string } }[]) => signers.map((s) => `${s.signatureInfo.verificationKeyId}/${s.signatureInfo.verificationKeyVersion}`);

describe('SignerSchedule', () => {
  const overlapStart = T0 + DAY;
  const overlapEnd = T0 + 29 * DAY;
  const schedule = new SignerSchedule([
    { signer: v1.signer, window: { notAfter: overlapEnd, regions: ['440'] } },
    { signer: v2.signer, window: { notBefore: overlapStart, regions: ['440'] } },
    { signer: jp.signer, window: { regions: ['JP'] } },
  ]);

  it.each([
    ['before the overlap', T0, ['440/v1']],
    ['when the overlap starts', overlapStart, ['440/v1', '440/v2']],
    ['the last second of the overlap', overlapEnd - 1, ['440/v1', '440/v2']],
    ['when the old key ends', overlapEnd, ['440/v2']],
  ])('signs files of a region %s with the keys valid then, in order', (_when, at, expected) => {
    expect(versionsOf(schedule.signersFor('440', at))).toEqual(expected);
  });

  it('keeps each region to its own signers', () => {
    expect(versionsOf(schedule.signersFor('JP', overlapStart))).toEqual(['JP/v1']);
  });

  it('refuses to sign where no key is valid, naming the keys it has', () => {
    expect(() => new SignerSchedule([{ signer: v1.signer, window: { notAfter: T0 } }]).signersFor('440', T0)).toThrow(NoValidSignerError);
    expect(() => schedule.signersFor('441', T0)).toThrow(/no signing key is valid for region 441 at 2026-11-02T00:00:00.000Z \(configured: 440\/v1, 440\/v2, JP\/v1\)/);
  });

  it('takes one signer as a schedule that always signs', () => {
    expect(versionsOf(scheduleOf(v1.signer).signersFor('any', 0))).toEqual(['440/v1']);
    expect(scheduleOf(schedule)).toBe(schedule);
  });
});

describe('a publisher through a key rotation', () => {
  it('signs each new file with every key valid when it is built, and never rewrites a published one', async () => {
    const closing = (hour: number) => T0 + hour * HOUR + 300; // the run that closes the windows before `hour`
    const overlapStart = closing(2) + 1;
    const overlapEnd = closing(4) + 1;
    const publisher = await createMemoryPublisher(TEST_SETTINGS, {
      signer: new SignerSchedule([
        { signer: v1.signer, window: { notAfter: overlapEnd } },
        { signer: v2.signer, window: { notBefore: overlapStart } },
      ]),
    });
    await publisher.store.insert([0, 1, 2, 3, 4, 5].flatMap((hour) => exposuresInWindow('440', T0 + hour * HOUR, 3)));
    // The wall clock decides which keys sign; each run closes the windows before it.
    const runAt = async (seconds: number) => expect((await publishExports(publisher, { now: new Date(seconds * 1000), wallClock: () => seconds * 1000 })).regions[0].status).toBe('done');
    const file = (hour: number) => `v1/440/${T0 + hour * HOUR}-${T0 + (hour + 1) * HOUR}-00001.zip`;

    await runAt(closing(2)); // two windows, before the overlap
    const before = await readPublished(publisher.exports, '440');
    await runAt(closing(4)); // two more, inside it
    await runAt(closing(6)); // two more, after the old key's end
    const view = await readPublished(publisher.exports, '440');

    const signedBy = async (hour: number) => (await openExport(view.files.get(file(hour))!.zip)).signatures.map((s) => `${s.signatureInfo?.verificationKeyId}/${s.signatureInfo?.verificationKeyVersion}`);
    expect(await Promise.all([0, 1, 2, 3, 4, 5].map(signedBy))).toEqual([['440/v1'], ['440/v1'], ['440/v1', '440/v2'], ['440/v1', '440/v2'], ['440/v2'], ['440/v2']]);
    for (const hour of [0, 1]) expect(view.files.get(file(hour))!.zip.equals(before.files.get(file(hour))!.zip)).toBe(true);
    // Each key verifies the files it signed; index.json names the keys of each file.
    for (const hour of [2, 3]) {
      const zip = view.files.get(file(hour))!.zip;
      expect(await verifyExport(zip, v1.publicKey, { keyId: '440', keyVersion: 'v1' })).toMatchObject({ valid: true });
      expect(await verifyExport(zip, v2.publicKey, { keyId: '440', keyVersion: 'v2' })).toMatchObject({ valid: true });
    }
    expect(await verifyExport(view.files.get(file(4))!.zip, v1.publicKey)).toMatchObject({ valid: false, code: 'signature_invalid' });
    expect(view.indexJson!.files.map((entry) => entry.signatures.map((s) => s.keyVersion).join('+'))).toEqual(['v1', 'v1', 'v1+v2', 'v1+v2', 'v2', 'v2']);
  });

  it('fails a region, writing nothing, when no key is valid for it', async () => {
    const publisher = await createMemoryPublisher(TEST_SETTINGS, { signer: new SignerSchedule([{ signer: v1.signer, window: { notAfter: T0 } }]) });
    await publisher.store.insert(exposuresInWindow('440', T0, 3));
    const run = await publishExports(publisher, { now: new Date((T0 + HOUR + 300) * 1000), wallClock: () => (T0 + HOUR + 300) * 1000 });
    expect(run.regions[0]).toMatchObject({ status: 'failed', error: expect.stringContaining('no signing key is valid for region 440') });
    expect((await readPublished(publisher.exports, '440')).files.size).toBe(0);
  });
});
