/**
 * `POST /api/v1/register`: issues a user UUID and its secret, the access key of the publish API
 * (the seed's Register API). Stateless: nothing about the phone is stored.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { HttpError } from '../errors';
import { jsonResponse, readJsonBody, requireKnownFields } from '../http';
import { issueRegistration } from '../register/secret';
import type { ApiRuntime } from '../runtime';

export const route = { name: 'register', route: 'v1/register', methods: ['POST'] } as const;

const FIELDS = new Set(['padding']);

export async function handler(request: HttpRequest, _context: InvocationContext, api: ApiRuntime): Promise<HttpResponseInit> {
  const body = await readJsonBody(request, { optional: true });
  if (body !== undefined) {
    const fields = requireKnownFields(body, FIELDS, 'the body');
    if (fields.padding !== undefined && typeof fields.padding !== 'string') throw new HttpError(400, 'bad_request', 'padding must be a string');
  }
  if (api.config.registerKeys.current === '') throw new HttpError(404, 'not_found', 'registration is not in use here');
  return jsonResponse(201, issueRegistration(api.config.registerKeys));
}
