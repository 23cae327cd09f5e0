/**
 * `POST /api/v1/publish`: a phone uploads the keys of a confirmed case. The checks run in a fixed
 * order, each with its status and code (the Front Door gate and the method come before, in
 * `bindRoute`): body (415, 413, 400) -> chaff -> caller (401) -> certificate (401) -> keys (400)
 * -> revision token (400) -> device attestation (401 in enforce mode; the costliest check, so
 * last) -> store (503 when it is down). Nothing is written before the last check.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { HttpError } from '../errors';
import { jsonResponse, readJsonBody } from '../http';
import { verifyRegistration } from '../register/secret';
import type { ApiRuntime } from '../runtime';
import { StoreUnavailableError } from '../../exposures/exposure-store';
import { StoreDeadlines } from '../upload/store-deadline';
import { chaffRevisionToken, openRevisionToken, sealRevisionToken } from '../upload/revision-token';
import { storeUpload } from '../upload/store-upload';
import { chooseOnsetInterval } from '../upload/symptom-onset';
import { checkUploadKeys, parsePublishRequest } from '../upload/upload';

export const route = { name: 'publish', route: 'v1/publish', methods: ['POST'] } as const;

/** One shared deadline timer per slot of requests, per runtime (see store-deadline.ts). */
const deadlinesOfRuntime = new WeakMap<ApiRuntime, StoreDeadlines>();
function storeDeadlinesOf(api: ApiRuntime): StoreDeadlines {
  let deadlines = deadlinesOfRuntime.get(api);
  if (!deadlines) deadlinesOfRuntime.set(api, (deadlines = new StoreDeadlines(api.config.store.timeoutInMs)));
  return deadlines;
}

/** Check 3: the caller holds a secret issued by register for its user UUID. */
function checkCaller(request: HttpRequest, api: ApiRuntime): void {
  const authorization = request.headers.get('authorization') ?? '';
  const userUuid = request.headers.get('x-user-uuid') ?? '';
  const secret = /^Bearer +(\S+)$/i.exec(authorization)?.[1] ?? '';
  if (!verifyRegistration(api.config.registerKeys, userUuid.toLowerCase(), secret)) {
    throw new HttpError(401, 'unauthorized', 'Authorization: Bearer <secret> and X-User-Uuid from /api/v1/register are required', { 'WWW-Authenticate': 'Bearer' });
  }
}

export async function handler(request: HttpRequest, _context: InvocationContext, api: ApiRuntime): Promise<HttpResponseInit> {
  const started = performance.now();
  const upload = parsePublishRequest(await readJsonBody(request));
  // Chaff looks like an upload on the wire, in size and in time, and gets a normal-looking answer; nothing else happens.
  if (request.headers.has('x-chaff')) {
    const wait = api.uploadLatencies.sample() - (performance.now() - started);
    if (wait > 0) await api.sleep(wait);
    return jsonResponse(200, { revisionToken: chaffRevisionToken(api.config.revisionTokenKeys), insertedExposures: upload.keys.length });
  }
  if (api.config.registrationRequired) checkCaller(request, api);
  const now = api.now();
  const certificate = await api.certificates.verify(upload, now);
  const teks = checkUploadKeys(upload.keys, now);
  let revisable;
  if (upload.revisionToken !== undefined) {
    revisable = openRevisionToken(api.config.revisionTokenKeys, upload.revisionToken);
    if (!revisable) throw new HttpError(400, 'invalid_revision_token', 'the revision token is not valid');
  }
  await api.attestation.check(upload, certificate.healthAuthority, now);
  const deadline = storeDeadlinesOf(api).signal();
  let stored;
  try {
    stored = await storeUpload(
      api.store,
      {
        teks,
        certificate,
        onsetInterval: chooseOnsetInterval([certificate.symptomOnsetInterval, upload.symptomOnsetInterval], now),
        ...(upload.traveler === undefined ? {} : { traveler: upload.traveler }),
        ...(revisable === undefined ? {} : { revisable }),
        nowSeconds: Math.floor(now.getTime() / 1000),
      },
      { abortSignal: deadline },
    );
  } catch (error) {
    if (deadline.aborted && !(error instanceof HttpError)) throw new StoreUnavailableError('the store did not answer in time', 1000, { cause: error });
    throw error;
  }
  // The token names only keys this uploader may revise later (never keys somebody else stored).
  const revisionToken = sealRevisionToken(api.config.revisionTokenKeys, teks.filter((tek) => stored.revisable.has(tek.keyData)));
  api.uploadLatencies.record(performance.now() - started);
  api.metrics.uploadKeys(stored.inserted, stored.revised);
  return jsonResponse(200, { revisionToken, insertedExposures: stored.inserted });
}
