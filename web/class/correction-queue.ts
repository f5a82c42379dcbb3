import { isMaster, type RoomClient, type RoomEvent, type RoomSnapshot } from '../../sdk/src/index.js';
import { byId, element } from '../shared/dom.js';
import { attempt, note } from './messages.js';
import { displayName } from './roster.js';
import { t } from './strings.js';

/**
 * The correction queue, the room's: the students who asked, in the order they asked. The teacher
 * answers each with Accept or Decline (which takes them off the queue); everyone sees the queue.
 */

export function renderCorrectionQueue(state: RoomSnapshot, client: () => RoomClient | null): void {
  const list = byId('corrections');
  const teacher = isMaster(state);
  const existing = new Map([...list.children].map((item) => [(item as HTMLElement).dataset.uuid, item as HTMLElement]));
  const items = state.corrections.map((uuid) => {
    const known = existing.get(uuid);
    const item = known && known.dataset.view === (teacher ? 'teacher' : 'plain') ? known : newItem(uuid, teacher, client);
    const name = displayName(state, uuid);
    const label = item.querySelector('.name');
    if (label && label.textContent !== name) label.textContent = name;
    item.querySelector('.accept')?.setAttribute('aria-label', t.acceptWho(name));
    item.querySelector('.decline')?.setAttribute('aria-label', t.declineWho(name));
    item.toggleAttribute('data-self', uuid === state.self);
    return item;
  });
  if (items.length !== list.children.length || items.some((item, i) => list.children[i] !== item)) list.replaceChildren(...items);
  byId('queue-empty').hidden = items.length > 0;
}

function newItem(uuid: string, teacher: boolean, client: () => RoomClient | null): HTMLElement {
  const item = element('li', { className: 'queued' }, [element('span', { className: 'name' })]);
  item.dataset.uuid = uuid;
  item.dataset.view = teacher ? 'teacher' : 'plain';
  if (teacher) {
    const answer = (result: boolean) => {
      const button = element('button', {
        type: 'button',
        className: `small ${result ? 'accept' : 'decline secondary'}`,
        textContent: result ? t.accept : t.decline,
      });
      button.addEventListener('click', () => {
        const room = client();
        if (room) void attempt(room.answerCorrection(uuid, result));
      });
      return button;
    };
    item.append(element('span', { className: 'queue-actions' }, [answer(true), answer(false)]));
  }
  return item;
}

/** Tells the teacher who asks, and a student how the teacher answered. */
export function noteCorrectionEvent(state: RoomSnapshot, event: RoomEvent): void {
  if (event.action === 'OfferCorrection' && isMaster(state) && event.uuid !== state.self) {
    note(t.asksCorrection(displayName(state, event.uuid)));
  }
  if (event.action === 'AnswerCorrection' && event.uuid === state.self) {
    note(event.result ? t.answeredAccepted : t.answeredDeclined);
  }
}
