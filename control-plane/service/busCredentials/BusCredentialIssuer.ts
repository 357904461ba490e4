import { readFileSync } from 'node:fs';
import { ConfigError } from '@kaskade/node-toolkit';
import { type BusCredentialsReply, type BusRole, KaskadeError, NodeId } from '@kaskade/protocol';
import { Compile } from 'typebox/compile';
import type { ControlPlaneConfig } from '../config.ts';
import { type AccountSigner, accountSigner, signBusUser } from './natsUser.ts';
import { type JwksSource, ServiceAccountTokens } from './ServiceAccountTokens.ts';

const isNodeId = Compile(NodeId);

export interface BusCredentialIssuerOptions {
  tokens: ServiceAccountTokens;
  signer: AccountSigner;
  /** The only namespace whose pods get credentials. */
  namespace: string;
  /** Service account name -> the role its pods speak as on the bus. */
  roles: ReadonlyMap<string, Exclude<BusRole, 'control-plane'>>;
  credentialLifetimeSeconds: number;
}

/**
 * Gives each edge and relay pod a bus identity of its own at start: its projected
 * service-account token (verified against the cluster's keys) says which pod it is and
 * under which service account it runs; the pod's name becomes its node id and the
 * service account its role, and it gets a NATS user JWT allowed exactly that node's
 * subjects, for the user public key the pod generated (its seed never leaves the pod).
 * Nothing the pod sends but the verified token decides the node or the role.
 */
export class BusCredentialIssuer {
  readonly #options: BusCredentialIssuerOptions;

  constructor(options: BusCredentialIssuerOptions) {
    this.#options = options;
  }

  /** The issuer the configuration asks for, or undefined when KASKADE_BUS_ISSUER_SIGNING_KEY_FILE is unset. */
  static fromConfig(config: ControlPlaneConfig): BusCredentialIssuer | undefined {
    if (!config.busIssuerSigningKeyFile) return undefined;
    // loadControlPlaneConfig checked that these come with the signing key (busIssuerProblems).
    const account = config.busIssuerAccount!;
    let signer: AccountSigner;
    try {
      signer = accountSigner(readFileSync(config.busIssuerSigningKeyFile, 'utf8'), account);
    } catch (error) {
      throw new ConfigError([`KASKADE_BUS_ISSUER_SIGNING_KEY_FILE: ${(error as Error).message}`]);
    }
    const keys: JwksSource = config.busIssuerJwksFile
      ? { file: config.busIssuerJwksFile }
      : {
          url: config.busIssuerJwksUrl,
          caFile: config.busIssuerJwksCaFile,
          tokenFile: config.busIssuerJwksTokenFile,
        };
    let tokens: ServiceAccountTokens;
    try {
      tokens = new ServiceAccountTokens({
        keys,
        audience: config.busIssuerAudience,
        issuer: config.busIssuerTokenIssuer,
      });
    } catch (error) {
      throw new ConfigError([`the bus issuer's token keys: ${(error as Error).message}`]);
    }
    return new BusCredentialIssuer({
      tokens,
      signer,
      namespace: config.busIssuerNamespace!,
      roles: new Map([
        [config.busIssuerEdgeServiceAccount!, 'edge'],
        [config.busIssuerRelayServiceAccount!, 'relay'],
      ]),
      credentialLifetimeSeconds: config.busIssuerCredentialTtlSeconds,
    });
  }

  /** A user JWT for `userPublicKey` and the pod the token is bound to; a typed refusal otherwise. */
  async issue(serviceAccountToken: string, userPublicKey: string): Promise<BusCredentialsReply> {
    const pod = await this.#options.tokens.verify(serviceAccountToken);
    if (pod.namespace !== this.#options.namespace)
      throw new KaskadeError('FORBIDDEN', `pods of namespace ${pod.namespace} get no bus credentials here`);
    const role = this.#options.roles.get(pod.serviceAccount);
    if (!role)
      throw new KaskadeError('FORBIDDEN', `service account ${pod.serviceAccount} has no role on the bus`);
    if (!isNodeId.Check(pod.pod.name))
      throw new KaskadeError(
        'FORBIDDEN',
        'the pod name is no node id (letters, digits, _ and - only, 64 at most)',
      );
    let signed: Awaited<ReturnType<typeof signBusUser>>;
    try {
      signed = await signBusUser(
        this.#options.signer,
        { id: pod.pod.name, role },
        userPublicKey,
        this.#options.credentialLifetimeSeconds,
      );
    } catch (error) {
      // The schema admits only U + 55 base32 characters; nkeys' checksum is the rest of the proof.
      throw new KaskadeError('BAD_REQUEST', 'publicKey is no user public key (its checksum fails)', {
        cause: error,
      });
    }
    return { nodeId: pod.pod.name, role, expiresAt: signed.expiresAt.toISOString(), jwt: signed.jwt };
  }
}
