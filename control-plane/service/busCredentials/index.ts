import type { FastifyInstance } from 'fastify';
import type { ControlPlaneConfig } from '../config.ts';
import { BusCredentialIssuer } from './BusCredentialIssuer.ts';
import { busCredentialsPlugin } from './busCredentialsPlugin.ts';

export { BusCredentialIssuer } from './BusCredentialIssuer.ts';
export {
  type AccountSigner,
  accountSigner,
  credsFile,
  type MintedBusUser,
  mintBusUser,
  newBusUserKey,
  type SignedBusUser,
  signBusUser,
} from './natsUser.ts';
export { busIssuerOptions, busIssuerProblems } from './options.ts';

/** Serves POST /v1/bus/credentials on `app` when the operator configured the issuer; otherwise nothing. */
export async function serveBusCredentials(app: FastifyInstance, config: ControlPlaneConfig): Promise<void> {
  const issuer = BusCredentialIssuer.fromConfig(config);
  if (!issuer) return;
  await app.register(busCredentialsPlugin, {
    issuer,
    perAddress: {
      perSecond: config.busIssuerRequestsPerSecondPerAddress,
      burst: config.busIssuerBurstPerAddress,
    },
    rateLimitKeys: config.rateLimitKeys,
  });
}
