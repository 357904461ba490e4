import { ControlRpc, type ControlRpcMethod, NodeRpc, type NodeRpcMethod, Subjects } from './nats.ts';

/**
 * What each identity on the node bus may publish and subscribe to: one NATS user per
 * node identity, whose permissions let it publish only subjects that end with its own
 * id, so the sender a receiver reads from a subject is the holder of that node's
 * credentials. Written from the same builders the processes use (Subjects), for
 * nats-server's static users (scripts/lib/nats-auth.ts) and for the user JWTs the
 * control plane's bus credential issuer mints.
 */
export type BusRole = 'edge' | 'relay' | 'control-plane';

export interface BusIdentity {
  id: string;
  role: BusRole;
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
