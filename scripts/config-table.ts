// The README's configuration tables, made from the config schemas:
//   node scripts/config-table.ts          prints them
//   node scripts/config-table.ts --write  rewrites README.md between its <!-- config:NAME --> markers
//   node scripts/config-table.ts --check  exits 1 if README.md's tables differ from the schemas'
import { ControlPlaneConfigSchema } from '@kaskade/control-plane';
import { EdgeConfigSchema } from '@kaskade/edge';
import { describeEnvConfig } from '@kaskade/node-toolkit';
import { RelayConfigSchema } from '@kaskade/relay';
import { tablesCommand } from './marked-tables.ts';

const configTables = {
  edge: describeEnvConfig(EdgeConfigSchema),
  'control-plane': describeEnvConfig(ControlPlaneConfigSchema),
  relay: describeEnvConfig(RelayConfigSchema),
};

if (import.meta.main)
  tablesCommand(new URL('../README.md', import.meta.url), 'config', configTables, 'scripts/config-table.ts');
