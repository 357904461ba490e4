import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/** A TCP port free on `host` right now. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const tcp = createServer();
    tcp.once('error', () => resolve(false));
    tcp.listen(port, host, () => {
      const udp = createSocket('udp4');
      udp.once('error', () => tcp.close(() => resolve(false)));
      udp.bind(port, host, () => udp.close(() => tcp.close(() => resolve(true))));
    });
  });
}

/** A base port such that base..base+count-1 are free for both UDP and TCP on `host`. */
export async function freePortRange(count: number, host = '127.0.0.1', preferred = 40000): Promise<number> {
  for (let base = preferred; base < 65000 - count; base += count + Math.floor(Math.random() * 50)) {
    let ok = true;
    for (let i = 0; i < count && ok; i++) ok = await canBind(base + i, host);
    if (ok) return base;
  }
  throw new Error(`no ${count} free UDP+TCP ports on ${host}`);
}
