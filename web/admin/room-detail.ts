/**
 * One room opened from the rooms table: its passage, media node and age, and its members with a
 * Kick button each, plus Delete room. Each action asks for a confirmation in place first.
 */
import type { RoomSummary } from './api.js';
import { confirmInPlace } from './confirm.js';
import { actionButton, byId, element, emptyRow } from './dom.js';
import { dateTime, passage } from './format.js';
import { isReadOnly } from './read-only.js';
import { strings } from './strings.js';

export interface DetailActions {
  kick(room: string, uuid: string): Promise<void>;
  remove(room: string): Promise<void>;
  close(): void;
}

export function setUpRoomDetail(actions: DetailActions): void {
  byId('detail-close').addEventListener('click', () => actions.close());
  detailActions = actions;
}

let detailActions: DetailActions | undefined;
/** The room shown and the member whose kick is being confirmed, kept across refreshes. */
let shown: string | null = null;
let confirming: { kind: 'kick'; uuid: string } | { kind: 'delete' } | null = null;

export const openedRoom = (): string | null => shown;

/** Opens the detail on `name` (its content comes with render). */
export function openDetail(name: string): void {
  if (shown !== name) confirming = null;
  shown = name;
  const section = byId('detail');
  section.hidden = false;
  byId('detail-title').textContent = strings.detail.heading(name);
}

export function closeDetail(): void {
  shown = null;
  confirming = null;
  byId('detail').hidden = true;
  byId('detail-members').replaceChildren();
}

export function renderDetail(room: RoomSummary): void {
  if (room.name !== shown) return;
  byId('detail-master').textContent = room.master_uuid;
  byId('detail-passage').textContent = passage(room.id_quran, room.aya) + (room.muted_all ? ` · ${strings.detail.mutedAll}` : '');
  byId('detail-media').textContent = room.media_node ?? strings.none;
  byId('detail-created').textContent = dateTime(room.created_at);
  const deleteHost = byId('detail-delete');
  if (confirming?.kind === 'delete') askDelete(room.name, deleteHost, false);
  else deleteHost.replaceChildren(deleteButton(room.name, deleteHost));
  const body = byId('detail-members');
  if (confirming?.kind === 'kick' && !room.users.includes(confirming.uuid)) confirming = null;
  body.replaceChildren(
    ...(room.users.length === 0
      ? [emptyRow(strings.detail.noMembers, strings.detail.columns.length)]
      : room.users.map((uuid) => memberRow(room, uuid))),
  );
}

/** The room is gone (deleted, or expired): the detail says so until it is closed. */
export function renderGone(name: string): void {
  if (name !== shown) return;
  confirming = null;
  byId('detail-members').replaceChildren(emptyRow(strings.detail.gone(name), strings.detail.columns.length));
  byId('detail-delete').replaceChildren();
}

function memberRow(room: RoomSummary, uuid: string): HTMLTableRowElement {
  const isMaster = uuid === room.master_uuid;
  const muted = room.muted.includes(uuid) || (room.muted_all && !isMaster);
  const queued = room.corrections.indexOf(uuid);
  const tr = element('tr');
  tr.dataset.uuid = uuid;
  const actions = element('td');
  tr.append(
    element('th', { scope: 'row', textContent: uuid }),
    ...[
      room.names[uuid] ?? strings.none,
      muted ? strings.yes : strings.no,
      queued < 0 ? strings.no : `#${queued + 1}`,
      isMaster ? strings.yes : strings.no,
    ].map((text) => element('td', { textContent: text })),
    actions,
  );
  if (confirming?.kind === 'kick' && confirming.uuid === uuid) askKick(room.name, uuid, actions, false);
  else actions.replaceChildren(kickButton(room.name, uuid, actions));
  return tr;
}

function kickButton(room: string, uuid: string, host: HTMLElement): HTMLButtonElement {
  return actionButton(strings.detail.kick(uuid), () => {
    if (isReadOnly()) return;
    confirming = { kind: 'kick', uuid };
    askKick(room, uuid, host);
  });
}

function askKick(room: string, uuid: string, host: HTMLElement, focus = true): void {
  confirmInPlace(
    host,
    strings.detail.confirmKick(uuid),
    strings.detail.confirmKickButton(uuid),
    async () => {
      confirming = null;
      if (!isReadOnly()) await detailActions?.kick(room, uuid);
    },
    () => {
      if (confirming?.kind === 'kick' && confirming.uuid === uuid) confirming = null;
      if (host.isConnected) host.replaceChildren(kickButton(room, uuid, host));
    },
    focus,
  );
}

function deleteButton(room: string, host: HTMLElement): HTMLButtonElement {
  return actionButton(
    strings.detail.deleteRoom(room),
    () => {
      if (isReadOnly()) return;
      confirming = { kind: 'delete' };
      askDelete(room, host);
    },
    'action danger',
  );
}

function askDelete(room: string, host: HTMLElement, focus = true): void {
  confirmInPlace(
    host,
    strings.detail.confirmDelete(room),
    strings.detail.confirmDeleteButton(room),
    async () => {
      confirming = null;
      if (!isReadOnly()) await detailActions?.remove(room);
    },
    () => {
      if (confirming?.kind === 'delete') confirming = null;
      if (host.isConnected && shown === room) host.replaceChildren(deleteButton(room, host));
    },
    focus,
  );
}
