// The README's configuration tables, made from the config schemas:
//   node scripts/config-table.ts          prints them
//   node scripts/config-table.ts --write  rewrites README.md between its <!-- config:NAME --> markers
//   node scripts/config-table.ts --check  exits 1 if README.md's tables differ from the schemas'
import { readFileSync, writeFileSync } from 'node:fs';
import { ControlPlaneConfigSchema } from '@kaskade/control-plane';
import { EdgeConfigSchema } from '@kaskade/edge';
import { describeEnvConfig } from '@kaskade/node-toolkit';
import { RelayConfigSchema } from '@kaskade/relay';

const configTables = {
  edge: describeEnvConfig(EdgeConfigSchema),
  'control-plane': describeEnvConfig(ControlPlaneConfigSchema),
  relay: describeEnvConfig(RelayConfigSchema),
};

/** README text with every marked table replaced by the schema's. */
function withTables(readme: string): string {
  let out = readme;
  for (const [name, table] of Object.entries(configTables)) {
    const pattern = new RegExp(`(<!-- config:${name} -->\\n)[\\s\\S]*?(<!-- /config:${name} -->)`);
    out = out.replace(pattern, `$1${table}\n$2`);
  }
  return out;
}

if (import.meta.main) {
  const path = new URL('../README.md', import.meta.url);
  const readme = readFileSync(path, 'utf8');
  if (process.argv.includes('--write')) writeFileSync(path, withTables(readme));
  else if (process.argv.includes('--check')) {
    const missing = Object.keys(configTables).filter((name) => !readme.includes(`<!-- config:${name} -->`));
    if (missing.length > 0 || withTables(readme) !== readme) {
      console.error(
        `README.md's configuration tables are out of date (missing: ${missing.join(', ') || 'none'}); run: node scripts/config-table.ts --write`,
      );
      process.exitCode = 1;
    } else console.log('README.md configuration tables match the schemas');
  } else for (const [name, table] of Object.entries(configTables)) console.log(`${name}:\n${table}\n`);
}
