import { verifyRegistration } from '../register/secret';
import { createApiFixture } from '../../test/support/api-fixture';

describe('POST /api/v1/register', () => {
  const api = createApiFixture();

  it('answers 201 with a user UUID and a secret that the publish check accepts', async () => {
    const response = await api.invoke('register');
    expect(response.status).toBe(201);
    const { userUuid, secret } = response.json as { userUuid: string; secret: string };
    expect(verifyRegistration(api.config.registerKeys, userUuid, secret)).toBe(true);
    expect(response.text.length).toBe(1024);
  });

  it('accepts an empty JSON body or one with padding only', async () => {
    expect((await api.invoke('register', { body: {} })).status).toBe(201);
    expect((await api.invoke('register', { body: { padding: 'abc' } })).status).toBe(201);
  });

  it.each([
    ['an unknown field', { body: { deviceId: 'x' } }, 400, 'bad_request'],
    ['padding of the wrong type', { body: { padding: 1 } }, 400, 'bad_request'],
    ['a body that is not JSON', { body: 'x', headers: { 'content-type': 'application/json' } }, 400, 'bad_request'],
    ['a body that is not declared JSON', { body: '{}' }, 415, 'unsupported_media_type'],
    ['GET', { method: 'GET' }, 405, 'method_not_allowed'],
    ['no Front Door ID', { noFrontDoor: true }, 403, 'front_door_required'],
  ])('refuses %s', async (_name, request, status, code) => {
    const response = await api.invoke('register', request);
    expect([response.status, response.json.code]).toEqual([status, code]);
  });

  it('answers 404 where no register key is configured', async () => {
    const open = createApiFixture({ env: { KEYFRONT_REGISTRATION_REQUIRED: 'false', KEYFRONT_REGISTER_KEYS: '' } });
    expect((await open.invoke('register')).json.code).toBe('not_found');
  });
});
