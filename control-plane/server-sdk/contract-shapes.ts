// The webhook envelope, the API's routes and the room summary, as the protocol defines
// them for the control plane: one definition, bundled into this package at build time
// (the published output imports no @kaskade package).
export {
  RoomSummary,
  roomActionPath,
  roomSummaryPath,
  WEBHOOK_SIGNATURE_VERSION,
  WEBHOOK_TOLERANCE_SECONDS,
  WebhookData,
  WebhookEvent,
  WebhookHeaders,
  type WebhookType,
} from '@kaskade/protocol';
