// @kaskade/protocol: every contract that crosses a process boundary. The signaling
// WebSocket (signaling.ts), the NATS subjects and their payloads (nats.ts), the HTTP
// join (http-join.ts) and the application's API (http-api.ts), the webhooks
// (webhooks.ts), the join token's claims (token.ts), error codes (errors.ts), the
// rules for names (names.ts), what each bus identity may publish and hear
// (bus-permissions.ts) and how a pod gets its bus identity (bus-credentials.ts). Schemas here are the source of the types.
export * from './breakouts.ts';
export * from './bus-credentials.ts';
export * from './bus-permissions.ts';
export * from './capacity.ts';
export * from './chat.ts';
export * from './errors.ts';
export * from './http-api.ts';
export * from './http-join.ts';
export * from './media.ts';
export * from './moderation.ts';
export * from './names.ts';
export * from './nats.ts';
export * from './room-actions.ts';
export * from './rtp-types.ts';
export * from './signaling.ts';
export * from './signaling-constants.ts';
export * from './token.ts';
export * from './webhooks.ts';
