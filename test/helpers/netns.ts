import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A network namespace this test creates itself, joined to the host by a veth pair:
 * a second "host" on this machine whose address is not loopback. Firefox will not
 * do ICE with a server on 127.0.0.1, so Firefox tests put the edge in here.
 */
export interface TestHost {
  name: string;
  /** The namespace's address (where the edge listens). */
  address: string;
  /** The host side of the veth pair. */
  gateway: string;
  /** The host end's interface: taking it down cuts the namespace off (a network outage). */
  hostInterface: string;
  destroy(): Promise<void>;
}

export async function createTestHost(): Promise<TestHost> {
  const tag = `${process.pid % 10000}${Math.floor(Math.random() * 1000)}`;
  const name = `kaskade-${tag}`;
  const hostIf = `kvh${tag}`;
  const nsIf = `kvn${tag}`;
  const subnet = Math.floor(Math.random() * 250) + 1;
  const gateway = `10.213.${subnet}.1`;
  const address = `10.213.${subnet}.2`;
  const steps: string[][] = [
    ['netns', 'add', name],
    ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf],
    ['link', 'set', nsIf, 'netns', name],
    ['addr', 'add', `${gateway}/30`, 'dev', hostIf],
    ['link', 'set', hostIf, 'up'],
    ['-n', name, 'addr', 'add', `${address}/30`, 'dev', nsIf],
    ['-n', name, 'link', 'set', nsIf, 'up'],
    ['-n', name, 'link', 'set', 'lo', 'up'],
    ['-n', name, 'route', 'add', 'default', 'via', gateway],
  ];
  const destroy = async () => {
    await run('ip', ['link', 'del', hostIf]).catch(() => {});
    await run('ip', ['netns', 'del', name]).catch(() => {});
  };
  try {
    for (const args of steps) await run('ip', args);
  } catch (error) {
    await destroy();
    throw new Error(`cannot create test host (needs root and iproute2): ${(error as Error).message}`);
  }
  return { name, address, gateway, hostInterface: hostIf, destroy };
}

/**
 * Non-loopback media addresses for the edges of a local mesh: each edge that asks gets a
 * TestHost of its own and takes its host side (the gateway, an address of this machine)
 * as KASKADE_RTC_LISTEN_IP, while its HTTP stays on loopback. Firefox will not do ICE
 * with 127.0.0.1, so a mesh that Firefox joins gives its edges these.
 */
export interface MediaHosts {
  /** The environment for `nodeId` (a local mesh's edgeEnvFor): the same address on every call. */
  envFor(nodeId: string): Record<string, string>;
  destroy(): Promise<void>;
}

/** Creates `count` TestHosts, handed to edges in the order they ask. */
export async function createMediaHosts(count: number): Promise<MediaHosts> {
  const free: TestHost[] = [];
  const all: TestHost[] = [];
  const destroy = async () => {
    for (const host of all.splice(0)) await host.destroy();
  };
  try {
    for (let i = 0; i < count; i++) all.push(await createTestHost());
  } catch (error) {
    await destroy();
    throw error;
  }
  free.push(...all);
  const taken = new Map<string, TestHost>();
  return {
    envFor(nodeId) {
      let host = taken.get(nodeId);
      if (!host) {
        host = free.shift();
        if (!host) throw new Error(`no media host left for ${nodeId} (${count} were made)`);
        taken.set(nodeId, host);
      }
      return { KASKADE_RTC_LISTEN_IP: host.gateway };
    },
    destroy,
  };
}
