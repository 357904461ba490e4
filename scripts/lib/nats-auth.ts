import { randomBytes } from 'node:crypto';
import { type BusIdentity, busPermissions } from '@kaskade/protocol';

/**
 * nats-server authorization for a Kaskade mesh: one user per node identity, with the
 * permissions @kaskade/protocol's busPermissions gives it (publish only subjects that
 * end with its own id). nats-server 2.9 outside JWT mode has no permission templates,
 * hence one user per node, written out here.
 */
export type { BusIdentity, BusPermissions, BusRole } from '@kaskade/protocol';
export { busPermissions };

export interface BusUser extends BusIdentity {
  user: string;
  password: string;
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
