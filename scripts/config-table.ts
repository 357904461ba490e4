// Prints the configuration tables (Markdown) from their schemas, for the README:
//   node scripts/config-table.ts edge | control-plane
import { describeEnvConfig } from '../control-plane/common/env-config.ts';
import { ControlPlaneConfigSchema } from '../control-plane/src/config.ts';
import { EdgeConfigSchema } from '../edge/src/config.ts';

const schemas = { edge: EdgeConfigSchema, 'control-plane': ControlPlaneConfigSchema };
const which = (process.argv[2] ?? 'edge') as keyof typeof schemas;
if (!schemas[which]) {
  console.error(`config-table: one of ${Object.keys(schemas).join(', ')}`);
  process.exit(2);
}
console.log(describeEnvConfig(schemas[which]));
