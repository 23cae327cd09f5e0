/**
 * What each answer of the write API adds to the figures (README "Telemetry"): publish answers
 * count as uploads by result and code, register answers as register calls, refused certificates
 * by reason. Called once per request by `bindRoute`, with what it already holds.
 */
import type { Metrics } from '../platform/metrics';
import { certificateFailureReason } from './upload/certificate';

export interface Answer {
  status: number;
  /** The error code, when the answer is a refusal or a failure. */
  code?: string;
  /** The request said it is chaff (`X-Chaff`). */
  chaff: boolean;
  /** What was thrown, when something was. */
  error?: unknown;
}

function resultOf(status: number): 'ok' | 'refused' | 'failed' {
  return status < 400 ? 'ok' : status < 500 ? 'refused' : 'failed';
}

export function recordAnswer(metrics: Metrics, route: string, answer: Answer): void {
  const result = resultOf(answer.status);
  const code = answer.code ?? (result === 'failed' ? 'internal_error' : 'ok');
  if (route === 'publish') {
    metrics.upload(result === 'ok' ? (answer.chaff ? 'chaff' : 'stored') : result, code);
    const reason = certificateFailureReason(answer.error);
    if (reason) metrics.certificateFailure(reason);
  } else if (route === 'register') {
    metrics.register(result === 'ok' ? 'issued' : result, code);
  }
}
