/** `GET /api/health`: the version and whether the store answers; nothing about the configuration. */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { jsonResponse } from '../http';
import type { ApiRuntime } from '../runtime';

/** A probe: every edge location asks every 30 s, so its answers are logged at debug and not traced. */
export const route = { name: 'health', route: 'health', methods: ['GET'], probe: true } as const;

export async function handler(_request: HttpRequest, _context: InvocationContext, api: ApiRuntime): Promise<HttpResponseInit> {
  const answers = await api.storeAnswers();
  return jsonResponse(200, { status: answers ? 'ok' : 'degraded', version: api.version, store: answers ? 'ok' : 'unavailable' });
}
