import { connect as tcpConnect } from 'node:net';
import { Subjects } from '@kaskade/protocol';
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/edge.ts';
import { ATTACKER_URL, attacker, forgedHeartbeat, ROOM, useHostileBusMesh } from '../helpers/hostile-bus.ts';
import { scrapeMetric } from '../helpers/metrics.ts';

// An attacker on the NATS bus of a running mesh, at the level of nodes: connections, node
// heartbeats and deaths, pipe links. (Room events and sessions: hostile-bus-rooms.test.ts.)
const hostile = useHostileBusMesh();
const { credentialsOf, edge, everyoneReceives, placements, refusedNodes } = hostile;

describe('an attacker on the NATS bus of a running mesh: nodes and links', () => {
  it('a connection without credentials is refused by nats-server', async () => {
    const { natsUser: _u, natsPassword: _p, ...anonymous } = credentialsOf('edge-eu-1');
    await expect(attacker(anonymous, 'anonymous')).rejects.toThrow(/authoriz/i);
    const wrong = { ...credentialsOf('edge-eu-1'), natsPassword: 'not-the-password' };
    await expect(attacker(wrong, 'guesser')).rejects.toThrow(/authoriz/i);
    await everyoneReceives();
  });

  it('a connection without TLS is refused by nats-server, even with good credentials', async () => {
    const { natsUser, natsPassword } = credentialsOf('edge-eu-1');
    // Plain text straight on the socket: what a client that skips TLS sends.
    const { text, closedByServer } = await new Promise<{ text: string; closedByServer: boolean }>(
      (resolve, reject) => {
        const socket = tcpConnect(hostile.mesh.nats!.port, '127.0.0.1');
        let text = '';
        let sent = false;
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => {
          text += chunk;
          if (sent) return;
          sent = true;
          socket.write(
            `CONNECT ${JSON.stringify({ user: natsUser, pass: natsPassword, verbose: true })}\r\nPING\r\n`,
          );
        });
        const timer = setTimeout(() => {
          socket.destroy();
          resolve({ text, closedByServer: false });
        }, 5000);
        socket.on('close', () => {
          clearTimeout(timer);
          resolve({ text, closedByServer: true });
        });
        socket.on('error', reject);
      },
    );
    expect(text).toMatch(/^INFO .*"tls_required":true/);
    // The server expects a TLS handshake and hangs up on the plain CONNECT: no +OK, no PONG.
    expect(text).not.toMatch(/\+OK|PONG/);
    expect(closedByServer).toBe(true);
    await everyoneReceives();
  });

  it('a forged heartbeat for a new node id is refused; placement never hands out its URL', async () => {
    const { nc, refusals } = await attacker(credentialsOf('edge-us-2'), 'edge-us-2');
    const subject = Subjects.heartbeat('edge-eu-9');
    const timer = setInterval(() => nc.publish(subject, JSON.stringify(forgedHeartbeat(ATTACKER_URL))), 100);
    try {
      await eventually(() => expect(refusals.join('\n')).toContain(`Publish to "${subject}"`));
      const urls = await placements(10);
      expect(urls).not.toContain(ATTACKER_URL);
      for (const url of urls) expect(hostile.mesh.edges.map((e) => e.url)).toContain(url);
    } finally {
      clearInterval(timer);
      await nc.close();
    }
    await everyoneReceives();
  });

  it('a forged heartbeat for an existing node: refused with another node’s credentials, ignored with its own', async () => {
    const other = await attacker(credentialsOf('edge-us-2'), 'edge-us-2');
    const own = await attacker(credentialsOf('edge-eu-2'), 'edge-eu-2');
    const subject = Subjects.heartbeat('edge-eu-2');
    // Claims an idle edge-eu-2 at the attacker's URL, many times a second.
    const timer = setInterval(() => {
      other.nc.publish(subject, JSON.stringify(forgedHeartbeat(ATTACKER_URL)));
      own.nc.publish(subject, JSON.stringify(forgedHeartbeat(ATTACKER_URL)));
    }, 50);
    try {
      await eventually(() => expect(other.refusals.join('\n')).toContain(`Publish to "${subject}"`));
      await new Promise((r) => setTimeout(r, 300));
      const urls = await placements(20);
      expect(urls).not.toContain(ATTACKER_URL);
      // The claimed edge is still placed, at the URL the operator configured for it.
      expect(urls).toContain(edge('edge-eu-2').url);
      for (const url of urls) expect(hostile.mesh.edges.map((e) => e.url)).toContain(url);
      expect(own.refusals).toEqual([]);
    } finally {
      clearInterval(timer);
      await other.nc.close();
      await own.nc.close();
    }
    await everyoneReceives();
  });

  it('a forged node-dead for the live origin, from a node’s credentials, is refused', async () => {
    const { nc, refusals } = await attacker(credentialsOf('edge-eu-1'), 'edge-eu-1');
    nc.publish(Subjects.nodeDead, JSON.stringify({ nodeId: 'edge-us-1', reason: 'forged' }));
    nc.publish(Subjects.nodeDead, JSON.stringify({ nodeId: 'relay-eu-1', reason: 'forged' }));
    await eventually(() => expect(refusals.join('\n')).toContain(`Publish to "${Subjects.nodeDead}"`));
    await nc.close();
    await everyoneReceives(50);
  });

  it('a forged pipe.closeLink claiming to be the relay is refused; the region keeps its stream', async () => {
    const { nc, refusals } = await attacker(credentialsOf('edge-us-2'), 'edge-us-2');
    for (const target of ['edge-eu-1', 'edge-eu-2']) {
      const subject = Subjects.nodeRpc(target, 'pipe.closeLink', 'relay-eu-1');
      await expect(nc.request(subject, JSON.stringify({ room: ROOM }), { timeout: 1500 })).rejects.toThrow();
      await eventually(() => expect(refusals.join('\n')).toContain(`Publish to "${subject}"`));
    }
    // The relay's own credentials cannot be borrowed without its password either.
    const guessed = { ...credentialsOf('relay-eu-1'), natsPassword: credentialsOf('edge-us-2').natsPassword };
    await expect(attacker(guessed, 'relay-eu-1')).rejects.toThrow(/authoriz/i);
    await nc.close();
    await everyoneReceives(50);
  });

  it('pipe.openLink/consume without node credentials, or claiming another node, get no SRTP key', async () => {
    const endpoint = {
      ip: '127.0.0.1',
      port: 9,
      srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: Buffer.alloc(44).toString('base64') },
    };
    const openLink = JSON.stringify({ room: ROOM, region: 'eu', endpoint });
    // The control plane's credentials are not a node's: they may not ask for pipes at all.
    const cp = await attacker(credentialsOf('control-plane'), 'control-plane');
    const asCp = Subjects.nodeRpc('edge-us-1', 'pipe.openLink', 'control-plane');
    await expect(cp.nc.request(asCp, openLink, { timeout: 1500 })).rejects.toThrow();
    await eventually(() => expect(cp.refusals.join('\n')).toContain(`Publish to "${asCp}"`));
    await cp.nc.close();

    const node = await attacker(credentialsOf('edge-us-2'), 'edge-us-2');
    // Claiming to be edge-eu-1 in the subject: refused.
    for (const method of ['pipe.openLink', 'pipe.consume'] as const) {
      const subject = Subjects.nodeRpc('edge-us-1', method, 'edge-eu-1');
      const body =
        method === 'pipe.openLink' ? openLink : JSON.stringify({ room: ROOM, producerId: hostile.mic });
      await expect(node.nc.request(subject, body, { timeout: 1500 })).rejects.toThrow();
      await eventually(() => expect(node.refusals.join('\n')).toContain(`Publish to "${subject}"`));
    }
    // Listening where edge-eu-1's answers arrive: refused.
    node.nc.subscribe(`${Subjects.inboxPrefix('edge-eu-1')}.>`);
    await eventually(() =>
      expect(node.refusals.join('\n')).toContain(`Subscription to "${Subjects.inboxPrefix('edge-eu-1')}.>"`),
    );
    // Its own subject but the answer addressed to edge-eu-1's inbox: the origin drops it unanswered.
    const dropped = () =>
      scrapeMetric(
        edge('edge-us-1').operatorUrl,
        hostile.mesh.operatorToken,
        'kaskade_nats_malformed_messages_total',
      );
    const before = await dropped();
    node.nc.publish(Subjects.nodeRpc('edge-us-1', 'pipe.openLink', 'edge-us-2'), openLink, {
      reply: `${Subjects.inboxPrefix('edge-eu-1')}.stolen`,
    });
    await eventually(async () => expect(await dropped()).toBe(before + 1));
    await node.nc.close();
    await everyoneReceives(50);
  });

  it('the nodes themselves were never refused anything: their permissions cover what they do', () => {
    expect(refusedNodes).toEqual([]);
  });
});
