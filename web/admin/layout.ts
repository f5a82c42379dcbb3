/**
 * The dashboard's markup, built once at load: the landmarks (banner, main), the sign-in form, and
 * the sections of the views, each with the ids the views fill. Every text comes from strings.ts.
 */
import { element } from './dom.js';
import { strings } from './strings.js';

type Child = Node | string;

const h = element;

/** A section labelled by its heading, with `tools` (buttons) beside the heading. */
function section(id: string, heading: HTMLElement, children: Child[], tools: HTMLElement[] = []): HTMLElement {
  const top = tools.length === 0 ? heading : h('div', { className: 'section-head' }, [heading, ...tools]);
  const node = h('section', { id, className: 'card' }, [top, ...children]);
  node.setAttribute('aria-labelledby', heading.id);
  return node;
}

/** A table labelled by `labelId`, its head from `columns`, its body `bodyId`. */
function table(id: string, labelId: string, columns: readonly string[], bodyId: string, wrapClass = 'table-wrap'): HTMLElement {
  const node = h('table', { id }, [
    h('thead', {}, [
      h(
        'tr',
        {},
        columns.map((name) => h('th', { scope: 'col', textContent: name })),
      ),
    ]),
    h('tbody', { id: bodyId }),
  ]);
  node.setAttribute('aria-labelledby', labelId);
  return h('div', { className: wrapClass }, [node]);
}

const button = (id: string, text: string, className = 'secondary'): HTMLButtonElement =>
  h('button', { id, type: 'button', className, textContent: text });

/** A role=status line, hidden until it has something to say. */
function statusLine(id: string, className = ''): HTMLElement {
  const node = h('p', { id, className, hidden: true });
  node.setAttribute('role', 'status');
  return node;
}

function header(): HTMLElement {
  const signOut = button('sign-out', strings.signOut);
  signOut.hidden = true;
  return h('header', {}, [
    h('h1', { textContent: strings.title }),
    h('div', { className: 'header-controls' }, [
      h('label', { className: 'toggle' }, [h('input', { id: 'readonly', type: 'checkbox' }), ` ${strings.readOnly.label}`]),
      signOut,
    ]),
  ]);
}

function signIn(): HTMLElement {
  const input = h('input', { id: 'api-key', name: 'api-key', type: 'password', required: true, autocomplete: 'off', spellcheck: false });
  input.setAttribute('aria-describedby', 'key-note');
  const form = h('form', { id: 'sign-in' }, [
    h('label', { htmlFor: 'api-key', textContent: strings.signIn.keyLabel }),
    input,
    h('p', { id: 'key-note', className: 'note', textContent: strings.signIn.keptInMemory }),
    h('button', { id: 'sign-in-submit', type: 'submit', textContent: strings.signIn.submit }),
    statusLine('sign-in-error'),
  ]);
  const node = section('sign-in-section', h('h2', { id: 'sign-in-title', textContent: strings.signIn.heading }), [form]);
  node.hidden = true;
  return node;
}

function nodes(): HTMLElement {
  return section('nodes-section', h('h2', { id: 'nodes-title', textContent: strings.nodes.heading }), [
    table('nodes', 'nodes-title', strings.nodes.columns, 'nodes-body'),
  ]);
}

function rooms(): HTMLElement {
  const previous = button('rooms-previous', strings.rooms.previous);
  const next = button('rooms-next', strings.rooms.next);
  previous.disabled = true;
  next.disabled = true;
  const pager = h('nav', { className: 'pager' }, [previous, h('span', { id: 'rooms-range' }), next]);
  pager.setAttribute('aria-label', strings.rooms.pages);
  return section('rooms-section', h('h2', { id: 'rooms-title', textContent: strings.rooms.heading }), [
    table('rooms', 'rooms-title', strings.rooms.columns, 'rooms-body'),
    pager,
  ]);
}

function detail(): HTMLElement {
  const fact = (term: string, id: string): Child[] => [h('dt', { textContent: term }), h('dd', { id })];
  const node = section(
    'detail',
    h('h2', { id: 'detail-title' }),
    [
      h('dl', { className: 'facts' }, [
        ...fact(strings.detail.master, 'detail-master'),
        ...fact(strings.detail.passage, 'detail-passage'),
        ...fact(strings.detail.mediaNode, 'detail-media'),
        ...fact(strings.detail.created, 'detail-created'),
      ]),
      h('h3', { id: 'members-title', textContent: strings.detail.membersHeading }),
      table('members', 'members-title', strings.detail.columns, 'detail-members'),
      h('div', { id: 'detail-delete', className: 'danger-zone' }),
    ],
    [button('detail-close', strings.detail.close)],
  );
  node.hidden = true;
  return node;
}

function tail(): HTMLElement {
  const pause = button('tail-pause', strings.tail.pause);
  pause.setAttribute('aria-pressed', 'false');
  return section(
    'tail-section',
    h('h2', { id: 'tail-title', textContent: strings.tail.heading }),
    [
      h('p', { id: 'tail-status', textContent: strings.tail.watching(0) }),
      table('tail', 'tail-title', strings.tail.columns, 'tail-body', 'table-wrap tail-wrap'),
    ],
    [pause],
  );
}

/** Builds the page into `body`. */
export function buildLayout(body: HTMLElement = document.body): void {
  document.title = strings.title;
  const warning = statusLine('open-warning', 'warning');
  const readOnlyNote = h('p', { id: 'readonly-note', className: 'note', hidden: true, textContent: strings.readOnly.on });
  const dashboard = h('div', { id: 'dashboard', hidden: true }, [nodes(), rooms(), detail(), tail()]);
  body.replaceChildren(header(), warning, readOnlyNote, statusLine('notice'), h('main', {}, [signIn(), dashboard]));
}
