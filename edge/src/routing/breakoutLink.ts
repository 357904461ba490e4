import type { Directory } from '@kaskade/directory';
import type { Bus } from '@kaskade/node-toolkit';
import { NO_BREAKOUTS, RoomEvent, Subjects } from '@kaskade/protocol';
import type { BreakoutLink } from '../rtc/Breakouts.ts';
import type { Room } from '../rtc/Room.ts';

/** The mesh's side of a room's breakouts (Breakouts.ts): the directory's plan, the control plane's tickets and timer, help on the bus. */
export function breakoutLink(
  room: Room,
  { bus, directory, nodeId }: { bus: Bus; directory: Directory; nodeId: string },
): BreakoutLink {
  return {
    breakoutPlan: async () => {
      const main = (await directory.breakouts.parentOf(room.name)) ?? room.name;
      const plan = await directory.breakouts.state(main);
      return {
        main,
        state: plan ? { status: plan.status, rooms: plan.rooms, endsAt: plan.endsAt } : NO_BREAKOUTS,
      };
    },
    breakoutTicket: (participant, target) =>
      bus.controlRpc('breakout.place', {
        room: room.name,
        participantId: participant.id,
        target,
        grants: participant.grants,
        lecture: room.lecture,
      }),
    askForHelp: (main, participantId) =>
      bus.publish(Subjects.roomEvents(main, nodeId), RoomEvent, {
        type: 'breakoutHelp',
        participantId,
        fromRoom: room.name,
      }),
    helpAsker: async (main, fromRoom, participantId, sender) => {
      if ((await directory.breakouts.parentOf(fromRoom)) !== main) return null;
      const entry = await directory.participant(fromRoom, participantId);
      return entry?.node === sender ? entry.name : null;
    },
    breakoutsDue: async (main) => (await bus.controlRpc('breakout.due', { main })).closed,
  };
}
