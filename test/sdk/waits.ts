/** Waits on a live RoomClient, for the SDK's end-to-end tests: each for an event, with a timeout. */
import assert from 'node:assert/strict';
import { SdkError } from '../../sdk/src/errors.js';
import type { ConnectionStatus, RoomClient } from '../../sdk/src/room-client.js';
import type { RoomSnapshot } from '../../sdk/src/room-state.js';

/** Resolves with `client`'s state once it satisfies `predicate` (now or later). */
export function until(client: RoomClient, predicate: (state: RoomSnapshot) => boolean, timeoutMs = 15_000): Promise<RoomSnapshot> {
  if (client.state && predicate(client.state)) return Promise.resolve(client.state);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`${client.uuid}: timed out waiting for a state; last: ${JSON.stringify(client.state)}`));
    }, timeoutMs);
    const off = client.on('state', (state) => {
      if (!predicate(state)) return;
      clearTimeout(timer);
      off();
      resolve(state);
    });
  });
}

/** Resolves with `client`'s connection status once it satisfies `predicate` (now or later). */
export function status(
  client: RoomClient,
  predicate: (status: ConnectionStatus) => boolean,
  timeoutMs = 15_000,
): Promise<ConnectionStatus> {
  if (predicate(client.status)) return Promise.resolve(client.status);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`${client.uuid}: timed out waiting for a connection status; last: ${JSON.stringify(client.status)}`));
    }, timeoutMs);
    const off = client.on('connection', (next) => {
      if (!predicate(next)) return;
      clearTimeout(timer);
      off();
      resolve(next);
    });
  });
}

/** The SdkError a command rejects with (fails the test if it resolves). */
export async function refusal(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SdkError);
    return error;
  }
  assert.fail('expected a refusal');
}
