import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { EXPORT_PROTO_JSON } from './export-schema-json';

describe('EXPORT_PROTO_JSON', () => {
  it('is export.proto as a protobufjs descriptor (regenerate it from export.proto when this fails)', () => {
    const fromProto = protobuf.loadSync(path.join(__dirname, 'export.proto')).toJSON();
    expect(JSON.parse(JSON.stringify(EXPORT_PROTO_JSON))).toEqual(JSON.parse(JSON.stringify(fromProto)));
  });
});
