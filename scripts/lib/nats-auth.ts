import { randomBytes } from 'node:crypto';
import { ControlRpc, type ControlRpcMethod, NodeRpc, type NodeRpcMethod, Subjects } from '@kaskade/protocol';

/**
 * nats-server authorization for a Kaskade mesh: one user per node identity, whose
 * permissions let it publish only subjects that end with its own id, so the sender a
 * receiver reads from a subject is the holder of that node's credentials.
 * nats-server 2.9 outside JWT mode has no permission templates, hence one user per
 * node, written out here from the same builders the processes use (Subjects).
 */
export type BusRole = 'edge' | 'relay' | 'control-plane';

export interface BusIdentity {
  id: string;
  role: BusRole;
}

export interface BusUser extends BusIdentity {
  user: string;
  password: string;
}

export interface BusPermissions {
  publish: string[];
  subscribe: string[];
  /** May answer requests it received (on their reply subject), once each. */
  allowResponses: boolean;
}

const methods = Object.keys(NodeRpc) as NodeRpcMethod[];
const controlMethods = Object.keys(ControlRpc) as ControlRpcMethod[];

/** What one identity may publish and subscribe to. */
export function busPermissions({ id, role }: BusIdentity): BusPermissions {
  if (role === 'control-plane') {
    // Hears every node, declares nodes dead, answers the control methods (migrations,
    // room actions), hears every room's events (the webhooks are made from them) and
    // speaks no node protocol. Its answers go only to the asking node's inbox (allow_responses).
    return {
      publish: [Subjects.nodeDead, Subjects.roomControl('*', id)],
      subscribe: [
        Subjects.heartbeat('*'),
        ...controlMethods.map((m) => Subjects.controlRpc(m, '*')),
        Subjects.roomEvents('*', '*'),
      ],
      allowResponses: true,
    };
  }
  const publish = [
    ...methods.map((m) => Subjects.nodeRpc('*', m, id)),
    Subjects.nodePipeEvents('*', id),
    Subjects.heartbeat(id),
  ];
  const subscribe = [
    ...methods.map((m) => Subjects.nodeRpc(id, m, '*')),
    Subjects.nodePipeEvents(id, '*'),
    Subjects.heartbeat('*'),
    Subjects.nodeDead,
    `${Subjects.inboxPrefix(id)}.>`,
  ];
  // Relays carry no participants: they neither tell nor hear room events, nor migrate anyone.
  if (role === 'edge') {
    publish.push(Subjects.roomEvents('*', id), ...controlMethods.map((m) => Subjects.controlRpc(m, id)));
    subscribe.push(Subjects.roomEvents('*', '*'), Subjects.roomControl('*', '*'));
  }
  return { publish, subscribe, allowResponses: true };
}

/** A user with a fresh random password for each identity. */
export function generateBusUsers(identities: BusIdentity[]): BusUser[] {
  return identities.map((identity) => ({
    ...identity,
    user: identity.id,
    password: randomBytes(24).toString('base64url'),
  }));
}

export interface NatsServerConfigOptions {
  host: string;
  port: number;
  users: BusUser[];
  /** The server's certificate and key; with them, clients must use TLS. */
  tls?: { certFile: string; keyFile: string };
}

/** nats-server configuration text (its format reads JSON values) with TLS and the users' permissions. */
export function natsServerConfig({ host, port, users, tls }: NatsServerConfigOptions): string {
  const lines = [`listen: ${JSON.stringify(`${host}:${port}`)}`];
  if (tls) {
    lines.push(`tls: ${JSON.stringify({ cert_file: tls.certFile, key_file: tls.keyFile, timeout: 5 })}`);
  }
  const entries = users.map((u) => {
    const p = busPermissions(u);
    return JSON.stringify({
      user: u.user,
      password: u.password,
      permissions: {
        publish: { allow: p.publish },
        subscribe: { allow: p.subscribe },
        ...(p.allowResponses ? { allow_responses: true } : {}),
      },
    });
  });
  lines.push(`authorization: {\n  users: [\n    ${entries.join(',\n    ')}\n  ]\n}`);
  return `${lines.join('\n')}\n`;
}
