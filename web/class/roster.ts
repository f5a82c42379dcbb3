import { isMaster, isMuted, type MembersQuality, nameOf, type RoomClient, type RoomSnapshot } from '../../sdk/src/index.js';
import { byId, element } from '../shared/dom.js';
import { attempt, note } from './messages.js';
import { t } from './strings.js';

/**
 * Who is in the class, in join order: name, and what the room says of each (the teacher, you,
 * speaking now, muted, has the floor, their place in the correction queue). The teacher gets, for
 * each student, Mute / Unmute and "Give the floor" (MuteAll on, then that one unmuted: under MuteAll
 * a MuteUser false unmutes one by one). Items are updated in place, so a button never moves under
 * the pointer. The teacher also sees each member's signal as the server measures it (the SDK's
 * memberQuality: a `.member-quality` tag, `data-level` good / fair / poor as the header's own) and
 * a "listening only" badge on a member who sends no microphone; a student is told only of their own.
 */

export const displayName = (state: RoomSnapshot, uuid: string): string => nameOf(state, uuid) ?? uuid;

/** A student has the floor: MuteAll is on and they alone (of the students) are unmuted. */
export function floorHolder(state: RoomSnapshot): string | null {
  if (!state.mutedAll) return null;
  const open = state.members.filter(({ uuid }) => uuid !== state.master && !state.muted.includes(uuid));
  return open.length === 1 ? (open[0]?.uuid ?? null) : null;
}

export async function giveFloor(room: RoomClient, uuid: string): Promise<boolean> {
  // MuteAll true mutes every student again, also those unmuted one by one since the last one.
  if (!(await attempt(room.muteAll()))) return false;
  return attempt(room.unmuteUser(uuid));
}

export function renderRoster(
  state: RoomSnapshot,
  speaking: readonly string[],
  client: () => RoomClient | null,
  quality: MembersQuality = new Map(),
): void {
  const list = byId('members');
  const teacher = isMaster(state);
  const existing = new Map([...list.children].map((item) => [(item as HTMLElement).dataset.uuid, item as HTMLElement]));
  const floor = floorHolder(state);
  const items = state.members.map(({ uuid }) => {
    const known = existing.get(uuid);
    const view = teacher && uuid !== state.self ? 'teacher' : 'plain';
    const item = known && known.dataset.view === view ? known : newMember(uuid, view, client);
    updateQuality(item, displayName(state, uuid), teacher ? quality.get(uuid) : undefined);
    return updateMember(item, state, speaking, floor, quality.get(uuid)?.publishing === false);
  });
  if (items.length !== list.children.length || items.some((item, i) => list.children[i] !== item)) list.replaceChildren(...items);
  byId('roster-count').textContent = t.rosterCount(state.members.length);
}

function newMember(uuid: string, view: 'teacher' | 'plain', client: () => RoomClient | null): HTMLElement {
  const dot = element('span', { className: 'speaking-dot' });
  dot.setAttribute('aria-hidden', 'true');
  const item = element('li', { className: 'member' }, [
    dot,
    element('span', { className: 'name' }),
    element('span', { className: 'member-quality quality', hidden: true }),
    element('span', { className: 'badges' }),
  ]);
  item.dataset.uuid = uuid;
  item.dataset.view = view;
  if (view === 'teacher') {
    const mute = element('button', { type: 'button', className: 'secondary small mute' });
    mute.dataset.testid = 'mute-user';
    mute.addEventListener('click', () => {
      const room = client();
      if (room?.state) void attempt(isMuted(room.state, uuid) ? room.unmuteUser(uuid) : room.muteUser(uuid));
    });
    const floor = element('button', { type: 'button', className: 'secondary small floor', textContent: t.giveFloor });
    floor.addEventListener('click', async () => {
      const room = client();
      if (room?.state && (await giveFloor(room, uuid)) && room.state) note(t.floorGiven(displayName(room.state, uuid)));
    });
    item.append(element('span', { className: 'member-actions' }, [mute, floor]));
  }
  return item;
}

/** The member's signal tag: shown to the teacher once the server has measured it. */
function updateQuality(item: HTMLElement, name: string, quality: ReturnType<MembersQuality['get']>): void {
  const tag = item.querySelector<HTMLElement>('.member-quality');
  if (!tag) return;
  const level = quality?.level ?? 'unknown';
  tag.hidden = level === 'unknown';
  if (tag.hidden) return;
  const words = t.qualityLevels[level] ?? level;
  tag.dataset.level = level;
  tag.setAttribute('role', 'img'); // its label (name, level, loss) is what is read
  tag.textContent = t.memberSignal(words);
  tag.setAttribute('aria-label', t.memberSignalWho(name, words, quality?.loss ?? null));
}

function updateMember(
  item: HTMLElement,
  state: RoomSnapshot,
  speaking: readonly string[],
  floor: string | null,
  listenOnly: boolean,
): HTMLElement {
  const uuid = item.dataset.uuid ?? '';
  const name = displayName(state, uuid);
  const muted = isMuted(state, uuid);
  const isSpeaking = speaking.includes(uuid);
  const place = state.corrections.indexOf(uuid) + 1;
  const master = isMaster(state, uuid);
  item.toggleAttribute('data-muted', muted);
  item.toggleAttribute('data-speaking', isSpeaking);
  item.toggleAttribute('data-master', master);
  item.toggleAttribute('data-floor', floor === uuid);
  item.toggleAttribute('data-queued', place > 0);
  const label = item.querySelector('.name');
  if (label && label.textContent !== name) label.textContent = name;
  const badges = [
    master && t.badgeTeacher,
    uuid === state.self && t.badgeYou,
    isSpeaking && t.badgeSpeaking,
    muted && t.badgeMuted,
    floor === uuid && t.badgeFloor,
    place > 0 && t.badgeQueued(place),
    listenOnly && t.badgeListenOnly,
  ].filter((badge): badge is string => typeof badge === 'string');
  const badgeList = item.querySelector('.badges');
  if (badgeList && badgeList.textContent !== badges.join(' · ')) {
    badgeList.replaceChildren(...badges.map((badge) => element('span', { className: 'badge', textContent: badge })));
  }
  const mute = item.querySelector<HTMLButtonElement>('button.mute');
  if (mute) {
    mute.textContent = muted ? t.unmute : t.mute;
    mute.setAttribute('aria-label', muted ? t.unmuteWho(name) : t.muteWho(name));
  }
  const giveFloorButton = item.querySelector<HTMLButtonElement>('button.floor');
  if (giveFloorButton) {
    giveFloorButton.setAttribute('aria-label', t.giveFloorWho(name));
    giveFloorButton.disabled = floor === uuid;
  }
  return item;
}
