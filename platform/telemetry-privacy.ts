/**
 * What never leaves the process in a span, whatever an instrumentation recorded: client
 * addresses, ports and user agents are dropped (App Insights would otherwise fill `client_IP`
 * and location from them); URLs lose their query string and Cosmos item ids (a hash of a key);
 * IP literals, bearer tokens, JWTs and signatures in any text are replaced. Runs in `onEnd`,
 * before the exporting processor, so the exporter only ever sees the scrubbed attributes.
 */
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { scrubText } from './log';

/** Attributes that describe the caller, never kept (old and current semantic conventions). */
export const DROPPED_ATTRIBUTES: ReadonlySet<string> = new Set([
  'client.address',
  'client.port',
  'client.socket.address',
  'client.socket.port',
  'http.client_ip',
  // The exporter's explicit override of the location IP (ai.location.ip), which App Insights would geolocate.
  'microsoft.client.ip',
  'net.peer.ip',
  'net.peer.port',
  'net.sock.peer.addr',
  'net.sock.peer.port',
  'network.peer.address',
  'network.peer.port',
  'net.host.ip',
  'net.sock.host.addr',
  'network.local.address',
  'network.local.port',
  'user_agent.original',
  'http.user_agent',
  'enduser.id',
  'url.query',
]);

const IPV4 = /\b(?:\d{1,3}\.){3}\d{1,3}\b/g;
/** IPv6 literals: bracketed as in URLs (`[::1]`), compressed (`fe80::1`), or full (eight groups). */
const IPV6 = /\[[0-9a-fA-F:.]*:[0-9a-fA-F:.]*\]|(?:\b[0-9a-fA-F]{1,4})?(?::[0-9a-fA-F]{1,4})*::(?:[0-9a-fA-F]{1,4}\b)?(?::[0-9a-fA-F]{1,4}\b)*|\b(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}\b/g;
/** The query string of a URL or of a path (`POST /api/v1/publish?x=1`), up to a space or quote. */
const QUERY = /((?:\bhttps?:\/\/|(?:^|(?<=\s))\/)[^\s"'?#]*)\?[^\s"'#]*/g;
/** Cosmos item paths name the item id, a hash of the key's bytes. */
const COSMOS_ITEM = /(\/docs\/)[^/\s"'?#]+/g;

/** A text as it may be exported. */
export function scrubAttributeText(text: string): string {
  return scrubText(text).replace(QUERY, '$1').replace(COSMOS_ITEM, '$1{id}').replace(IPV4, '[ip]').replace(IPV6, '[ip]');
}

function scrubAttributes(attributes: Record<string, unknown>): void {
  for (const name of Object.keys(attributes)) {
    if (DROPPED_ATTRIBUTES.has(name) || name.startsWith('http.request.header.') || name.startsWith('http.response.header.')) {
      delete attributes[name];
      continue;
    }
    const value = attributes[name];
    if (typeof value === 'string') attributes[name] = scrubAttributeText(value);
    else if (Array.isArray(value)) attributes[name] = value.map((item: unknown) => (typeof item === 'string' ? scrubAttributeText(item) : item));
  }
}

/** The span processor that scrubs; register it before the exporter (the distro's `spanProcessors` are). */
export class PrivacySpanProcessor implements SpanProcessor {
  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    // The ended span's attribute objects are its own: editing them is how a processor filters (see the distro's docs).
    scrubAttributes(span.attributes as Record<string, unknown>);
    for (const event of span.events) if (event.attributes) scrubAttributes(event.attributes as Record<string, unknown>);
    const name = scrubAttributeText(span.name);
    if (name !== span.name) (span as { name: string }).name = name;
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
