import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Directory } from '@kaskade/directory';
import type { ReceivedStream } from '@kaskade/load-tools';
import {
  type LocalMesh,
  type MeshEdge,
  makeServerCertificate,
  operatorFetch,
  startLocalMesh,
  startRedis,
} from '@kaskade/local-mesh';
import { redisCaProblems } from '@kaskade/node-toolkit';
import type { MeshParticipant } from '@kaskade/protocol';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/edge.ts';
import { joinThroughControlPlane, type Placed } from '../helpers/mesh.ts';

// What an operator deploys, on a real local mesh (control plane, two edges and a relay
// as processes, nats-server, redis-server with an ACL user): the operator API behind
// its token, the public listeners without it, Redis keys that all expire and a Redis
// that refuses strangers, and UDP ports only in the ranges a firewall was told about.
const PIPE_PORTS = { min: 45_000, max: 45_019 };
const PLAIN_PORTS = { min: 45_100, max: 45_119 };

let mesh: LocalMesh;
const bots: Placed[] = [];
let streams: ReceivedStream[] = [];

beforeAll(async () => {
  mesh = await startLocalMesh({
    regions: { eu: '127.0.1' },
    relaysPerRegion: 1,
    edgeEnv: {
      KASKADE_ALLOW_PLAIN_RTP: 'true',
      KASKADE_NODE_CAPACITY: '1', // the presenter on one edge, the viewer on the other: a pipe between
      KASKADE_PIPE_PORT_MIN: String(PIPE_PORTS.min),
      KASKADE_PIPE_PORT_MAX: String(PIPE_PORTS.max),
      KASKADE_PLAIN_PORT_MIN: String(PLAIN_PORTS.min),
      KASKADE_PLAIN_PORT_MAX: String(PLAIN_PORTS.max),
      KASKADE_HEARTBEAT_MS: '500',
      // Info, not warn: its stop has needed SIGKILL in CI, and the local mesh then says the
      // last lines a process wrote (its drain steps among them).
      KASKADE_LOG_LEVEL: 'info',
    },
    controlPlaneEnv: { KASKADE_LOG_LEVEL: 'warn' },
  });
  // A small meeting across both edges, so the directory, the pipes and the plain transports are in use.
  const presenter = await joinThroughControlPlane(mesh, 'presenter', 'ops-room', 'eu');
  bots.push(presenter);
  const mic = await presenter.bot.publish('microphone');
  const viewer = await joinThroughControlPlane(mesh, 'viewer', 'ops-room', 'eu');
  bots.push(viewer);
  expect(viewer.nodeId).not.toBe(presenter.nodeId);
  streams = [await viewer.bot.consume({ producerId: mic })];
  await eventually(() => expect(streams[0]!.packets).toBeGreaterThan(20), 10_000);
}, 90_000);
afterAll(async () => {
  for (const { bot } of bots) await bot.close().catch(() => undefined);
  await mesh?.stop();
});

/** Every process of the mesh with the operator routes it serves. */
function processes(): { name: string; url: string; operatorUrl: string; routes: string[] }[] {
  const media = (n: MeshEdge) => ({ name: n.nodeId, url: n.url, operatorUrl: n.operatorUrl });
  return [
    {
      name: 'control-plane',
      url: mesh.controlPlane.url,
      operatorUrl: mesh.controlPlane.operatorUrl,
      routes: ['/metrics', '/v1/nodes', '/v1/rooms', '/v1/rooms/ops-room/participants'],
    },
    ...mesh.edges.map((e) => ({ ...media(e), routes: ['/metrics', '/v1/node'] })),
    ...mesh.relays.map((r) => ({ ...media(r), routes: ['/metrics', '/v1/node'] })),
  ];
}

