/**
 * Bytes on the wire of a phone's answers, measured on the real local edge in front of Azurite with
 * the publisher's headers: the idle poll (a conditional GET of an unchanged index, answered 304)
 * and the header bytes of a 200 for the index and for an export file. The simulation adds these
 * to the body bytes it counts. Measured on raw sockets, so every byte the client receives counts.
 */
import { connect } from 'node:net';
import { BlobServiceClient } from '@azure/storage-blob';
import { localEdgeEnvironment } from '../../../edge-config/config';
import { keyfrontEdge } from '../../../edge-config/keyfront';
import { startLocalEdge } from '../../../edge-config/local-edge/server';
import { validateEdgeDeclaration } from '../../../edge-config/validate';
import { EXPORT_CACHE_CONTROL, EXPORT_CONTENT_TYPE, INDEX_CACHE_CONTROL, INDEX_TXT_CONTENT_TYPE } from '../../../publisher/index-file';
import { startAzurite } from '../../local-stack/azurite';

export interface WireBytes {
  /** Response to `GET index.txt` with `If-None-Match` of the current ETag: status line and headers (no body). */
  idlePollBytes: number;
  /** The request a phone sends for it (request line, Host, If-None-Match). */
  idlePollRequestBytes: number;
  indexHeaderBytes: number;
  fileHeaderBytes: number;
}

/** Sends `head` on its own connection; resolves to the raw answer (latin1). */
export function rawExchange(url: string, head: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(head));
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', reject);
    socket.on('end', () => resolve(answer));
  });
}

/** Bytes of the status line and headers of a raw answer, the blank line included. */
function headerBytes(answer: string): number {
  const end = answer.indexOf('\r\n\r\n');
  if (end < 0) throw new Error('no complete header block in the answer');
  return end + 4;
}

/** A phone's GET as a phone sends it over HTTP/1.1, closing the connection so the answer ends. */
export function phoneRequest(url: URL, extra: Record<string, string> = {}): string {
  const lines = [`GET ${url.pathname} HTTP/1.1`, `Host: ${url.host}`, ...Object.entries(extra).map(([name, value]) => `${name}: ${value}`), 'Connection: close'];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Measures on an edge already serving `indexPath` and `filePath`. */
export async function measureWireBytes(edgeUrl: string, indexPath: string, filePath: string): Promise<WireBytes> {
  const indexUrl = new URL(indexPath, edgeUrl);
  const full = await rawExchange(edgeUrl, phoneRequest(indexUrl));
  if (!full.startsWith('HTTP/1.1 200')) throw new Error(`the index answered ${full.split('\r\n')[0]}`);
  const etag = /\r\netag: *([^\r\n]+)/i.exec(full)?.[1];
  if (!etag) throw new Error('the index came without an ETag');
  const idleRequest = phoneRequest(indexUrl, { 'If-None-Match': etag });
  const idle = await rawExchange(edgeUrl, idleRequest);
  if (!idle.startsWith('HTTP/1.1 304')) throw new Error(`the idle poll answered ${idle.split('\r\n')[0]}`);
  const file = await rawExchange(edgeUrl, phoneRequest(new URL(filePath, edgeUrl)));
  if (!file.startsWith('HTTP/1.1 200')) throw new Error(`the export file answered ${file.split('\r\n')[0]}`);
  return { idlePollBytes: Buffer.byteLength(idle, 'latin1'), idlePollRequestBytes: Buffer.byteLength(idleRequest, 'latin1'), indexHeaderBytes: headerBytes(full), fileHeaderBytes: headerBytes(file) };
}

/** Starts Azurite and the local edge, publishes an index and a file as the publisher does, and measures. */
export async function measureOnLocalEdge(indexText: string, filePath: string, file: Buffer): Promise<WireBytes> {
  const azurite = await startAzurite();
  try {
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('exports');
    await container.createIfNotExists({ access: 'blob' });
    await container.getBlockBlobClient('v1/440/index.txt').uploadData(Buffer.from(indexText), { blobHTTPHeaders: { blobContentType: INDEX_TXT_CONTENT_TYPE, blobCacheControl: INDEX_CACHE_CONTROL } });
    await container.getBlockBlobClient(filePath.slice(1)).uploadData(file, { blobHTTPHeaders: { blobContentType: EXPORT_CONTENT_TYPE, blobCacheControl: EXPORT_CACHE_CONTROL } });
    const declaration = validateEdgeDeclaration(keyfrontEdge(localEdgeEnvironment({ api: 'http://127.0.0.1:9', blobPrimary: azurite.blobEndpoint })), 'local');
    const edge = await startLocalEdge(declaration, { frontDoorId: '00000000-0000-4000-8000-000000000000', probeIntervalInMs: 600_000 });
    try {
      return await measureWireBytes(edge.url, '/v1/440/index.txt', filePath);
    } finally {
      await edge.stop();
    }
  } finally {
    await azurite.stop();
  }
}
