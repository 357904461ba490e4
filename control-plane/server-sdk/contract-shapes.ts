// The webhook envelope, the API's routes, the room summary and the capacity API's shapes, as the protocol defines
// them for the control plane: one definition, bundled into this package at build time
// (the published output imports no @kaskade package).
export {
  CAPACITY_ROUTE,
  type CapacityReport,
  type CapacityReservation,
  type CapacityReservationRequest,
  capacityReservationPath,
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
