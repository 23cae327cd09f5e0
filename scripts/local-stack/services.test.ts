import { STACK_PORTS, type PortName } from './config';
import { STACK_SERVICES } from './services';

describe('the typed description of the local stack', () => {
  it('starts every service after the services whose stack.json entries it needs', () => {
    const provided = new Set<string>();
    for (const service of STACK_SERVICES) {
      for (const need of service.needs) expect({ service: service.name, need, provided: provided.has(need) }).toEqual({ service: service.name, need, provided: true });
      for (const entry of service.provides) provided.add(entry);
    }
  });

  it('gives every port setting exactly one service, the one the settings table names', () => {
    const owners = STACK_SERVICES.flatMap((service) => service.ports.map((port) => [port, service.name] as const));
    expect(owners.map(([port]) => port).sort()).toEqual((Object.keys(STACK_PORTS) as PortName[]).sort());
    for (const [port, service] of owners) expect([port, STACK_PORTS[port].service]).toEqual([port, service]);
  });

  it('names each service once', () => {
    const names = STACK_SERVICES.map((service) => service.name);
    expect(new Set(names).size).toBe(names.length);
  });
});
