/** The sign-in form of a closed server: the API key, checked by the server before the dashboard opens. */
import { byId } from './dom.js';
import { strings } from './strings.js';

/** Resolves when the key is accepted; rejects with the text to show when it is not. */
export type CheckKey = (key: string) => Promise<void>;

export function setUpSignIn(check: CheckKey): void {
  const form = byId<HTMLFormElement>('sign-in');
  const input = byId<HTMLInputElement>('api-key');
  const submit = byId<HTMLButtonElement>('sign-in-submit');
  const error = byId('sign-in-error');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = input.value;
    if (key === '') return;
    submit.disabled = true;
    error.hidden = false;
    error.dataset.kind = 'info';
    error.textContent = strings.signIn.checking;
    check(key)
      .then(() => {
        input.value = ''; // the key is the dashboard's now, not the form's
        error.hidden = true;
        error.textContent = '';
      })
      .catch((reason: unknown) => {
        error.dataset.kind = 'error';
        error.textContent = reason instanceof Error ? reason.message : String(reason);
        input.select();
      })
      .finally(() => {
        submit.disabled = false;
      });
  });
}

/** Shows the form (`message`: why, e.g. the key stopped working) or hides it. */
export function showSignIn(shown: boolean, message?: string): void {
  byId('sign-in-section').hidden = !shown;
  const error = byId('sign-in-error');
  error.hidden = message === undefined;
  error.dataset.kind = 'error';
  error.textContent = message ?? '';
  if (shown) byId<HTMLInputElement>('api-key').focus();
}
