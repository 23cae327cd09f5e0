/**
 * The corpus of hostile read requests (issue 11): what an anonymous client may send to the storage
 * routes to make the edge cache something other than the published bytes. Shared by the corpus
 * test against the local edge on Azurite and by the test that the ARM model agrees with the local
 * edge. Targets are raw request targets, sent byte for byte.
 */

/** The files the corpus reads: the publisher's names and the page's, with what a plain read must return. */
export const CORPUS_FILES = {
  '/v1/440/index.txt': { blob: 'v1/440/index.txt', body: 'v1/440/1700000000-1700003600-00001.zip\nv1/440/1700003600-1700007200-00001.zip\n', contentType: 'text/plain', cacheControl: 'public, max-age=60, s-maxage=3600' },
  '/v1/440/index.json': { blob: 'v1/440/index.json', body: '{"files":[{"path":"v1/440/1700000000-1700003600-00001.zip"}]}', contentType: 'application/json', cacheControl: 'public, max-age=60, s-maxage=3600' },
  '/v1/440/1700000000-1700003600-00001.zip': { blob: 'v1/440/1700000000-1700003600-00001.zip', body: 'PK\u0003\u0004 first export file', contentType: 'application/zip', cacheControl: 'public, max-age=31536000, immutable' },
  '/v1/440/1700003600-1700007200-00001.zip': { blob: 'v1/440/1700003600-1700007200-00001.zip', body: 'PK\u0003\u0004 second export file', contentType: 'application/zip', cacheControl: 'public, max-age=31536000, immutable' },
  '/': { blob: 'site/index.html', body: '<!doctype html><title>keyfront</title><script src="/site/app.js"></script>', contentType: 'text/html', cacheControl: 'public, max-age=60, s-maxage=3600' },
  '/site/app.js': { blob: 'site/app.js', body: 'console.log("transparency");', contentType: 'application/javascript', cacheControl: 'public, max-age=60, s-maxage=3600' },
} as const;

export type CorpusPath = keyof typeof CORPUS_FILES;

export interface HostileRead {
  name: string;
  method: string;
  /** The raw request target. */
  target: string;
  headers?: Record<string, string>;
  body?: string;
  /**
   * `refused`: answered at the edge with a 4xx JSON error, nothing sent to the origin;
   * `served`: the published bytes (or a 304) whatever the extra parts say.
   */
  outcome: 'refused' | 'served';
  /** Refused by the HTTP layer before any edge rule (no Front Door rule can express it): left out of the ARM agreement. */
  transport?: string;
}

const INDEX = '/v1/440/index.txt';
const ZIP = '/v1/440/1700000000-1700003600-00001.zip';
const SAS = 'sv=2023-11-03&ss=b&srt=o&sp=rwdlac&se=2099-01-01T00:00:00Z&sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D';

const query = (name: string, target: string): HostileRead => ({ name: `query: ${name}`, method: 'GET', target, outcome: 'refused' });
const spelling = (name: string, target: string): HostileRead => ({ name: `spelling: ${name}`, method: 'GET', target, outcome: 'refused' });
const method = (verb: string, target: string, body?: string): HostileRead => ({ name: `method: ${verb} ${target}`, method: verb, target, body, outcome: 'refused' });
const header = (name: string, target: string, headers: Record<string, string>): HostileRead => ({ name: `header: ${name}`, method: 'GET', target, headers, outcome: 'served' });

