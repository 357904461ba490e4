// @kaskade/server-sdk: what the conference application's server needs to run meetings on
// Kaskade. Join tokens (tokens.ts), the control plane's room API (api.ts) and webhook
// verification (webhooks.ts). Published as one bundle: nothing here may need an
// unpublished @kaskade package at run time (build.ts bundles them in).
export type { Grants, JoinClaims, Role, Source } from '@kaskade/protocol';
export {
  type ActionMap,
  type ActionName,
  type ActionParams,
  type ActionResult,
  KaskadeApi,
  KaskadeApiError,
  type KaskadeApiOptions,
  type RoomActionMethods,
} from './api.ts';
export type { WebhookEvent } from './contract-shapes.ts';
export {
  type CapacityReport,
  type CapacityReservation,
  type CapacityReservationRequest,
  type RoomSummary,
  WEBHOOK_TOLERANCE_SECONDS,
  WebhookHeaders,
  type WebhookType,
} from './contract-shapes.ts';
export {
  InvalidJoinClaimsError,
  JoinGrants,
  JoinTokenIssuer,
  type JoinTokenIssuerOptions,
  type JoinTokenKey,
  type JoinTokenRequest,
} from './tokens.ts';
export {
  signWebhook,
  type VerifyWebhookOptions,
  verifyWebhook,
  type WebhookFailure,
  type WebhookRequestHeaders,
  WebhookVerificationError,
} from './webhooks.ts';
