/** Keeps `api/openapi.yaml` in step with the route table and the list of error codes. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { ERROR_CODES, STATUS_OF_CODE } from './errors';
import { pathOf, ROUTES } from './routes';
import { MAX_BODY_BYTES, RESPONSE_BLOCK_BYTES } from './http';
import { KEY_LENGTH, MAX_KEYS_PER_UPLOAD } from '../proto/tek';
import { PUBLISH_KEY_FIELDS, PUBLISH_REQUEST_FIELDS } from './upload/upload';

interface Operation {
  operationId: string;
  responses: Record<string, unknown>;
  'x-error-codes': string[];
}
interface OpenApi {
  openapi: string;
  info: { version: string; description: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { enum?: string[]; properties?: Record<string, { maxItems?: number; minLength?: number; maxLength?: number }> }> };
}

const document = parse(readFileSync(path.join(__dirname, 'openapi.yaml'), 'utf8')) as OpenApi;

describe('api/openapi.yaml', () => {
  it('is OpenAPI 3.1 with the package version', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.info.version).toBe((JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('describes exactly the routes of the table, each with its methods and operation id', () => {
    const documented = Object.entries(document.paths).flatMap(([p, operations]) => Object.entries(operations).map(([method, op]) => [p, method.toUpperCase(), op.operationId]));
    const routed = ROUTES.flatMap((route) => route.methods.map((method) => [pathOf(route), method, route.name]));
    expect(documented.sort()).toEqual(routed.sort());
  });

  it('lists exactly the error codes of api/errors.ts', () => {
    expect(document.components.schemas.ErrorCode.enum).toEqual([...ERROR_CODES]);
  });

  it("documents, for each route, the status of each of its error codes, and every code some route can answer appears in a route", () => {
    const used = new Set<string>();
    for (const operations of Object.values(document.paths)) {
      for (const operation of Object.values(operations)) {
        for (const code of operation['x-error-codes']) {
          expect(ERROR_CODES).toContain(code);
          expect(Object.keys(operation.responses)).toContain(String(STATUS_OF_CODE[code as keyof typeof STATUS_OF_CODE]));
          used.add(code);
        }
        // Every documented error status is the status of one of the route's codes.
        const statuses = new Set(operation['x-error-codes'].map((code) => String(STATUS_OF_CODE[code as keyof typeof STATUS_OF_CODE])));
        for (const status of Object.keys(operation.responses)) if (Number(status) >= 400) expect(statuses).toContain(status);
      }
    }
    // Report type and onset come from the certificate: these two key rules cannot be broken through the API.
    expect(ERROR_CODES.filter((code) => !used.has(code))).toEqual(['report_type_invalid', 'days_since_onset_invalid']);
  });

  it('states the limits the code enforces', () => {
    expect(document.info.description).toContain(`${MAX_BODY_BYTES} bytes`);
    expect(document.info.description).toContain(`multiple of ${RESPONSE_BLOCK_BYTES} bytes`);
    expect(document.components.schemas.PublishRequest.properties?.temporaryExposureKeys.maxItems).toBe(MAX_KEYS_PER_UPLOAD);
    const keyChars = Buffer.alloc(KEY_LENGTH).toString('base64').length;
    expect(document.components.schemas.ExposureKey.properties?.key).toMatchObject({ minLength: keyChars, maxLength: keyChars });
  });

  it('describes exactly the fields the publish request parser accepts', () => {
    expect(Object.keys(document.components.schemas.PublishRequest.properties ?? {}).sort()).toEqual([...PUBLISH_REQUEST_FIELDS].sort());
    expect(Object.keys(document.components.schemas.ExposureKey.properties ?? {}).sort()).toEqual([...PUBLISH_KEY_FIELDS].sort());
  });
});
