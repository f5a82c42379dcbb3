/** The words of one live-tail line: what happened, in a few words (`ClickAya 255`, `NewUser ali (Ali)`). */
import type { ServerMessage } from '../../src/protocol/server-messages.js';
import type { OperatorEvent } from './api.js';

type RoomItem = Extract<OperatorEvent, { type: 'room' }>;

/** The message's action and its details, then whom it went to when not the whole room. */
export function summarize(item: RoomItem): string {
  const details = detailsOf(item.message);
  const text = details === '' ? item.message.action : `${item.message.action} ${details}`;
  return item.to === 'room' ? text : `${text} → ${item.uuid ?? item.to}`;
}

function detailsOf(message: ServerMessage): string {
  switch (message.action) {
    case 'NewUser':
      return [message.uuid, message.name === undefined ? '' : `(${message.name})`, message.muted ? 'muted' : ''].filter(Boolean).join(' ');
    case 'UserLeave':
    case 'OfferCorrection':
    case 'WithdrawCorrection':
      return message.uuid;
    case 'ClickAya':
      return String(message.aya);
    case 'MoveSura':
      return String(message.id_quran);
    case 'MuteUser':
      return `${message.uuid} ${message.result ? 'muted' : 'unmuted'}`;
    case 'MuteAll':
      return message.result ? 'muted' : 'unmuted';
    case 'AnswerCorrection':
      return `${message.uuid} ${message.result ? 'accepted' : 'declined'}`;
    case 'RoomState':
      return `${message.users.length} members`;
    case 'Ack':
      return message.id === undefined ? message.of : `${message.of} ${message.id}`;
    case 'Error':
      return message.of === undefined ? message.code : `${message.code} (${message.of})`;
    case 'ActiveSpeakers':
      return message.uuids.join(', ');
    case 'Resumed':
      return `after ${message.last_seq}`;
    default:
      return '';
  }
}
