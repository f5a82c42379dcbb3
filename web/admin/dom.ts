/** The few DOM helpers every view of the dashboard uses. */

/** The element with this id; the page's markup (index.html) has every id a view asks for. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the dashboard has no #${id}`);
  return node as T;
}

/** A new element with `properties` set and `children` appended. */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  properties: Partial<HTMLElementTagNameMap[K]> = {},
  children: (Node | string)[] = [],
): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), properties);
  node.append(...children);
  return node;
}

/** A table row of plain cells. */
export const row = (cells: (Node | string)[]): HTMLTableRowElement =>
  element(
    'tr',
    {},
    cells.map((cell) => element('td', {}, [cell])),
  );

/** A row of one cell across the table, saying it is empty. */
export const emptyRow = (text: string, columns: number): HTMLTableRowElement =>
  element('tr', {}, [element('td', { colSpan: columns, className: 'empty', textContent: text })]);

/** A button of the kind read-only mode hides (kick, delete, and their confirmations). */
export function actionButton(text: string, onClick: () => void, className = 'action'): HTMLButtonElement {
  const button = element('button', { type: 'button', className, textContent: text });
  button.addEventListener('click', onClick);
  return button;
}

/** The message of any error an SDK call rejects with. */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