export const HOSTILE_READS: readonly HostileRead[] = [
  // Blob REST parameters: each turns a read into another operation or representation.
  query('comp=list on the index', `${INDEX}?comp=list`),
  query('restype=container&comp=list', `${INDEX}?restype=container&comp=list`),
  query('comp=metadata', `${INDEX}?comp=metadata`),
  query('comp=tags', `${ZIP}?comp=tags`),
  query('comp=blocklist', `${ZIP}?comp=blocklist&blocklisttype=all`),
  query('comp=lease', `${ZIP}?comp=lease`),
  query('snapshot', `${ZIP}?snapshot=2024-01-01T00:00:00.0000000Z`),
  query('versionid', `${INDEX}?versionid=2024-01-01T00:00:00.0000000Z`),
  query('restype=service&comp=properties', `/v1/440/index.json?restype=service&comp=properties`),
  query('timeout', `${INDEX}?timeout=1`),
  query('response override rscc=no-store', `${INDEX}?rscc=no-store`),
  query('response override rsct=text/html', `${ZIP}?rsct=text/html&rscd=inline`),
  query('a SAS token', `${ZIP}?${SAS}`),
  query('a signature only', `${INDEX}?sig=AAAA%3D`),
  query('an encoded ampersand and equals', `${INDEX}?comp%3Dlist%26restype%3Dcontainer`),
  query('a malformed escape', `${INDEX}?x=%zz`),
  query('a cache buster', `${INDEX}?cache-buster=1`),
  query('on the root', '/?comp=list'),
  query('on a page file', '/site/app.js?rsct=text/html'),
  { name: 'query: HEAD with comp=properties', method: 'HEAD', target: `${INDEX}?comp=properties`, outcome: 'refused' },
  // Second spellings of one object: each would be a second cache key (or another object).
  spelling('percent-encoded letter', '/v1/440/%69ndex.txt'),
  spelling('percent-encoded dot', '/v1/440/index%2Etxt'),
  spelling('percent-encoded slashes', '/v1%2F440%2Findex.txt'),
  spelling('percent-encoded first segment', '/%761/440/index.txt'),
  spelling('encoded question mark', '/v1/440/index.txt%3Fcomp=list'),
  spelling('encoded NUL', '/v1/440/index.txt%00'),
  spelling('encoded space', '/v1/440/index.txt%20'),
  spelling('doubled slash inside', '/v1//440/index.txt'),
  spelling('doubled slash before the file', '/v1/440//index.txt'),
  spelling('dot segment', '/v1/./440/index.txt'),
  spelling('dot-dot segment', '/v1/440/../440/index.txt'),
  spelling('encoded dot segment', '/v1/%2e/440/index.txt'),
  spelling('encoded dot-dot out of /site', '/site/%2e%2e/v1/440/index.txt'),
  spelling('trailing dot segment', '/v1/440/index.txt/.'),
  spelling('upper-case prefix', '/V1/440/index.txt'),
  spelling('upper-case file', '/v1/440/INDEX.TXT'),
  spelling('mixed-case index.json', '/v1/440/Index.json'),
  spelling('upper-case site', '/SITE/app.js'),
  spelling('trailing slash', '/v1/440/index.txt/'),
  spelling('matrix parameter', '/v1/440/index.txt;comp=list'),
  spelling('trailing dot', '/v1/440/index.txt.'),
  spelling('the region folder', '/v1/440/'),
  spelling('the container path', '/exports/v1/440/index.txt'),
  spelling('a file the publisher never writes', '/v1/440/manifest.json'),
  spelling('the page by its blob name at the root', '/index.html'),
  spelling('a backslash', '/v1/440\\index.txt'),
  { name: 'spelling: an absolute-form authority', method: 'GET', target: '//evil.example/v1/440/index.txt', outcome: 'refused', transport: 'the edge answers 400 to a target that is not a path' },
  // Methods Blob storage would act on (or that no read needs).
  method('PUT', ZIP, 'PK\u0003\u0004 replaced'),
  method('POST', INDEX, '{}'),
  method('DELETE', ZIP),
  method('OPTIONS', INDEX),
  method('TRACE', INDEX),
  method('PATCH', '/site/app.js', 'x'),
  method('PROPFIND', INDEX),
  method('PURGE', INDEX),
  method('POST', '/', 'x'),
  // Headers Blob storage reads: removed on the way, so the plain object is what gets cached.
  header('x-ms-version of 2009', INDEX, { 'x-ms-version': '2009-09-19' }),
  header('x-ms-range', ZIP, { 'x-ms-range': 'bytes=0-3' }),
  header('x-ms-range with a content MD5', ZIP, { 'x-ms-range': 'bytes=0-3', 'x-ms-range-get-content-md5': 'true' }),
  header('Range on the index', INDEX, { range: 'bytes=0-3' }),
  header('Range on a file', ZIP, { range: 'bytes=2-' }),
  header('If-Range with Range', ZIP, { range: 'bytes=0-1', 'if-range': '"0x0"' }),
  header('a bearer Authorization', INDEX, { authorization: 'Bearer eyJhbGciOiJub25lIn0.e30.' }),
  header('a SharedKey Authorization', ZIP, { authorization: 'SharedKey devstoreaccount1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', 'x-ms-date': 'Sun, 06 Dec 2026 00:00:00 GMT' }),
  header('If-Match that fails', INDEX, { 'if-match': '"0xDEADBEEF"' }),
  header('If-Unmodified-Since long ago', INDEX, { 'if-unmodified-since': 'Thu, 01 Jan 1970 00:00:00 GMT' }),
  header('a lease id', ZIP, { 'x-ms-lease-id': '7d5b5f2a-0000-4000-8000-000000000000' }),
  header('a customer-provided key', ZIP, { 'x-ms-encryption-key': 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', 'x-ms-encryption-key-sha256': 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', 'x-ms-encryption-algorithm': 'AES256' }),
  header('a tag condition', INDEX, { 'x-ms-if-tags': '"a" = \'b\'' }),
  header('an Origin for CORS', '/v1/440/index.json', { origin: 'https://evil.example' }),
  header('no-cache request directives', INDEX, { 'cache-control': 'no-cache', pragma: 'no-cache' }),
  header('If-None-Match: *', INDEX, { 'if-none-match': '*' }),
  header('If-Modified-Since in the future', '/site/app.js', { 'if-modified-since': 'Fri, 01 Jan 2100 00:00:00 GMT' }),
  header('a spoofed X-Azure-FDID and X-Forwarded-Host', '/', { 'x-azure-fdid': '00000000-0000-0000-0000-000000000000', 'x-forwarded-host': 'evil.example' }),
  header('a cookie', '/', { cookie: 'session=1' }),
  header('a large header (8 KB)', INDEX, { 'x-padding': 'a'.repeat(8 * 1024) }),
  { name: 'header: a huge header (64 KB)', method: 'GET', target: INDEX, headers: { 'x-padding': 'a'.repeat(64 * 1024) }, outcome: 'refused', transport: 'the HTTP server answers 431 before the edge (Front Door has its own header size limit)' },
  { name: 'header: HEAD with Range', method: 'HEAD', target: ZIP, headers: { range: 'bytes=0-0' }, outcome: 'served' },
];
