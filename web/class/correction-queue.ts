import { isMaster, isQueued, nameOf, predictRefusal, type RoomClient, type RoomEvent, type RoomSnapshot } from '../../sdk/src/index.js';
import { byId, element } from './dom.js';
import { attempt, note } from './messages.js';

/**
 * The correction queue, the room's: a student asks (and asking again withdraws), the master answers
 * the students in the order they asked. Everyone sees the queue.
 */
export function setUpCorrectionQueue(client: () => RoomClient | null): void {
  byId('ask-correction').addEventListener('click', async () => {
    const room = client();
    const state = room?.state;
    if (!room || !state) return;
    if (isQueued(state)) {
      if (await attempt(room.withdrawCorrection())) note('You withdrew your correction request');
    } else if (await attempt(room.offerCorrection())) {
      note('You asked the teacher for a correction');
    }
  });
}

/** The master's Accept and Decline buttons for one student (shown while that student is queued). */
export function answerButtons(client: () => RoomClient | null, uuid: string): HTMLButtonElement[] {
  const button = (result: boolean, label: string) => {
    const answer = element('button', { type: 'button', className: 'answer', textContent: label });
    answer.setAttribute('aria-label', `${label} the correction request of ${uuid}`);
    answer.addEventListener('click', () => {
      const room = client();
      if (room) void attempt(room.answerCorrection(uuid, result));
    });
    return answer;
  };
  return [button(true, 'Accept'), button(false, 'Decline')];
}

export function renderCorrectionQueue(state: RoomSnapshot): void {
  const ask = byId<HTMLButtonElement>('ask-correction');
  const queued = isQueued(state);
  ask.textContent = queued ? 'Withdraw my correction request' : 'Ask for correction';
  ask.setAttribute('aria-pressed', String(queued));
  const refusal = queued ? null : predictRefusal(state, { action: 'OfferCorrection' });
  ask.disabled = refusal?.code === 'master_offline';
  ask.title = ask.disabled ? 'The teacher is not connected' : '';

  const list = byId('corrections');
  const items = state.corrections.map((uuid) => {
    const item = element('li', { textContent: nameOf(state, uuid) ?? uuid });
    item.dataset.uuid = uuid;
    return item;
  });
  const same = items.length === list.children.length && items.every((item, i) => list.children[i]?.textContent === item.textContent);
  if (!same) list.replaceChildren(...items);
}

/** Tells the master who asks, and a student how the master answered. */
export function noteCorrectionEvent(state: RoomSnapshot, event: RoomEvent): void {
  if (event.action === 'OfferCorrection' && isMaster(state) && event.uuid !== state.self) {
    note(`${nameOf(state, event.uuid) ?? event.uuid} asks for a correction`);
  }
  if (event.action === 'AnswerCorrection' && event.uuid === state.self) {
    note(`The teacher ${event.result ? 'accepted' : 'declined'} your correction request`);
  }
}
