/**
 * Packages the deploy stand-in can run: the app-service stand-in knows an app by its package.json
 * name and looks for its markers in the package bytes, so the code is stored, not deflated.
 */
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ZipFile } from 'yazl';
import { packageDigest } from '../../infra/release';

export function standInPackageZip(app: 'api' | 'publisher', content: string): Promise<Buffer> {
  const file = new ZipFile();
  file.addBuffer(Buffer.from(content), 'dist/index.js', { mtime: new Date('2020-01-01T00:00:00Z'), compress: false });
  file.addBuffer(Buffer.from(JSON.stringify({ name: `keyfront-${app}`, main: 'dist/index.js' })), 'package.json', { mtime: new Date('2020-01-01T00:00:00Z') });
  file.addBuffer(Buffer.from('{"version":"2.0"}'), 'host.json', { mtime: new Date('2020-01-01T00:00:00Z') });
  file.end();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    file.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    file.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

/** A stand-in package written into `dir`, named by its digest. */
export async function writeStandInPackage(dir: string, app: 'api' | 'publisher', content: string): Promise<{ file: string; zip: Buffer; digest: string }> {
  const zip = await standInPackageZip(app, content);
  const file = path.join(dir, `${app}-${packageDigest(zip).slice(0, 8)}.zip`);
  await writeFile(file, zip);
  return { file, zip, digest: packageDigest(zip) };
}
