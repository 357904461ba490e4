import type { Directory } from '@kaskade/directory';
import { type Bus, labelCombinations, preinitialisedCounter } from '@kaskade/node-toolkit';
import {
  KaskadeError,
  type RoomActionSchema,
  RoomActions,
  RoomEvent,
  Subjects,
  type WebhookDataOf,
  type WebhookType,
} from '@kaskade/protocol';
import type { Logger } from 'pino';
import type { Counter, Registry } from 'prom-client';
import type { TSchema } from 'typebox';
import { Compile, type Validator } from 'typebox/compile';
import type { EdgeTickets } from '../edgeTickets.ts';
import { roomActionHandlers } from './table.ts';
import type { ActionActor, ActionContext } from './types.ts';

/** A handler of any action, as the executor holds them (each was type-checked against its own action). */
type AnyActionHandler = (ctx: ActionContext, params: never) => Promise<unknown>;

/** Where the executor's webhooks go (the WebhookSender). */
export interface WebhookEmitter {
  emit<T extends WebhookType>(type: T, room: string, data: WebhookDataOf<T>): void;
}

export interface RoomActionExecutorOptions {
  controlPlaneId: string;
  bus: Pick<Bus, 'publish'>;
  directory: Directory;
  tickets: Pick<EdgeTickets, 'issue'>;
  webhooks: WebhookEmitter;
  logger: Logger;
  registry?: Registry;
  /** The actions' schemas and handlers: RoomActions and the feature tables unless a test gives its own. */
  actions?: Readonly<Record<string, RoomActionSchema>>;
  handlers?: Readonly<Record<string, AnyActionHandler>>;
}

type Result = 'ok' | 'refused' | 'failed';

/**
 * Executes room actions, the one place they run whoever asks (a moderator over
 * room.act, the application over the HTTP API): checks the parameters against the
 * action's schema (BAD_REQUEST), gives the handler its context, and checks the answer
 * against the action's response schema (a handler breaking it is a bug: INTERNAL).
 */
export class RoomActionExecutor {
  /** The schemas of the actions it executes, by name (the API's routes are made from them). */
  readonly schemas: Readonly<Record<string, RoomActionSchema>>;
  readonly #options: RoomActionExecutorOptions;
  readonly #actions: ReadonlyMap<
    string,
    { request: Validator; response: Validator; handler: AnyActionHandler }
  >;
  readonly #counted: Counter<'action' | 'result'> | undefined;

  constructor(options: RoomActionExecutorOptions) {
    this.#options = options;
    const schemas: Readonly<Record<string, RoomActionSchema>> = options.actions ?? RoomActions;
    this.schemas = schemas;
    const handlers = options.handlers ?? (roomActionHandlers as Record<string, AnyActionHandler>);
    this.#actions = new Map(
      Object.entries(schemas).map(([name, schema]) => {
        const handler = handlers[name];
        if (!handler) throw new Error(`room action ${name} has no handler`);
        return [name, { request: compiled(schema.request), response: compiled(schema.response), handler }];
      }),
    );
    if (options.registry) {
      this.#counted = preinitialisedCounter({
        name: 'kaskade_room_actions_total',
        help: 'Room actions executed, by action and result: ok, refused (a typed refusal), failed (unexpected)',
        labelNames: ['action', 'result'],
        registers: [options.registry],
        zeroed: labelCombinations({ action: [...this.#actions.keys()], result: ['ok', 'refused', 'failed'] }),
      });
    }
  }

  /** The actions it executes. */
  get names(): string[] {
    return [...this.#actions.keys()];
  }

  /** Runs `action` on `room` for `actor`; throws KaskadeError for every refusal. */
  async execute(room: string, actor: ActionActor, action: string, params: unknown): Promise<unknown> {
    const entry = this.#actions.get(action);
    if (!entry) throw new KaskadeError('NOT_FOUND', `no room action ${action}`);
    if (!entry.request.Check(params)) {
      this.#count(action, 'refused');
      throw new KaskadeError('BAD_REQUEST', `${action}: ${firstError(entry.request, params)}`);
    }
    let answer: unknown;
    try {
      answer = await entry.handler(this.contextFor(room, actor), params as never);
    } catch (error) {
      const typed = error instanceof KaskadeError && error.code !== 'INTERNAL';
      this.#count(action, typed ? 'refused' : 'failed');
      if (typed) throw error;
      this.#options.logger.error({ err: error, action }, 'room action failed');
      throw new KaskadeError('INTERNAL', `${action} failed`, { cause: error });
    }
    if (!entry.response.Check(answer)) {
      this.#count(action, 'failed');
      this.#options.logger.error(
        { action, problem: firstError(entry.response, answer) },
        'room action answer breaks its schema',
      );
      throw new KaskadeError('INTERNAL', `${action} failed`);
    }
    this.#count(action, 'ok');
    this.#options.logger.debug({ room, action, actor: actor.kind }, 'room action executed');
    return answer;
  }

  /** What a handler works with, for work of the actions' own outside an action (the breakouts' timer). */
  contextFor(room: string, actor: ActionActor): ActionContext {
    const { bus, controlPlaneId, directory, tickets, webhooks } = this.#options;
    return {
      room,
      actor,
      directory,
      controlPlaneId,
      publish: (event, target = room) =>
        bus.publish(Subjects.roomControl(target, controlPlaneId), RoomEvent, event),
      placeAndIssue: (request) => tickets.issue(request),
      webhook: (type, data, target = room) => webhooks.emit(type, target, data),
      logger: this.#options.logger.child({ room }),
    };
  }

  #count(action: string, result: Result): void {
    this.#counted?.inc({ action, result });
  }
}

const compiled = (schema: TSchema): Validator => Compile(schema);

function firstError(validator: Validator, value: unknown): string {
  const e = validator.Errors(value)[0];
  return `${e?.instancePath || '/'} ${e?.message ?? 'invalid'}`;
}
