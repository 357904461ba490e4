import { loadControlPlaneConfig, place, trustedEdgeUrls } from '@kaskade/control-plane';
import { STAGE_SOURCES, stageGrants } from '@kaskade/edge';
import { busPermissions, natsServerConfig } from '@kaskade/local-mesh';
import { busSettingsProblems, ConfigError, connectionOptions } from '@kaskade/node-toolkit';
import { isInboxOf, NodeRpc, Subjects, senderOf } from '@kaskade/protocol';
import { loadRelayConfig } from '@kaskade/relay';
import { describe, expect, it } from 'vitest';
import { CONTROL_PLANE_BASE_ENV } from '../helpers/config-env.ts';
import { heartbeat } from '../helpers/heartbeats.ts';

/** NATS subject matching: `*` one token, `>` the rest. */
function matches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length || (p[i] !== '*' && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}
const allowed = (patterns: string[], subject: string) => patterns.some((p) => matches(p, subject));

describe('subjects carry their sender', () => {
  it('every subject a node publishes on ends with its id, and senderOf reads it back', () => {
    const published = [
      Subjects.nodeRpc('edge-b', 'pipe.openLink', 'edge-a'),
      Subjects.nodeRpc('edge-b', 'pipe.demand', 'edge-a'),
      Subjects.nodePipeEvents('edge-b', 'edge-a'),
      Subjects.roomEvents('room-1', 'edge-a'),
      Subjects.heartbeat('edge-a'),
    ];
    for (const subject of published) expect(senderOf(subject)).toBe('edge-a');
    expect(Subjects.nodeRpc('edge-b', 'pipe.consume', 'edge-a')).toBe(
      'kaskade.v1.node.edge-b.rpc.pipe.consume.edge-a',
    );
    expect(Subjects.heartbeat('relay-1')).toBe('kaskade.v1.nodes.heartbeat.relay-1');
  });

  it('a subject whose last token is no node id has no sender', () => {
    expect(senderOf(Subjects.nodeDead)).toBe('dead'); // a token, but node-dead is read without a sender
    expect(senderOf('kaskade.v1.nodes.heartbeat.*')).toBeUndefined();
    expect(senderOf('kaskade.v1.nodes.heartbeat.')).toBeUndefined();
    expect(senderOf(`kaskade.v1.nodes.heartbeat.${'x'.repeat(65)}`)).toBeUndefined();
  });

  it("a reply goes only under the sender's own inbox", () => {
    expect(isInboxOf('_INBOX_edge-a.abc.1', 'edge-a')).toBe(true);
    expect(isInboxOf('_INBOX_edge-ab.abc.1', 'edge-a')).toBe(false);
    expect(isInboxOf('_INBOX.abc.1', 'edge-a')).toBe(false);
    expect(isInboxOf(undefined, 'edge-a')).toBe(false);
    expect(connectionOptions({ natsUrl: 'tls://n:4222', natsInsecure: false }, 'edge-a').inboxPrefix).toBe(
      '_INBOX_edge-a',
    );
  });
});