describe('the operator API', () => {
  it('answers 401 with the typed error body without the token or with a wrong one, 200 with it, in every process', async () => {
    expect(processes()).toHaveLength(4);
    for (const p of processes()) {
      for (const route of p.routes) {
        const anonymous = await fetch(`${p.operatorUrl}${route}`);
        expect(anonymous.status, `${p.name} ${route} without token`).toBe(401);
        expect(await anonymous.json()).toEqual({ code: 'UNAUTHORIZED', message: expect.any(String) });
        for (const wrong of ['x'.repeat(48), `${mesh.operatorToken}x`, mesh.operatorToken.slice(0, -1)]) {
          const refused = await operatorFetch(p.operatorUrl, wrong, route);
          expect(refused.status, `${p.name} ${route} with a wrong token`).toBe(401);
          expect(((await refused.json()) as { code: string }).code).toBe('UNAUTHORIZED');
        }
        // The token without the Bearer scheme, or with more after it, is not it either.
        const header = async (authorization: string) =>
          (await fetch(`${p.operatorUrl}${route}`, { headers: { authorization } })).status;
        expect(await header(mesh.operatorToken)).toBe(401);
        expect(await header(`Basic ${mesh.operatorToken}`)).toBe(401);
        expect(await header(`Bearer ${mesh.operatorToken} ${mesh.operatorToken}`)).toBe(401);
        expect(await header(`bearer ${mesh.operatorToken}`)).toBe(200); // the scheme is case-insensitive
        const allowed = await operatorFetch(p.operatorUrl, mesh.operatorToken, route);
        expect(allowed.status, `${p.name} ${route} with the token`).toBe(200);
        const body = await allowed.text();
        if (route === '/metrics') expect(body).toMatch(/^kaskade_process_start_time_seconds\{/m);
      }
      // An unknown route is refused before it is looked up: no probing without the token.
      expect((await fetch(`${p.operatorUrl}/v1/nope`)).status).toBe(401);
      const unknown = await operatorFetch(p.operatorUrl, mesh.operatorToken, '/v1/nope');
      expect(unknown.status).toBe(404);
      expect(((await unknown.json()) as { code: string }).code).toBe('NOT_FOUND');
    }
  });

  it('shows what operators need: nodes, rooms, participants, censuses', async () => {
    const get = async <T>(url: string, path: string) =>
      (await (await operatorFetch(url, mesh.operatorToken, path)).json()) as T;
    const cp = mesh.controlPlane.operatorUrl;
    const { nodes } = await get<{ nodes: { nodeId: string }[] }>(cp, '/v1/nodes');
    expect(nodes.map((n) => n.nodeId).sort()).toEqual(['edge-eu-1', 'edge-eu-2', 'relay-eu-1']);
    expect(await get(cp, '/v1/rooms')).toEqual({ rooms: ['ops-room'] });
    const room = await get<{ participants: { identity: string }[] }>(cp, '/v1/rooms/ops-room/participants');
    expect(room.participants.map((p) => p.identity).sort()).toEqual(['presenter', 'viewer']);
    const bad = await operatorFetch(cp, mesh.operatorToken, '/v1/rooms/bad.room/participants');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('BAD_REQUEST');
    for (const edge of mesh.edges) {
      const view = await get<{ nodeId: string; participants: number; links: unknown[] }>(
        edge.operatorUrl,
        '/v1/node',
      );
      expect(view).toMatchObject({ nodeId: edge.nodeId, participants: 1 });
      expect(view.links).toHaveLength(1);
    }
  });

  it('is not on the public listeners, which keep health (and join or signaling) only', async () => {
    for (const p of processes()) {
      for (const route of [...p.routes, '/v1/node', '/v1/nodes', '/v1/rooms']) {
        const answer = await fetch(`${p.url}${route}`, {
          headers: { authorization: `Bearer ${mesh.operatorToken}` },
        });
        expect(answer.status, `${p.name} public ${route}`).toBe(404);
      }
      expect((await fetch(`${p.url}/livez`)).status).toBe(200);
      const ready = await fetch(`${p.url}/readyz`);
      expect(ready.status, `${p.name} /readyz`).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready' });
    }
    // The operator listener is a different port from the public one everywhere.
    for (const p of processes()) expect(new URL(p.operatorUrl).port).not.toBe(new URL(p.url).port);
  });
});

describe('Redis', () => {
  it('every key the directory writes expires', async () => {
    const directory = new Directory(mesh.redisUrl, pino({ level: 'silent' }));
    try {
      // The room's hashes, each node's room list and the room index, at least.
      const room = await directory.keys({ room: 'ops-room' });
      expect(room.map((k) => k.part)).toEqual(
        expect.arrayContaining(['index', 'participants', 'streams', 'nodes']),
      );
      const nodes = [
        ...(await directory.keys({ node: 'edge-eu-1' })),
        ...(await directory.keys({ node: 'edge-eu-2' })),
      ];
      expect(nodes.filter((k) => k.part === 'rooms')).toHaveLength(2);
      const keys = await directory.keys();
      expect(keys.map((k) => k.key)).toEqual(expect.arrayContaining([...room, ...nodes].map((k) => k.key)));
      for (const { key, ttlSeconds } of keys) expect(ttlSeconds, key).toBeGreaterThan(0);
    } finally {
      await directory.close();
    }
  });

  it('a room whose nodes stopped refreshing it (they crashed) leaves the index by itself; others stay', async () => {
    const directory = new Directory(mesh.redisUrl, pino({ level: 'silent' }), { ttlSeconds: 1 });
    try {
      const ghost: MeshParticipant = {
        id: 'ghost-1',
        identity: 'ghost',
        name: 'Ghost',
        node: 'ghost-node',
        role: 'stage',
      };
      await directory.addParticipant('ghost-room', ghost);
      expect(await directory.rooms()).toEqual(['ghost-room', 'ops-room']);
      await eventually(async () => expect(await directory.rooms()).toEqual(['ops-room']), 5000);
      await eventually(async () => {
        const ghostRoom = await directory.keys({ room: 'ghost-room' });
        expect([
          ...ghostRoom.filter((k) => k.part !== 'index'),
          ...(await directory.keys({ node: 'ghost-node' })),
        ]).toEqual([]);
      }, 3000);
      // The short TTL never shortened the index's: the live room keeps it.
      const index = (await directory.keys({ room: 'ops-room' })).find((k) => k.part === 'index');
      expect(index?.ttlSeconds).toBeGreaterThan(1);
      // The ghost room left the index itself, not only the rooms that count as live.
      await eventually(async () => expect(await directory.keys({ room: 'ghost-room' })).toEqual([]));
    } finally {
      await directory.close();
    }
  });

  it('refuses a connection without the password, with a wrong one, and as the default user', async () => {
    const { port, password } = mesh.redis!;
    // Plain RESP over TCP, so the refusal is what the server itself answers.
    const ask = (...commands: string[]) =>
      new Promise<string[]>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () =>
          socket.write(commands.map((c) => `${c}\r\n`).join('')),
        );
        let answer = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk) => {
          answer += chunk;
          const lines = answer.split('\r\n').filter(Boolean);
          if (lines.length >= commands.length) {
            socket.destroy();
            resolve(lines);
          }
        });
        socket.on('error', reject);
      });
    expect(await ask('GET kaskade:probe')).toEqual([expect.stringMatching(/^-NOAUTH/)]);
    expect(await ask('AUTH kaskade wrong-password', 'GET kaskade:probe')).toEqual([
      expect.stringMatching(/^-WRONGPASS/),
      expect.stringMatching(/^-NOAUTH/),
    ]);
    expect(await ask(`AUTH default ${password}`, `AUTH ${password}`)).toEqual([
      expect.stringMatching(/^-WRONGPASS/),
      expect.stringMatching(/^-WRONGPASS/),
    ]);
    expect(await ask(`AUTH kaskade ${password}`, 'PING')).toEqual(['+OK', '+PONG']);
    // The kaskade user reaches only kaskade:* keys and no admin commands.
    const client = new Redis(mesh.redisUrl);
    try {
      await expect(client.set('other-app:key', '1')).rejects.toThrow(/NOPERM/);
      await expect(client.config('GET', 'dir')).rejects.toThrow(/NOPERM/);
    } finally {
      client.quit();
    }
  });
});

