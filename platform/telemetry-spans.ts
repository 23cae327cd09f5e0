/**
 * One span per operation (an API request, a publisher run), the span the operation's log lines
 * and dependencies hang under. In Azure Functions the host's trace context is made active around
 * each invocation by the Azure Functions instrumentation (platform/telemetry.ts): the span continues
 * that trace, so the host's records and ours share one operation id. With telemetry off, nothing is
 * created.
 */
import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { tracingEnabled } from './telemetry';

/** What an operation may say about itself: low-cardinality words and counts, never key data, ids or addresses. */
export interface OperationSpan {
  set(name: string, value: string | number | boolean): void;
  /** Marks the operation failed, with a stable code (never a message: it could quote input). */
  fail(code: string): void;
  /** Marks it done as it should be: a refused request is the server doing its job, not a failure. */
  succeed(): void;
}

/** The span of an operation that is not traced. */
export const NOT_RECORDING: OperationSpan = { set: () => undefined, fail: () => undefined, succeed: () => undefined };

export interface OperationOptions {
  /**
   * An operation of its own (App Insights: a request) even under a parent: a publisher run, which
   * the host starts from its timer. Otherwise the span is a request only when nothing encloses it.
   */
  request?: boolean;
  attributes?: Attributes;
}

function operationSpan(span: Span): OperationSpan {
  return {
    set: (name, value) => void span.setAttribute(name, value),
    fail: (code) => void span.setStatus({ code: SpanStatusCode.ERROR, message: code }),
    succeed: () => void span.setStatus({ code: SpanStatusCode.OK }),
  };
}

function errorName(error: unknown): string {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : 'Error';
}

/**
 * Runs `operation` inside a span named `name`: a server span (App Insights: a request) when nothing
 * encloses it or `options.request` says so; inside another span an internal one. An API request in
 * Azure runs inside the host's own HTTP request span (the host records the request: one row in
 * AppRequests, ours under it). A throw marks the span failed with the error's name and is rethrown.
 */
export async function traceOperation<T>(name: string, options: OperationOptions, operation: (span: OperationSpan) => Promise<T>): Promise<T> {
  if (!tracingEnabled()) return operation(NOT_RECORDING);
  const parent = context.active();
  const kind = options.request || !trace.getSpan(parent) ? SpanKind.SERVER : SpanKind.INTERNAL;
  return trace.getTracer('keyfront').startActiveSpan(name, { kind, ...(options.attributes ? { attributes: options.attributes } : {}) }, parent, async (span) => {
    try {
      return await operation(operationSpan(span));
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorName(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}