describe('nats-server permissions from the subject builders', () => {
  const edge = busPermissions({ id: 'edge-a', role: 'edge' });
  const relay = busPermissions({ id: 'relay-a', role: 'relay' });
  const cp = busPermissions({ id: 'control-plane', role: 'control-plane' });

  it('a node publishes only as itself', () => {
    for (const method of Object.keys(NodeRpc) as (keyof typeof NodeRpc)[]) {
      expect(allowed(edge.publish, Subjects.nodeRpc('edge-b', method, 'edge-a'))).toBe(true);
      expect(allowed(edge.publish, Subjects.nodeRpc('edge-b', method, 'relay-a'))).toBe(false);
    }
    expect(allowed(edge.publish, Subjects.heartbeat('edge-a'))).toBe(true);
    expect(allowed(edge.publish, Subjects.heartbeat('edge-b'))).toBe(false);
    expect(allowed(edge.publish, Subjects.roomEvents('r', 'edge-a'))).toBe(true);
    expect(allowed(edge.publish, Subjects.roomEvents('r', 'edge-b'))).toBe(false);
    expect(allowed(edge.publish, Subjects.nodePipeEvents('edge-b', 'edge-b'))).toBe(false);
    expect(allowed(edge.publish, Subjects.nodeDead)).toBe(false);
  });

  it('a node hears its own requests and inbox only; relays have no room events; node-dead is the control plane’s', () => {
    expect(allowed(edge.subscribe, Subjects.nodeRpc('edge-a', 'pipe.consume', 'edge-b'))).toBe(true);
    expect(allowed(edge.subscribe, Subjects.nodeRpc('edge-b', 'pipe.consume', 'edge-a'))).toBe(false);
    expect(allowed(edge.subscribe, '_INBOX_edge-a.x.y')).toBe(true);
    expect(allowed(edge.subscribe, '_INBOX_edge-b.x.y')).toBe(false);
    expect(allowed(edge.subscribe, Subjects.nodeDead)).toBe(true);
    expect(allowed(relay.publish, Subjects.roomEvents('r', 'relay-a'))).toBe(false);
    expect(allowed(relay.subscribe, Subjects.roomEvents('r', 'edge-a'))).toBe(false);
    expect(cp.publish).toEqual([Subjects.nodeDead, Subjects.roomControl('*', 'control-plane')]);
    // Room control is the control plane's word: it speaks there as itself, edges only hear it.
    expect(allowed(cp.publish, Subjects.roomControl('r', 'control-plane'))).toBe(true);
    expect(allowed(cp.publish, Subjects.roomControl('r', 'edge-a'))).toBe(false);
    expect(allowed(edge.publish, Subjects.roomControl('r', 'edge-a'))).toBe(false);
    expect(allowed(edge.subscribe, Subjects.roomControl('r', 'control-plane'))).toBe(true);
    expect(allowed(relay.subscribe, Subjects.roomControl('r', 'control-plane'))).toBe(false);
    expect(allowed(cp.subscribe, Subjects.heartbeat('edge-a'))).toBe(true);
    expect(allowed(cp.publish, Subjects.nodeRpc('edge-a', 'pipe.openLink', 'control-plane'))).toBe(false);
  });

  it('the control plane hears every room’s events (for the webhooks) but cannot speak as an edge there', () => {
    expect(allowed(cp.subscribe, Subjects.roomEvents('r', 'edge-a'))).toBe(true);
    expect(allowed(cp.publish, Subjects.roomEvents('r', 'control-plane'))).toBe(false);
    expect(allowed(cp.publish, Subjects.roomEvents('r', 'edge-a'))).toBe(false);
    expect(allowed(relay.subscribe, Subjects.roomEvents('r', 'edge-a'))).toBe(false);
  });

  it('only edges ask the control plane for room actions, each as itself', () => {
    const act = (from: string) => Subjects.controlRpc('room.act', from);
    expect(allowed(edge.publish, act('edge-a'))).toBe(true);
    expect(allowed(edge.publish, act('edge-b'))).toBe(false);
    expect(allowed(relay.publish, act('relay-a'))).toBe(false);
    expect(allowed(cp.subscribe, act('edge-a'))).toBe(true);
  });

  it('only edges ask the control plane for migrations, each as itself; only the control plane hears them', () => {
    const ask = (from: string) => Subjects.controlRpc('migration.place', from);
    expect(senderOf(ask('edge-a'))).toBe('edge-a');
    expect(allowed(edge.publish, ask('edge-a'))).toBe(true);
    expect(allowed(edge.publish, ask('edge-b'))).toBe(false);
    expect(allowed(relay.publish, ask('relay-a'))).toBe(false);
    expect(allowed(cp.subscribe, ask('edge-a'))).toBe(true);
    expect(allowed(edge.subscribe, ask('edge-b'))).toBe(false);
    expect(cp.allowResponses).toBe(true);
  });

  it('the server configuration names every user with its permissions and the TLS files', () => {
    const text = natsServerConfig({
      host: '127.0.0.1',
      port: 4222,
      users: [{ id: 'edge-a', role: 'edge', user: 'edge-a', password: 'p"w' }],
      tls: { certFile: '/c.pem', keyFile: '/k.pem' },
    });
    expect(text).toContain('listen: "127.0.0.1:4222"');
    expect(text).toContain('"cert_file":"/c.pem"');
    expect(text).toContain('"password":"p\\"w"');
    expect(text).toContain('"allow_responses":true');
    expect(text).toContain(JSON.stringify(Subjects.heartbeat('edge-a')));
  });
});

