/** The dashboard's own DOM helpers, on the apps' shared ones (re-exported, so its views import one module). */
import { byId, element } from '../shared/dom.js';

export { byId, element };

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
