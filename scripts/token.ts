// Issues a join token for development:
//   KASKADE_JWT_SECRET=... node scripts/token.ts --room demo --identity alice [--name Alice]
//     [--subscribe-only] [--sources camera,microphone] [--moderate] [--ttl 3600]
// With KASKADE_JWT_PRIVATE_KEY (PKCS#8 PEM) instead of the secret, the token is ES256.
import { parseArgs } from 'node:util';
import { issueToken } from '@kaskade/node-toolkit';
import { type Source, Sources } from '@kaskade/protocol';

const { values } = parseArgs({
  options: {
    room: { type: 'string' },
    identity: { type: 'string' },
    name: { type: 'string' },
    'subscribe-only': { type: 'boolean', default: false },
    sources: { type: 'string' },
    moderate: { type: 'boolean', default: false },
    ttl: { type: 'string', default: '3600' },
  },
});

function fail(message: string): never {
  console.error(`token: ${message}`);
  process.exit(2);
}

if (!values.room || !values.identity) fail('--room and --identity are required');
const sources = values.sources?.split(',').map((s) => s.trim()) as Source[] | undefined;
for (const s of sources ?? [])
  if (!Sources.includes(s)) fail(`unknown source ${s}; use ${Sources.join(', ')}`);
const ttlSeconds = Number(values.ttl);
if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) fail('--ttl takes a positive number of seconds');

const secret = process.env.KASKADE_JWT_SECRET;
const privateKeyPem = process.env.KASKADE_JWT_PRIVATE_KEY;
if (!secret && !privateKeyPem) fail('set KASKADE_JWT_SECRET (HS256) or KASKADE_JWT_PRIVATE_KEY (ES256)');

const token = await issueToken(
  {
    identity: values.identity,
    name: values.name ?? values.identity,
    room: values.room,
    grants: {
      publish: !values['subscribe-only'],
      publishSources: sources,
      subscribe: true,
      moderate: values.moderate,
    },
    ttlSeconds,
  },
  secret ? { secret } : { privateKeyPem: privateKeyPem! },
);
console.log(token);
