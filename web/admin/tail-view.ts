/**
 * The live tail: one line per event, newest first, at most MAX_LINES in the page. Paused, new lines
 * are held (the newest MAX_LINES of them) and shown on resume.
 */
import type { OperatorEvent } from './api.js';
import { byId, element } from './dom.js';
import type { StreamState } from './event-stream.js';
import { summarize } from './event-summary.js';
import { clock } from './format.js';
import { strings } from './strings.js';

export const MAX_LINES = 200;

let paused = false;
let held: HTMLTableRowElement[] = [];
/** Events the server left out since sign-in: the status keeps the count after their line scrolled away. */
let droppedTotal = 0;
let streamState: StreamState = { kind: 'idle' };

export function setUpTail(): void {
  const button = byId<HTMLButtonElement>('tail-pause');
  button.addEventListener('click', () => {
    paused = !paused;
    button.setAttribute('aria-pressed', String(paused));
    if (!paused) {
      for (const line of held) show(line);
      held = [];
    }
    renderPauseButton();
  });
}

/** Adds the line of one stream item (`ready` has none). */
export function addToTail(item: OperatorEvent, at = new Date()): void {
  if (item.type === 'dropped') {
    droppedTotal += item.count;
    renderStatus();
  }
  const line = lineOf(item, at);
  if (!line) return;
  if (paused) {
    held.push(line);
    if (held.length > MAX_LINES) held.shift();
    renderPauseButton();
    return;
  }
  show(line);
}

export function clearTail(): void {
  byId('tail-body').replaceChildren();
  held = [];
  droppedTotal = 0;
  renderPauseButton();
  renderStatus();
}

export function renderStreamState(state: StreamState): void {
  streamState = state;
  renderStatus();
}

function renderStatus(): void {
  const status = byId('tail-status');
  status.dataset.state = streamState.kind;
  const dropped = droppedTotal === 0 ? '' : ` ${strings.tail.droppedTotal(droppedTotal)}`;
  status.textContent = `${stateText(streamState)}${dropped}`;
}

function stateText(state: StreamState): string {
  switch (state.kind) {
    case 'idle':
      return strings.tail.watching(0);
    case 'connecting':
      return strings.tail.connecting;
    case 'ready':
      return strings.tail.watching(state.rooms);
    case 'waiting':
      return strings.tail.reconnecting(Math.round(state.delayMs / 1000));
  }
}

function show(line: HTMLTableRowElement): void {
  const body = byId('tail-body');
  body.prepend(line);
  while (body.childElementCount > MAX_LINES) body.lastElementChild?.remove();
}

function renderPauseButton(): void {
  byId('tail-pause').textContent = paused ? strings.tail.resume(held.length) : strings.tail.pause;
}

function lineOf(item: OperatorEvent, at: Date): HTMLTableRowElement | null {
  const time = element('td', { textContent: clock(at) });
  switch (item.type) {
    case 'ready':
      return null;
    case 'dropped': {
      const line = element('tr', { className: 'dropped' }, [
        time,
        element('td', { colSpan: 3, textContent: strings.tail.dropped(item.count) }),
      ]);
      return line;
    }
    case 'room': {
      const line = element('tr', {}, [
        time,
        element('td', { textContent: item.room }),
        element('td', { textContent: item.seq === null ? strings.none : String(item.seq) }),
        element('td', { textContent: summarize(item) }),
      ]);
      line.dataset.room = item.room;
      line.dataset.action = item.message.action;
      return line;
    }
  }
}
