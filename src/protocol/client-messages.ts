import { type Static, type TSchema, Type } from 'typebox';
import { Uuid } from './names.js';

/** A client's name for one of its commands, echoed by the Ack, Error or Pong that answers it. */
export const REQUEST_ID_MAX_LENGTH = 64;
export const RequestId = Type.String({ minLength: 1, maxLength: REQUEST_ID_MAX_LENGTH });

/** Whether a value is a request id the server echoes (a string of 1..64 characters). */
export const isRequestId = (value: unknown): value is string =>
  typeof value === 'string' && value.length >= 1 && value.length <= REQUEST_ID_MAX_LENGTH;

const id = Type.Optional(RequestId);

/**
 * What a client may send on the room WebSocket, one schema per action. Unknown extra fields are
 * ignored (the seed's clients send `uuid` in OfferCorrection); the sender is always the socket's own uuid.
 * Every command may carry `id` (see RequestId).
 */
export const ClientMessageSchemas = {
  // The longest sura has 286 ayas; a bound also keeps 1e400 (Infinity) out. The room logic checks the aya against its sura.
  ClickAya: Type.Object({ action: Type.Literal('ClickAya'), id, aya: Type.Integer({ minimum: 1, maximum: 286 }) }),
  MoveSura: Type.Object({
    action: Type.Literal('MoveSura'),
    id,
    id_quran: Type.Integer({ minimum: 1, maximum: 114 }),
  }),
  OfferCorrection: Type.Object({ action: Type.Literal('OfferCorrection'), id }),
  WithdrawCorrection: Type.Object({ action: Type.Literal('WithdrawCorrection'), id }),
  AnswerCorrection: Type.Object({
    action: Type.Literal('AnswerCorrection'),
    id,
    uuid: Uuid,
    result: Type.Boolean(),
  }),
  MuteUser: Type.Object({
    action: Type.Literal('MuteUser'),
    id,
    uuid: Uuid,
    result: Type.Optional(Type.Boolean()),
  }),
  MuteAll: Type.Object({ action: Type.Literal('MuteAll'), id, result: Type.Optional(Type.Boolean()) }),
  Ping: Type.Object({ action: Type.Literal('Ping'), id }),
  SessionDescription: Type.Object({
    action: Type.Literal('SessionDescription'),
    id,
    type: Type.Literal('offer'),
    sdp: Type.String({ minLength: 1 }),
  }),
  ICECandidate: Type.Object({
    action: Type.Literal('ICECandidate'),
    id,
    candidate: Type.String(),
    sdpMid: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    sdpMLineIndex: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 255 }), Type.Null()])),
  }),
} satisfies Record<string, TSchema>;

export type ClientAction = keyof typeof ClientMessageSchemas;
export type ClientMessage = {
  [A in ClientAction]: Static<(typeof ClientMessageSchemas)[A]>;
}[ClientAction];

/** Signaling for the SFU, answered by the media layer. */
export type MediaCommand = Extract<ClientMessage, { action: 'SessionDescription' | 'ICECandidate' }>;
/** What the room logic decides on. (Ping is answered by the session itself.) */
export type RoomCommand = Exclude<ClientMessage, MediaCommand | { action: 'Ping' }>;

export const isMediaCommand = (message: ClientMessage): message is MediaCommand =>
  message.action === 'SessionDescription' || message.action === 'ICECandidate';

export const isClientAction = (action: string): action is ClientAction => Object.hasOwn(ClientMessageSchemas, action);
