/**
 * GETs of a peer's public files with undici, each bounded by KEYFRONT_PEER_TIMEOUT_MS
 * (platform/deadline.ts) and by a size: a body is read until its limit and no further. What the
 * peer answered becomes a `FederationError`: 404 `file_missing` (or `index_missing`), a slow peer
 * `peer_timeout`, a refused connection `peer_unreachable`, other statuses `peer_error`, an HTML
 * page `html_answer`, a body past the limit `file_too_large` (or `index_invalid`). The request
 * carries nothing of ours but a User-Agent: the peer learns that someone read its public files.
 */
import { request } from 'undici';
import { DependencyTimeoutError, withDeadline } from '../../platform/deadline';
import { FederationError } from './codes';

export interface PeerFetchOptions {
  /** The peer's name, for errors. */
  peer: string;
  timeoutInMs: number;
  maxBytes: number;
  /** What is fetched: an index (its own codes) or an export file. */
  kind: 'index' | 'file';
  abortSignal?: AbortSignal;
}

/** Whether a body looks like HTML (a captive portal, an error page, a CDN's "not found" page). */
function looksLikeHtml(contentType: string | undefined, head: Buffer): boolean {
  if (contentType !== undefined && /^\s*(text\/html|application\/xhtml)/i.test(contentType)) return true;
  return /^\s*</.test(head.subarray(0, 64).toString('latin1'));
}

/** The body of a peer's file or index, or a `FederationError` saying why not. */
export async function fetchFromPeer(url: string, options: PeerFetchOptions): Promise<Buffer> {
  const what = options.kind === 'index' ? 'the index' : `the file ${new URL(url).pathname}`;
  const bound = { dependency: `peer ${options.peer}`, operation: `GET ${new URL(url).pathname}`, timeoutInMs: options.timeoutInMs, abortSignal: options.abortSignal };
  try {
    return await withDeadline(bound, async (signal) => {
      const answer = await request(url, { method: 'GET', signal, headers: { 'user-agent': 'keyfront-federation', accept: options.kind === 'index' ? 'text/plain' : 'application/zip' } });
      if (answer.statusCode !== 200) {
        await answer.body.dump();
        if (answer.statusCode === 404) throw new FederationError(options.kind === 'index' ? 'index_missing' : 'file_missing', `the peer answered 404 for ${what}`, true);
        throw new FederationError('peer_error', `the peer answered ${answer.statusCode} for ${what}`, true);
      }
      const contentType = [answer.headers['content-type']].flat()[0];
      const chunks: Buffer[] = [];
      let length = 0;
      for await (const chunk of answer.body as AsyncIterable<Buffer>) {
        length += chunk.length;
        if (length > options.maxBytes) {
          answer.body.destroy();
          if (options.kind === 'index') throw new FederationError('index_invalid', `the index is longer than ${options.maxBytes} bytes`, true);
          throw new FederationError('file_too_large', `${what} is longer than ${options.maxBytes} bytes, the most an export file may be`, false);
        }
        chunks.push(chunk);
      }
      const body = Buffer.concat(chunks);
      if (looksLikeHtml(contentType, body)) throw new FederationError('html_answer', `the peer answered an HTML page for ${what}`, true);
      return body;
    });
  } catch (error) {
    if (error instanceof FederationError) throw error;
    if (error instanceof DependencyTimeoutError) throw new FederationError('peer_timeout', error.message, true);
    if ((error as Error | undefined)?.name === 'AbortError' || options.abortSignal?.aborted) throw error;
    const code = (error as { code?: unknown }).code;
    throw new FederationError('peer_unreachable', `the peer could not be reached for ${what}${typeof code === 'string' ? ` (${code})` : ''}`, true);
  }
}
