import { joinThroughControlPlane, type Placed } from '@kaskade/load-tools';
import { type LocalMesh, startLocalMesh } from '@kaskade/local-mesh';
import { Bus } from '@kaskade/node-toolkit';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_CONTROL_PLANE_ENV, FAST_MESH_ENV } from '../helpers/mesh.ts';
import { scrapeMetric } from '../helpers/metrics.ts';

// Room actions asked over signaling: the edge checks the moderate grant and forwards to
// the control plane, which checks the edge hosts the moderator, then executes. lockRoom
// (protocol/moderation.ts; answers {}) stands for every action: the plumbing is the same.
const ROOM = 'act-room';
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'answered',
    (e: { code: string }) => e.code,
  );

describe('room actions from moderators, over a real two-region mesh', () => {
  let mesh: LocalMesh;
  const bots: Placed[] = [];
  beforeAll(async () => {
    mesh = await startLocalMesh({ edgeEnv: FAST_MESH_ENV, controlPlaneEnv: FAST_CONTROL_PLANE_ENV });
  }, 60_000);
  afterAll(async () => {
    for (const { bot } of bots) await bot.close().catch(() => undefined);
    await mesh?.stop();
  });
  const join = async (identity: string, region: string, moderate: boolean) => {
    const placed = await joinThroughControlPlane(mesh.controlPlane.url, mesh.appJwtSecret, identity, ROOM, {
      region,
      grants: { publish: true, subscribe: true, moderate },
    });
    bots.push(placed);
    return placed;
  };
  const executed = (result: string) =>
    scrapeMetric(mesh.controlPlane.operatorUrl, mesh.operatorToken, 'kaskade_room_actions_total', {
      action: 'lockRoom',
      result,
    });

  it('a participant without the grant is FORBIDDEN at its edge; a moderator’s action reaches the executor', async () => {
    const host = await join('host', 'eu', true);
    const guest = await join('guest', 'us', false);
    expect(host.nodeId).not.toBe(guest.nodeId);
    expect(await code(guest.bot.channel.request('lockRoom', { locked: false }))).toBe('FORBIDDEN');
    expect(await executed('ok')).toBe(0);
    expect(await guest.bot.channel.request('getRouterRtpCapabilities', {})).toHaveProperty('rtpCapabilities'); // still usable
    expect(await host.bot.channel.request('lockRoom', { locked: false })).toEqual({});
    expect(await executed('ok')).toBe(1);
    // Bad parameters are refused by the edge's schema check before anything is sent.
    expect(await code(host.bot.channel.request('lockRoom', { locked: 'yes' } as never))).toBe('BAD_REQUEST');
    expect(await executed('refused')).toBe(0);
  });

  it('an edge cannot act in the name of a moderator it does not host', async () => {
    const host = bots[0]!;
    const otherEdge = mesh.edges.find((e) => e.nodeId !== host.nodeId)!.nodeId;
    const bus = await Bus.connect(mesh.nats!.settingsFor(otherEdge), otherEdge, pino({ level: 'silent' }));
    try {
      const asked = bus.controlRpc('room.act', {
        room: ROOM,
        by: host.bot.id,
        action: 'lockRoom',
        params: {},
      });
      expect(await code(asked)).toBe('FORBIDDEN');
      // From the moderator's own edge, bad parameters are the control plane's BAD_REQUEST.
      const own = await Bus.connect(
        mesh.nats!.settingsFor(host.nodeId),
        host.nodeId,
        pino({ level: 'silent' }),
      );
      try {
        const bad = own.controlRpc('room.act', {
          room: ROOM,
          by: host.bot.id,
          action: 'lockRoom',
          params: {},
        });
        expect(await code(bad)).toBe('BAD_REQUEST');
      } finally {
        await own.close();
      }
    } finally {
      await bus.close();
    }
    expect(await executed('ok')).toBe(1);
  });
});
