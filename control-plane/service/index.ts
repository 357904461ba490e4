// @kaskade/control-plane: the control-plane service (public join, placement, node
// registry, migrations, room actions, the application's API, webhooks, the bus
// credential issuer). Started by main.ts.

export type { RoomActionExecutorOptions, WebhookEmitter } from './actions/RoomActionExecutor.ts';
export { RoomActionExecutor } from './actions/RoomActionExecutor.ts';
export type { ActionActor, ActionContext, ActionHandler, ActionHandlers } from './actions/types.ts';
export type { ApiPluginOptions } from './apiPlugin.ts';
export { apiPlugin } from './apiPlugin.ts';
export type { AccountSigner, MintedBusUser } from './busCredentials/index.ts';
export { accountSigner, BusCredentialIssuer, mintBusUser } from './busCredentials/index.ts';
export { ControlPlaneConfigSchema, loadControlPlaneConfig, trustedEdgeUrls } from './config.ts';
export type { EdgeTicket, TicketRequest } from './edgeTickets.ts';
export type { LivenessView, PlacementInput } from './placement.ts';
export { place } from './placement.ts';
export type { RetryPolicy } from './webhooks/retry.ts';
export { retryDelayMs } from './webhooks/retry.ts';
export type { WebhookSenderOptions } from './webhooks/WebhookSender.ts';
export { WebhookSender } from './webhooks/WebhookSender.ts';
