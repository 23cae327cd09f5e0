import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { PrivacySpanProcessor, scrubAttributeText } from './telemetry-privacy';

describe('scrubAttributeText', () => {
  it.each([
    ['an IPv4 address', 'client 203.0.113.7 connected', 'client [ip] connected'],
    ['a loopback URL', 'http://127.0.0.1:10000/devstoreaccount1/exports', 'http://[ip]:10000/devstoreaccount1/exports'],
    ['a bracketed IPv6 URL', 'http://[::1]:7071/api/v1/publish', 'http://[ip]:7071/api/v1/publish'],
    ['a compressed IPv6 address', 'peer fe80::1', 'peer [ip]'],
    ['a query string', 'https://account.blob.core.windows.net/exports/v1/440/index.txt?sv=2024&sig=abc', 'https://account.blob.core.windows.net/exports/v1/440/index.txt'],
    ['a Cosmos item id (a hash of the key)', 'https://acct.documents.azure.com/dbs/keyfront/colls/exposures/docs/Zm9vYmFyYmF6cXV4', 'https://acct.documents.azure.com/dbs/keyfront/colls/exposures/docs/{id}'],
    ['a bearer token', 'Authorization: Bearer abc.def', 'Authorization: Bearer [redacted]'],
    ['a JWT', 'payload eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln', 'payload [redacted]'],
    ['a path with its query', '/api/v1/publish?uuid=1', '/api/v1/publish'],
  ])('replaces %s', (_name, text, expected) => {
    expect(scrubAttributeText(text)).toBe(expected);
  });

  it.each([['a blob name', 'v1/440/1764460800-1764464400-00001.zip'], ['a version', 'ulm_node20:otel2.12.1'], ['a time', '12:30:45'], ['an error code', 'store_unavailable']])('leaves %s alone', (_name, text) => {
    expect(scrubAttributeText(text)).toBe(text);
  });
});

describe('PrivacySpanProcessor', () => {
  function exported(build: (tracer: ReturnType<BasicTracerProvider['getTracer']>) => void) {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new PrivacySpanProcessor(), new SimpleSpanProcessor(exporter)] });
    build(provider.getTracer('test'));
    return exporter.getFinishedSpans();
  }

  it('drops what identifies the caller and scrubs every other text before the exporter sees the span', () => {
    const [span] = exported((tracer) => {
      const span = tracer.startSpan('POST /api/v1/publish?x=1', {
        kind: SpanKind.SERVER,
        attributes: {
          'client.address': '203.0.113.7',
          'http.client_ip': '203.0.113.7',
          'net.peer.ip': '203.0.113.7',
          'network.peer.address': '203.0.113.7',
          'user_agent.original': 'Phone/1.0',
          'http.request.header.authorization': ['Bearer s3cret'],
          'url.query': 'token=abc',
          'url.full': 'https://api.example/api/v1/publish?token=abc',
          'server.address': '10.1.2.3',
          'db.statement': 'read /dbs/keyfront/colls/exposures/docs/aGFzaG9mYWtleQ',
          'keyfront.code': 'health_authority_verification_certificate_invalid',
          'http.response.status_code': 401,
          tags: ['ok', 'from 198.51.100.1'],
        },
      });
      span.addEvent('exception', { 'exception.message': 'connect ECONNREFUSED 10.0.0.5:443 with Bearer s3cret' });
      span.setStatus({ code: SpanStatusCode.OK });
      span.end();
    });
    expect(span.name).toBe('POST /api/v1/publish');
    expect(span.attributes).toEqual({
      'url.full': 'https://api.example/api/v1/publish',
      'server.address': '[ip]',
      'db.statement': 'read /dbs/keyfront/colls/exposures/docs/{id}',
      'keyfront.code': 'health_authority_verification_certificate_invalid',
      'http.response.status_code': 401,
      tags: ['ok', 'from [ip]'],
    });
    expect(span.events[0].attributes).toEqual({ 'exception.message': 'connect ECONNREFUSED [ip]:443 with Bearer [redacted]' });
  });
});
