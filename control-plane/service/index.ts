// @kaskade/control-plane: the control-plane service (public join, placement, node
// registry, migrations, room actions, the application's API, webhooks, the bus
// credential issuer). Started by main.ts.

export type { RoomActionExecutorOptions, WebhookEmitter } from './actions/RoomActionExecutor.ts';
export { RoomActionExecutor } from './actions/RoomActionExecutor.ts';
export type { ActionActor, ActionContext, ActionHandler, ActionHandlers } from './actions/types.ts';
export type { ApiAuthenticator, ApiAuthOptions } from './apiAuth.ts';
export { apiAuthenticator } from './apiAuth.ts';
export type { ApiPluginOptions } from './apiPlugin.ts';
export { apiPlugin } from './apiPlugin.ts';
export { Autoscaler, type AutoscalerOptions } from './autoscaling/Autoscaler.ts';
export { decideDesiredNodes } from './autoscaling/desiredNodes.ts';
export type {
  AutoscaleSettings,
  Decision,
  NodeLimits,
  PolicyInput,
  PolicyState,
} from './autoscaling/types.ts';
export { emptyPolicyState } from './autoscaling/types.ts';
export type { AccountSigner, MintedBusUser, SignedBusUser } from './busCredentials/index.ts';
export {
  accountSigner,
  BusCredentialIssuer,
  credsFile,
  mintBusUser,
  newBusUserKey,
  signBusUser,
} from './busCredentials/index.ts';
export { type CapacityPluginOptions, capacityPlugin } from './capacityPlugin.ts';
export { ControlPlaneConfigSchema, loadControlPlaneConfig, trustedEdgeUrls } from './config.ts';
export type { EdgeTicket, TicketRequest } from './edgeTickets.ts';
export type { LivenessView, PlacementInput } from './placement.ts';
export { place } from './placement.ts';
export type { CostInput } from './podDeletionCost/cost.ts';
export {
  costInputOf,
  DRAINING_COST,
  EMPTY_COST,
  LOAD_STEP,
  ORIGIN_COST,
  POD_DELETION_COST_ANNOTATION,
  podDeletionCost,
} from './podDeletionCost/cost.ts';
export type { PodAnnotator, PodDeletionCostsOptions } from './podDeletionCost/PodDeletionCosts.ts';
export { PodDeletionCosts } from './podDeletionCost/PodDeletionCosts.ts';
export type { RetryPolicy } from './webhooks/retry.ts';
export { retryDelayMs } from './webhooks/retry.ts';
export type { WebhookSenderOptions } from './webhooks/WebhookSender.ts';
export { WebhookSender } from './webhooks/WebhookSender.ts';
