// @kaskade/load-tools: what the benchmarks (and the tests that need real media) drive
// a mesh with: RTP bots and senders, recorded media, audiences, fault scenarios, the
// gap meter and the report helpers.
export { joinEdge, Presenter, Viewer } from './audience.ts';
export { barChart } from './charts.ts';
export { cpuSeconds, percentile, processTree } from './cpu.ts';
export type { Scenario, ScenarioContext } from './fault-scenarios.ts';
export { ORIGIN, OTHER_REGION_RELAY, SCENARIOS, sleep, upstreamsBecome } from './fault-scenarios.ts';
export type { GapStats, ViewerGaps } from './gap-meter.ts';
export { GapMeter, gapStats, NOTICEABLE_GAP_MS } from './gap-meter.ts';
export type { Placed } from './join.ts';
export { joinThroughControlPlane } from './join.ts';
export type { K6Result } from './k6.ts';
export { ensureK6, K6_VERSION, runJoinStorm } from './k6.ts';
export type { Subscription } from './meeting.ts';
export { MeetingParticipant, STAGE_LAYER, THUMBNAIL_LAYER } from './meeting.ts';
export type { MeetingPhase, MeetingReportData } from './meeting-report.ts';
export { linkSummary, writeMeetingReport } from './meeting-report.ts';
export { interleaveRegions, SILENT_DBOV, SPEAKING_DBOV, SpeakerRotation } from './meeting-speakers.ts';
export type { Distribution, LinkWant, SpeakerSwitch, StreamCount, Tile } from './meeting-stats.ts';
export {
  averageWants,
  distribution,
  growth,
  linkKey,
  linkWants,
  recordText,
  switchLatencies,
  windowLossPercent,
} from './meeting-stats.ts';
export type { LinkTraffic, WindowResult } from './meeting-window.ts';
export { measureWindow } from './meeting-window.ts';
export { prepareRecordedMedia, recordedByteRates } from './recorded-media.ts';
export type { ReceivedStream } from './rtp.ts';
export { layerMix, RtpCounter, rtpParametersFor, StreamSender } from './rtp.ts';
export type { PreferredLayers } from './rtp-bot.ts';
export { RtpBot } from './rtp-bot.ts';
export { udpPacketsPerSecond } from './udp-reference.ts';
