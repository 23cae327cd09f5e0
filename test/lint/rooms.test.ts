// The room boundaries of eslint.rooms.mjs bite: each refused import is reported with its reason,
// and each allowed one passes. Each case is linted as text at a path inside its room, as
// `npm run lint` would, by ESLint in one child process (its config is ESM, which jest cannot load).
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');

const LINTER = `
const { ESLint } = require('eslint');
const cases = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
const eslint = new ESLint({ cwd: process.cwd() });
Promise.all(cases.map(async ([filePath, specifier]) => {
  const [result] = await eslint.lintText("import * as m from '" + specifier + "';\\nexport const used = m;\\n", { filePath });
  return result.messages.filter((message) => message.ruleId === 'no-restricted-imports').map((message) => message.message);
})).then((all) => process.stdout.write(JSON.stringify(all)));
`;

let lintCache: Map<string, string[]> | undefined;

/** The restricted-import messages for `import ... from specifier` in a file at `filePath`. */
function restrictedMessages(filePath: string, specifier: string): string[] {
  if (!lintCache) {
    const cases = [...REFUSED.map(([file, spec]) => [file, spec]), ['api/x.test.ts', '../publisher/signers/local'], ...ALLOWED];
    const output = execFileSync(process.execPath, ['-e', LINTER], { cwd: root, input: JSON.stringify(cases), encoding: 'utf8' });
    const results = JSON.parse(output) as string[][];
    lintCache = new Map(cases.map(([file, spec], index) => [`${file} ${spec}`, results[index]]));
  }
  return lintCache.get(`${filePath} ${specifier}`) ?? [];
}

const REFUSED: [string, string, string][] = [
  ['api/functions/x.ts', '../../publisher/signers/local', 'never reach a signer'],
  ['api/x.ts', '../publisher/run', 'never reach a signer'],
  ['api/x.ts', '../scripts/cli', 'Nothing imports scripts/'],
  ['proto/x.ts', '../platform/log', 'imports nothing of ours'],
  ['platform/x.ts', '../exposures/exposure-store', 'imports only proto/'],
  ['exposures/x.ts', '../api/routes', 'imports only proto/ and platform/'],
  ['publisher/x.ts', '../api/routes', 'publisher Function App'],
  ['publisher/steps/x.ts', '../../edge-config/declaration', 'publisher Function App'],
  ['edge-config/x.ts', '../exposures/exposure-store', 'Front Door as code'],
  ['infra/x.ts', '../scripts/cli', 'Nothing imports scripts/'],
  ['client/x.ts', '../platform/log', 'imports proto/ only'],
  ['client/x.ts', 'node:crypto', 'nothing from Node'],
  ['client/x.ts', 'fs', 'nothing from Node'],
  ['site/x.ts', '../exposures/exposure-store', 'transparency page'],
  ['site/x.ts', '../publisher/site', 'transparency page'],
  ['api/x.ts', '../test/support/api-fixture', 'Only tests import test/'],
];

const ALLOWED: [string, string][] = [
  ['api/x.ts', '../exposures/exposure-store'],
  ['api/upload/x.ts', '../../platform/log'],
  ['publisher/x.ts', '../proto/codec'],
  ['publisher/x.ts', '../site/page-content'],
  ['edge-config/x.ts', '../platform/settings'],
  ['infra/x.ts', '../edge-config/arm/template'],
  ['site/x.ts', '../client/sync'],
  ['scripts/x.ts', '../publisher/run'],
  ['publisher/x.test.ts', '../scripts/local-stack/ports'],
  ['api/x.ts', '@azure/functions'],
];

describe('room boundaries', () => {
  it.each(REFUSED)('%s may not import %s', (filePath, specifier, reason) => {
    const messages = restrictedMessages(filePath, specifier);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(reason);
  });

  it('keeps the signer out of api/ tests too', () => {
    const messages = restrictedMessages('api/x.test.ts', '../publisher/signers/local');
    expect(messages).toHaveLength(1);
  });

  it.each(ALLOWED)('%s may import %s', (filePath, specifier) => {
    expect(restrictedMessages(filePath, specifier)).toEqual([]);
  });
});
