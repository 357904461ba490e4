import type { types } from 'mediasoup';

// mediasoup's RTP/transport parameter types, named once for both sides of the wire.
// Type-only: nothing of mediasoup reaches the browser bundle.
export type DtlsParameters = types.DtlsParameters;
export type IceCandidate = types.IceCandidate;
export type IceParameters = types.IceParameters;
export type RtpCapabilities = types.RtpCapabilities;
export type RtpParameters = types.RtpParameters;
export type SctpParameters = types.SctpParameters;
