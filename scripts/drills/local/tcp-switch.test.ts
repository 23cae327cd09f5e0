import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { TcpSwitch } from './tcp-switch';

/** A service that answers every chunk with `ok:<chunk>`. */
let service: Server;
let tcpSwitch: TcpSwitch;

beforeAll(async () => {
  service = createServer((socket) => socket.on('data', (bytes) => socket.write(`ok:${bytes.toString()}`)));
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', () => resolve()));
  tcpSwitch = new TcpSwitch((service.address() as AddressInfo).port);
  await tcpSwitch.on();
});

afterAll(async () => {
  await tcpSwitch.off();
  await new Promise((resolve) => service.close(resolve));
});

afterEach(() => tcpSwitch.thaw());

/** A client of the switch and what it has received so far. */
async function client(): Promise<{ socket: Socket; received: () => string }> {
  const socket = connect(tcpSwitch.port, '127.0.0.1');
  let received = '';
  socket.on('data', (bytes) => (received += bytes.toString()));
  await new Promise((resolve) => socket.once('connect', resolve));
  return { socket, received: () => received };
}

const settle = (ms = 150) => new Promise((resolve) => setTimeout(resolve, ms));

it('forwards both ways while on', async () => {
  const c = await client();
  c.socket.write('a');
  await settle();
  expect(c.received()).toBe('ok:a');
  c.socket.destroy();
});

it('frozen, forwards nothing either way and closes nothing; thawed, delivers what it held in order', async () => {
  const c = await client();
  tcpSwitch.freeze();
  c.socket.write('b');
  await settle();
  expect(c.received()).toBe('');
  expect(c.socket.destroyed).toBe(false);
  // A new connection is accepted (the service looks there) but just as silent.
  const late = await client();
  late.socket.write('c');
  await settle();
  expect(late.received()).toBe('');
  tcpSwitch.thaw();
  await settle();
  expect(c.received()).toBe('ok:b');
  expect(late.received()).toBe('ok:c');
  c.socket.destroy();
  late.socket.destroy();
});

it('freezeWhen freezes on the first matching client bytes, before they reach the service', async () => {
  const c = await client();
  const frozen = tcpSwitch.freezeWhen((bytes) => bytes.includes('PUT '));
  c.socket.write('GET /');
  await settle();
  expect(c.received()).toBe('ok:GET /');
  c.socket.write('PUT /exports/x.zip');
  await frozen;
  await settle();
  expect(tcpSwitch.isFrozen).toBe(true);
  expect(c.received()).toBe('ok:GET /');
  tcpSwitch.thaw();
  await settle();
  expect(c.received()).toBe('ok:GET /ok:PUT /exports/x.zip');
  c.socket.destroy();
});

it('off refuses connections; on listens again on the same port', async () => {
  const port = tcpSwitch.port;
  await tcpSwitch.off();
  const refused = await new Promise<string>((resolve) => connect(port, '127.0.0.1').once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? '')));
  expect(refused).toBe('ECONNREFUSED');
  await tcpSwitch.on();
  expect(tcpSwitch.port).toBe(port);
  const c = await client();
  c.socket.write('d');
  await settle();
  expect(c.received()).toBe('ok:d');
  c.socket.destroy();
});
