import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Raw UDP packets per second one core sends on this machine: the C sender in
 * loadtest/udp-reference.c, compiled here (cc is on the machine), run with the CPU
 * pinned to one core when taskset is there.
 */
export function udpPacketsPerSecond(seconds = 2): { packetsPerSecond: number; how: string } {
  const source = fileURLToPath(new URL('../udp-reference.c', import.meta.url));
  const binary = join(mkdtempSync(join(tmpdir(), 'kaskade-udp-')), 'udp-reference');
  execFileSync('cc', ['-O2', '-o', binary, source]);
  let out: string;
  try {
    out = execFileSync('taskset', ['-c', '0', binary, String(seconds)]).toString();
  } catch {
    out = execFileSync(binary, [String(seconds)]).toString();
  }
  return {
    packetsPerSecond: Number(out.trim()),
    how: 'C sendto() loop, 1200-byte packets to a loopback socket',
  };
}
