import { isMaster, isMuted, isQueued, nameOf, type RoomClient, type RoomSnapshot } from '../../sdk/src/index.js';
import { answerButtons } from './correction-queue.js';
import { byId, element } from './dom.js';
import { attempt } from './messages.js';

/**
 * The members, in join order, with their tags (teacher, you, muted, speaking, asks for correction)
 * and, for the master, a mute button and the answers to a correction request. Items are updated in
 * place, so a button is never replaced under the pointer.
 */
export function renderRoster(state: RoomSnapshot, speaking: readonly string[], client: () => RoomClient | null): void {
  const list = byId('members');
  const iAmMaster = isMaster(state);
  const existing = new Map([...list.children].map((item) => [(item as HTMLElement).dataset.uuid, item as HTMLElement]));
  const items = state.members.map(({ uuid }) => {
    const known = existing.get(uuid);
    const item = known && known.dataset.view === view(iAmMaster, uuid, state) ? known : newMember(state, uuid, client);
    return updateMember(item, state, speaking);
  });
  if (items.length !== list.children.length || items.some((item, i) => list.children[i] !== item)) list.replaceChildren(...items);
}

/** What a member's item offers: the master's buttons for a student, or nothing. */
const view = (iAmMaster: boolean, uuid: string, state: RoomSnapshot): string => (iAmMaster && uuid !== state.self ? 'master' : 'plain');

function newMember(state: RoomSnapshot, uuid: string, client: () => RoomClient | null): HTMLElement {
  const item = element('li', {}, [element('span', { className: 'name' }), element('span', { className: 'tags' })]);
  item.dataset.uuid = uuid;
  item.dataset.view = view(isMaster(state), uuid, state);
  if (item.dataset.view === 'master') {
    const mute = element('button', { type: 'button', className: 'mute' });
    mute.dataset.testid = 'mute-user';
    mute.addEventListener('click', () => {
      const room = client();
      if (!room?.state) return;
      void attempt(isMuted(room.state, uuid) ? room.unmuteUser(uuid) : room.muteUser(uuid));
    });
    item.append(mute, ...answerButtons(client, uuid));
  }
  return item;
}

function updateMember(item: HTMLElement, state: RoomSnapshot, speaking: readonly string[]): HTMLElement {
  const uuid = item.dataset.uuid ?? '';
  const muted = isMuted(state, uuid);
  const isSpeaking = speaking.includes(uuid);
  const asking = isQueued(state, uuid);
  const master = isMaster(state, uuid);
  item.toggleAttribute('data-muted', muted);
  item.toggleAttribute('data-speaking', isSpeaking);
  item.toggleAttribute('data-master', master);
  const name = item.querySelector('.name');
  if (name) name.textContent = nameOf(state, uuid) ?? uuid;
  const tags = [
    master && 'teacher',
    uuid === state.self && 'you',
    muted && 'muted',
    isSpeaking && 'speaking',
    asking && 'asks for correction',
  ];
  const tagList = item.querySelector('.tags');
  if (tagList) tagList.textContent = tags.filter(Boolean).join(' · ');
  const mute = item.querySelector('button.mute');
  if (mute) {
    mute.textContent = muted ? 'Unmute' : 'Mute';
    mute.setAttribute('aria-label', `${muted ? 'Unmute' : 'Mute'} ${uuid}`);
  }
  for (const button of item.querySelectorAll('button.answer')) button.classList.toggle('hidden', !asking);
  return item;
}
