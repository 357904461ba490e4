// @kaskade/relay: the relay service, a media node with no participants that feeds
// edges of other regions. Started by main.ts.
export { loadRelayConfig, RelayConfigSchema } from './config.ts';
