// The README's configuration tables, made from the config schemas:
//   node scripts/config-table.ts          prints them
//   node scripts/config-table.ts --write  rewrites README.md between its <!-- config:NAME --> markers
import { readFileSync, writeFileSync } from 'node:fs';
import { describeEnvConfig } from '../control-plane/common/env-config.ts';
import { ControlPlaneConfigSchema } from '../control-plane/src/config.ts';
import { EdgeConfigSchema } from '../edge/src/config.ts';
import { RelayConfigSchema } from '../relay/src/config.ts';

export const configTables = {
  edge: describeEnvConfig(EdgeConfigSchema),
  'control-plane': describeEnvConfig(ControlPlaneConfigSchema),
  relay: describeEnvConfig(RelayConfigSchema),
};

/** README text with every marked table replaced by the schema's. */
export function withTables(readme: string): string {
  let out = readme;
  for (const [name, table] of Object.entries(configTables)) {
    const pattern = new RegExp(`(<!-- config:${name} -->\\n)[\\s\\S]*?(<!-- /config:${name} -->)`);
    out = out.replace(pattern, `$1${table}\n$2`);
  }
  return out;
}

if (import.meta.main) {
  const path = new URL('../README.md', import.meta.url);
  if (process.argv.includes('--write')) writeFileSync(path, withTables(readFileSync(path, 'utf8')));
  else for (const [name, table] of Object.entries(configTables)) console.log(`${name}:\n${table}\n`);
}