describe('bus settings', () => {
  const secure = {
    natsUrl: 'tls://nats:4222',
    natsUser: 'edge-a',
    natsPassword: 'secret',
    natsInsecure: false,
  };

  it('accepts TLS with one kind of credential', () => {
    expect(busSettingsProblems(secure)).toEqual([]);
    expect(
      busSettingsProblems({ natsUrl: 'tls://n:4222', natsCredsFile: '/a.creds', natsInsecure: false }),
    ).toEqual([]);
    expect(
      busSettingsProblems({
        natsUrl: 'nats://n:4222',
        natsCaFile: '/ca.pem',
        natsCertFile: '/c.pem',
        natsKeyFile: '/k.pem',
        natsInsecure: false,
      }),
    ).toEqual([]);
  });

  it('refuses a shared token outside development: it gives every node the same identity', () => {
    const token = { natsUrl: 'tls://n:4222', natsToken: 't', natsInsecure: false };
    expect(busSettingsProblems(token)).toEqual([expect.stringMatching(/same identity.*INSECURE/)]);
    expect(busSettingsProblems({ ...token, natsInsecure: true })).toEqual([]);
  });

  it('refuses a bus without TLS or without credentials unless insecure', () => {
    const plain = busSettingsProblems({ ...secure, natsUrl: 'nats://nats:4222' });
    expect(plain).toEqual([expect.stringMatching(/needs TLS.*KASKADE_NATS_INSECURE/)]);
    const anonymous = busSettingsProblems({ natsUrl: 'tls://nats:4222', natsInsecure: false });
    expect(anonymous).toEqual([expect.stringMatching(/needs credentials/)]);
    expect(busSettingsProblems({ natsUrl: 'nats://nats:4222', natsInsecure: true })).toEqual([]);
  });

  it('refuses half a credential and two kinds at once, even when insecure', () => {
    expect(busSettingsProblems({ ...secure, natsPassword: undefined, natsInsecure: true })).toEqual([
      expect.stringMatching(/USER and KASKADE_NATS_PASSWORD go together/),
    ]);
    expect(busSettingsProblems({ ...secure, natsToken: 't', natsInsecure: true })).toEqual([
      expect.stringMatching(/one kind of NATS credential/),
    ]);
    expect(busSettingsProblems({ ...secure, natsCertFile: '/c.pem' })).toEqual([
      expect.stringMatching(/CERT_FILE and KASKADE_NATS_KEY_FILE go together/),
    ]);
  });

  it('a process refuses to start on an open bus (ConfigError, exit 78), and says how to allow it', () => {
    const env = { KASKADE_NATS_URL: 'nats://127.0.0.1:4222', KASKADE_OPERATOR_TOKEN: 'o'.repeat(32) };
    expect(() => loadRelayConfig(env)).toThrow(ConfigError);
    expect(() => loadRelayConfig(env)).toThrow(/needs TLS[\s\S]*needs credentials/);
    expect(loadRelayConfig({ ...env, KASKADE_NATS_INSECURE: 'true' }).natsInsecure).toBe(true);
    expect(() => loadRelayConfig({ KASKADE_NATS_URL: 'http://nats:4222' })).toThrow(/KASKADE_NATS_URL/);
  });

  it('TLS is required of the server whenever the settings ask for it', () => {
    expect(connectionOptions(secure, 'edge-a').tls).toEqual({});
    expect(connectionOptions(secure, 'edge-a').servers).toEqual(['nats:4222']);
    expect(connectionOptions({ natsUrl: 'nats://n:1', natsInsecure: true }, 'edge-a').tls).toBeUndefined();
  });
});

describe('trusted edge URLs', () => {
  const base = CONTROL_PLANE_BASE_ENV;

  it('parses the operator’s list of node id = URL', () => {
    const config = loadControlPlaneConfig({
      ...base,
      KASKADE_EDGE_URLS: 'edge-eu-1=https://eu1.example.org,edge-us-1=http://10.0.0.5:7880',
    });
    expect([...trustedEdgeUrls(config)!]).toEqual([
      ['edge-eu-1', 'https://eu1.example.org'],
      ['edge-us-1', 'http://10.0.0.5:7880'],
    ]);
    expect(trustedEdgeUrls(loadControlPlaneConfig(base))).toBeUndefined();
    expect(() => loadControlPlaneConfig({ ...base, KASKADE_EDGE_URLS: 'edge.eu=https://x' })).toThrow(
      /KASKADE_EDGE_URLS/,
    );
  });
});

describe('placement hands out trusted URLs only', () => {
  it('an edge without one (not in KASKADE_EDGE_URLS) is never placed, however idle it claims to be', () => {
    const node = (nodeId: string, url: string, load: number) => ({ ...heartbeat({ url, load }), nodeId });
    const nodes = [node('unlisted', '', 0), node('listed', 'https://eu1.example.org', 0.9)];
    const placement = place({ nodes, roomNodes: new Set(['unlisted']), region: 'eu' });
    expect(placement).toMatchObject({ ok: true, node: { nodeId: 'listed' } });
    expect(place({ nodes: [nodes[0]!], roomNodes: new Set() })).toEqual({ ok: false, reason: 'no-edges' });
  });
});

describe('the stage policy', () => {
  it('promotion grants the stage sources, or the token’s own, never more', () => {
    expect(stageGrants({ publish: false, subscribe: true })).toEqual({
      publish: true,
      subscribe: true,
      publishSources: [...STAGE_SOURCES],
    });
    expect(
      stageGrants({ publish: false, subscribe: true, publishSources: ['microphone'] }).publishSources,
    ).toEqual(['microphone']);
    const publisher = { publish: true, subscribe: true };
    expect(stageGrants(publisher)).toBe(publisher);
    expect(STAGE_SOURCES).not.toContain('screen_audio');
  });
});
