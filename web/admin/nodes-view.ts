/** The cluster's nodes: one row each, with its load; the node that answered is marked. */
import type { NodeStatus } from './api.js';
import { byId, element, emptyRow } from './dom.js';
import { duration, megabytes, percent } from './format.js';
import { strings } from './strings.js';

export function renderNodes(nodes: NodeStatus[]): void {
  const body = byId('nodes-body');
  if (nodes.length === 0) {
    body.replaceChildren(emptyRow(strings.nodes.none, strings.nodes.columns.length));
    return;
  }
  const sorted = [...nodes].sort((a, b) => a.node.localeCompare(b.node));
  body.replaceChildren(
    ...sorted.map((node) => {
      const tr = element('tr', { className: node.self ? 'self' : '' });
      tr.dataset.node = node.node;
      tr.append(
        element('th', { scope: 'row', textContent: node.node }),
        ...[
          node.address,
          duration(node.uptime_s),
          String(node.rooms),
          String(node.sockets),
          String(node.media_peers),
          percent(node.cpu),
          megabytes(node.memory.rss),
          node.self ? strings.nodes.thisNode : '',
        ].map((text) => element('td', { textContent: text })),
      );
      return tr;
    }),
  );
}