describe('Redis over TLS', () => {
  it('rediss:// with the CA file works; without the CA, or in plain text, the server is not reached', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kaskade-redis-tls-'));
    const certificate = makeServerCertificate(dir);
    const redis = await startRedis(undefined, undefined, certificate);
    const quiet = pino({ level: 'silent' });
    try {
      expect(redis.url).toMatch(/^rediss:\/\/kaskade:/);
      const trusted = new Directory(redis.url, quiet, { caFile: certificate.caFile });
      try {
        await trusted.addParticipant('tls-room', {
          id: 'p1',
          identity: 'alice',
          name: 'Alice',
          node: 'edge-tls',
          role: 'stage',
        });
        expect(await trusted.rooms()).toEqual(['tls-room']);
        expect(trusted.status).toBe('ready');
      } finally {
        await trusted.close();
      }
      // The server's certificate is not signed by a system CA: refused without the CA file.
      const untrusted = new Directory(redis.url, quiet);
      try {
        await expect(untrusted.rooms()).rejects.toThrow();
        expect(untrusted.status).not.toBe('ready');
      } finally {
        await untrusted.close();
      }
      // Plain text to the TLS port gets nowhere either.
      const plain = new Directory(redis.url.replace('rediss://', 'redis://'), quiet);
      try {
        await expect(plain.rooms()).rejects.toThrow();
      } finally {
        await plain.close();
      }
      // A CA file for a plain redis:// URL is a configuration mistake, said when the config loads.
      expect(redisCaProblems('redis://127.0.0.1:1', certificate.caFile)).toEqual([
        expect.stringMatching(/not rediss:\/\//),
      ]);
      expect(redisCaProblems(redis.url, certificate.caFile)).toEqual([]);
    } finally {
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The UDP ports bound on one IPv4 address in this network namespace, from the kernel's table. */
function udpPortsOn(ip: string): number[] {
  const hex = ip
    .split('.')
    .map((b) => Number(b).toString(16).padStart(2, '0').toUpperCase())
    .reverse()
    .join('');
  return readFileSync('/proc/net/udp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/)[1])
    .filter((local): local is string => local?.startsWith(`${hex}:`) ?? false)
    .map((local) => Number.parseInt(local.split(':')[1]!, 16));
}

describe('UDP ports', () => {
  it('pipe and plain transports listen only in their configured ranges', async () => {
    const inRange = (port: number, range: { min: number; max: number }) =>
      port >= range.min && port <= range.max;
    for (const edge of mesh.edges) {
      const ports = udpPortsOn(edge.host);
      // Each edge has its pipe to the other and its participant's plain transports.
      expect(
        ports.filter((p) => inRange(p, PIPE_PORTS)),
        edge.nodeId,
      ).toHaveLength(1);
      expect(ports.filter((p) => inRange(p, PLAIN_PORTS)).length, edge.nodeId).toBeGreaterThanOrEqual(1);
      // Anything else is the WebRtcServer's one port (one worker), below both ranges.
      const others = ports.filter((p) => !inRange(p, PIPE_PORTS) && !inRange(p, PLAIN_PORTS));
      expect(others, edge.nodeId).toHaveLength(1);
      expect(others[0]).toBeLessThan(PIPE_PORTS.min);
    }
    // The relay carries nothing here, so it holds no UDP port at all.
    expect(udpPortsOn(mesh.relays[0]!.host)).toEqual([]);
  });
});
