import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, makeServerCertificate } from '@kaskade/local-mesh';

import { createAccount, createOperator, encodeAccount, encodeOperator } from '@nats-io/jwt';

/** A nats-server in JWT (operator) mode, with one account whose users a signing key mints. */
export interface OperatorNats {
  url: string;
  /** The server's certificate (for 127.0.0.1) and its CA, which the test may serve other TLS with too. */
  certificate: { caFile: string; certFile: string; keyFile: string };
  caFile: string;
  /** The account's public key (A...) and the seed (SA...) of its signing key. */
  account: string;
  signingKeySeed: string;
  stop(): Promise<void>;
}

/**
 * What an operator sets up once for the bus in JWT mode (nsc would do the same): an
 * operator, an account without limits that lists a signing key, and nats-server 2.9
 * trusting the operator with the account preloaded in its memory resolver. TLS like
 * every Kaskade bus (a throwaway CA from the local mesh). Files go in `dir`.
 */
export async function startOperatorNats(dir: string): Promise<OperatorNats> {
  const operator = createOperator();
  const account = createAccount();
  const signingKey = createAccount();
  const operatorJwt = await encodeOperator('kaskade-test', operator);
  const unlimited = { conn: -1, leaf: -1, subs: -1, data: -1, payload: -1, imports: -1, exports: -1 };
  const accountJwt = await encodeAccount(
    'kaskade',
    account,
    { signing_keys: [signingKey.getPublicKey()], limits: { ...unlimited, wildcards: true } },
    { signer: operator },
  );
  const tls = makeServerCertificate(dir);
  const port = await freePort();
  const configFile = join(dir, 'nats-operator.conf');
  writeFileSync(
    configFile,
    [
      `listen: "127.0.0.1:${port}"`,
      `tls: ${JSON.stringify({ cert_file: tls.certFile, key_file: tls.keyFile, timeout: 5 })}`,
      `operator: ${JSON.stringify(operatorJwt)}`,
      'resolver: MEMORY',
      `resolver_preload: {\n  ${account.getPublicKey()}: ${JSON.stringify(accountJwt)}\n}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const child: ChildProcess = spawn('nats-server', ['-c', configFile], { stdio: 'ignore' });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    url: `tls://127.0.0.1:${port}`,
    certificate: tls,
    caFile: tls.caFile,
    account: account.getPublicKey(),
    signingKeySeed: new TextDecoder().decode(signingKey.getSeed()),
    stop: async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
