// Prints the edge's configuration table (Markdown) from its schema, for the README.
import { describeEnvConfig } from '../control-plane/common/env-config.ts';
import { EdgeConfigSchema } from '../edge/src/config.ts';

console.log(describeEnvConfig(EdgeConfigSchema));
