// The edge's init container when its public address comes from its Kubernetes node:
//   node /app/deploy/image/node-address.ts --label <key> | --annotation <key> --out <file>
// reads the node named by KASKADE_K8S_NODE_NAME (the chart sets it from spec.nodeName)
// through the pod's service account (RBAC: get on nodes), takes the address from the
// label or annotation, checks that it is an IP address or a host name, and writes it to
// <file>; the image's entrypoint exports that file's content as
// KASKADE_RTC_ANNOUNCED_ADDRESS. Anything missing or malformed: a clear message and a
// non-zero exit, so the pod does not start announcing a wrong address.
import { renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
// The client's own entry: an init container starts in a fraction of the whole toolkit's time.
import { KubernetesClient, SERVICE_ACCOUNT_DIR } from '@kaskade/node-toolkit/kubernetes';

const USAGE = 'usage: node-address.ts --label <key> | --annotation <key> --out <file>';
// RFC 1123 host names: dot-separated labels of letters, digits and inner hyphens.
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

function fail(message: string, code = 1): never {
  process.stderr.write(`node-address: ${message}\n`);
  process.exit(code);
}

let args: { label?: string; annotation?: string; out?: string };
try {
  args = parseArgs({
    options: { label: { type: 'string' }, annotation: { type: 'string' }, out: { type: 'string' } },
    strict: true,
  }).values;
} catch (error) {
  fail(`${(error as Error).message}\n${USAGE}`, 2);
}
const { label, annotation, out } = args;
if ((label === undefined) === (annotation === undefined) || !out)
  fail(`give one of --label and --annotation, and --out\n${USAGE}`, 2);
const nodeName = process.env.KASKADE_K8S_NODE_NAME;
if (!nodeName) fail('KASKADE_K8S_NODE_NAME is not set (the chart sets it from spec.nodeName)');

const source = label !== undefined ? { kind: 'label', key: label } : { kind: 'annotation', key: annotation! };
let client: KubernetesClient | undefined;
try {
  client = KubernetesClient.inCluster(process.env, {
    serviceAccountDir: process.env.KASKADE_K8S_SERVICE_ACCOUNT_DIR || SERVICE_ACCOUNT_DIR,
    // Nodes have no namespace; the mounted one is read but not used.
    namespace: 'default',
  });
  const node = await client.getNode(nodeName);
  const map = source.kind === 'label' ? node.metadata.labels : node.metadata.annotations;
  const address = map?.[source.key]?.trim();
  if (!address) fail(`node ${nodeName} has no ${source.kind} ${source.key}`);
  if (isIP(address) === 0 && !HOST_NAME.test(address))
    fail(`the ${source.kind} ${source.key} of node ${nodeName} is neither an IP address nor a host name`);
  // Whole or not at all: the entrypoint never reads half an address.
  writeFileSync(`${out}.tmp`, address);
  renameSync(`${out}.tmp`, out);
  process.stdout.write(
    `node-address: the announced address is the ${source.kind} ${source.key} of node ${nodeName}\n`,
  );
} catch (error) {
  fail(`cannot read node ${nodeName}: ${(error as Error).message}`);
} finally {
  client?.close();
}
