/**
 * A TCP pass-through on loopback that a drill or a test can switch off and on, or freeze. Off
 * closes every connection and refuses new ones (the service is unreachable); on listens again on
 * the same port. Frozen, it forwards nothing either way while keeping every connection open and
 * accepting new ones: the service is there but silent, as a stalled storage front end or a
 * network partition looks to a client, which only a time bound ends. Thawed, it forwards what was
 * held and goes on. `freezeWhen` freezes on the first client bytes that match, before forwarding
 * them: a dependency frozen mid-operation, right at the request a test names. It stands in front
 * of the in-memory Cosmos emulator (which would lose its data if it were stopped) and of Azurite.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { LOOPBACK } from '../../local-stack/ports';

/** One direction of a connection: bytes read from `from` while frozen wait in `held` for the thaw. */
interface Flow {
  from: Socket;
  to: Socket;
  held: Buffer[];
  /** Client to service (a trigger looks at these bytes). */
  upstream: boolean;
  /** `from` ended while frozen: `to` ends after the thaw's flush. */
  ended?: boolean;
}

export class TcpSwitch {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly flows = new Set<Flow>();
  private frozen = false;
  private trigger: { match: (bytes: Buffer) => boolean; froze: () => void } | undefined;
  port = 0;

  constructor(private readonly targetPort: number) {}

  /** Whether the switch holds every byte (see `freeze`). */
  get isFrozen(): boolean {
    return this.frozen;
  }

  async on(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, LOOPBACK);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      const flows: Flow[] = [
        { from: client, to: upstream, held: [], upstream: true },
        { from: upstream, to: client, held: [], upstream: false },
      ];
      for (const flow of flows) this.forward(flow);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => {
        client.destroy();
        for (const flow of flows) this.flows.delete(flow);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, LOOPBACK, () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  private forward(flow: Flow): void {
    this.flows.add(flow);
    const { from, to } = flow;
    if (this.frozen) from.pause();
    from.on('data', (bytes: Buffer) => {
      if (flow.upstream && !this.frozen && this.trigger?.match(bytes)) {
        const { froze } = this.trigger;
        this.trigger = undefined;
        this.freeze();
        froze();
      }
      if (this.frozen) {
        // Read before the pause took hold: kept, in order, for the thaw.
        flow.held.push(bytes);
        from.pause();
        return;
      }
      if (!to.write(bytes)) {
        from.pause();
        to.once('drain', () => {
          if (!this.frozen) from.resume();
        });
      }
    });
    from.on('end', () => {
      if (this.frozen) flow.ended = true;
      else to.end();
    });
  }

  /** Stops forwarding on every connection, open or new, until `thaw`; nothing is closed. */
  freeze(): void {
    this.frozen = true;
    for (const flow of this.flows) flow.from.pause();
  }

  /** Forwards what was held and goes on forwarding. */
  thaw(): void {
    this.frozen = false;
    for (const flow of this.flows) {
      for (const bytes of flow.held.splice(0)) flow.to.write(bytes);
      if (flow.ended) flow.to.end();
      flow.from.resume();
    }
  }

  /** Freezes on the first client bytes for which `match` holds, before they go on; resolves once frozen. */
  freezeWhen(match: (bytes: Buffer) => boolean): Promise<void> {
    return new Promise((resolve) => {
      this.trigger = { match, froze: resolve };
    });
  }

  async off(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.flows.clear();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
