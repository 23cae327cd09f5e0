/**
 * The one route table of the write API, read by the Function App entry (`api/index.ts`, which
 * registers each with `app.http`) and by the local host (`scripts/local-stack/api-host.ts`).
 * `bindRoute` puts in front of every handler what all routes share, in the order of the checks:
 * the Front Door gate (403), then the method (405); and turns every failure into a response.
 */
import type { HttpHandler, HttpMethod, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { HttpError } from './errors';
import { StoreUnavailableError } from '../exposures/exposure-store';
import { FRONT_DOOR_ID_HEADER, isAcceptedFrontDoorId } from './front-door';
import { errorResponse } from './http';
import type { ApiRuntime } from './runtime';
import { recordAnswer } from './answer-metrics';
import { NOT_RECORDING, traceOperation, type OperationSpan } from '../platform/telemetry-spans';
import * as health from './functions/health';
import * as upload from './functions/upload';
import * as register from './functions/register';
import * as warmup from './functions/warmup';

/** A handler of the write API: everything it uses comes in its arguments. */
export type ApiHandler = (request: HttpRequest, context: InvocationContext, api: ApiRuntime) => Promise<HttpResponseInit>;

export interface RouteDefinition {
  /** Function name in Azure. */
  name: string;
  /** Path under the host's `/api` prefix. */
  route: string;
  methods: readonly HttpMethod[];
  /** A health probe: answered often, so logged at debug and not traced. */
  probe?: boolean;
  /**
   * Answered without the Front Door ID: only the swap's warm-up route, which App Service pings from
   * inside the platform (api/functions/warmup.ts). Every other route is behind the gate.
   */
  withoutFrontDoor?: boolean;
}

export interface ApiRoute extends RouteDefinition {
  handler: ApiHandler;
}

export const ROUTES: readonly ApiRoute[] = [register, upload, health, warmup].map((module) => ({ ...module.route, handler: module.handler }));

/** The host routes every method to our code, so that a wrong method is our 405, after the Front Door gate. */
export const ALL_METHODS: HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

/** The path a route is served at. */
export function pathOf(route: RouteDefinition): string {
  return `/api/${route.route}`;
}

export function bindRoute(route: ApiRoute, api: ApiRuntime): HttpHandler {
  const spanName = `${route.methods[0]} ${pathOf(route)}`;
  if (route.probe) return (request, context) => handle(request, context, NOT_RECORDING);
  // One span per request, under the host's request span in Azure (made active by the Functions instrumentation).
  return function traced(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    return traceOperation(spanName, {}, (span) => handle(request, context, span));
  };

  async function handle(request: HttpRequest, context: InvocationContext, span: OperationSpan): Promise<HttpResponseInit> {
    const started = performance.now();
    // Fields rather than a child logger: one fewer set of closures on every request.
    const fields = { function: route.name, invocationId: context.invocationId };
    let response: HttpResponseInit;
    let code: string | undefined;
    let failure: unknown;
    try {
      if (!route.withoutFrontDoor && !isAcceptedFrontDoorId(request.headers.get(FRONT_DOOR_ID_HEADER), api.config.frontDoorIds)) {
        throw new HttpError(403, 'front_door_required', 'requests must come through the service front door');
      }
      if (!route.methods.includes(request.method as HttpMethod)) {
        throw new HttpError(405, 'method_not_allowed', `${route.methods.join(', ')} only`, { Allow: route.methods.join(', ') });
      }
      response = await route.handler(request, context, api);
    } catch (error) {
      response = errorResponse(error, api.logger, fields);
      code = error instanceof HttpError ? error.code : error instanceof StoreUnavailableError ? 'store_unavailable' : 'internal_error';
      failure = error;
    }
    const status = response.status ?? 200;
    // Method and status make App Insights show the request's response code; 4xx are answers, only 5xx failures.
    span.set('http.request.method', request.method);
    span.set('http.response.status_code', status);
    if (code) span.set('keyfront.code', code);
    if (status >= 500) span.fail(code ?? 'internal_error');
    else span.succeed();
    recordAnswer(api.metrics, route.name, { status, ...(code ? { code } : {}), chaff: request.headers.has('x-chaff'), error: failure });
    api.logger[route.probe ? 'debug' : 'info']('request', { ...fields, status, ...(code ? { code } : {}), durationInMs: Math.round((performance.now() - started) * 10) / 10 });
    return response;
  }
}
