import { ayatIn, isMaster, type RoomClient, type RoomSnapshot } from '../../sdk/src/index.js';
import { byId } from './dom.js';
import { attempt } from './messages.js';

/**
 * The master's controls: move to a sura, point at an aya, mute or unmute everyone. Each is a command
 * of the room client; the view changes when the server accepts it (its Ack), and a refusal is shown
 * in the messages. The aya input has no maximum: the hint tells the sura's ayat, the server decides.
 */
export function setUpTeacherControls(client: () => RoomClient | null): void {
  const suraInput = byId<HTMLInputElement>('sura-input');
  const ayaInput = byId<HTMLInputElement>('aya-input');
  /** The MoveSura in flight, so a ClickAya before the room has a sura waits for it instead of sending another. */
  let moving: Promise<boolean> | null = null;

  const moveSura = (room: RoomClient, sura: number): Promise<boolean> => {
    const move = attempt(room.moveSura(sura)).finally(() => {
      if (moving === move) moving = null;
    });
    moving = move;
    return move;
  };

  byId('sura-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const room = client();
    if (room) void moveSura(room, Number(suraInput.value));
  });
  byId('aya-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const room = client();
    if (!room) return;
    const aya = Number(ayaInput.value);
    // The server checks the aya against the room's sura, so a class without one moves to a sura first.
    if (room.state?.sura === null && !(await (moving ?? moveSura(room, Number(suraInput.value) || 1)))) return;
    await attempt(room.clickAya(aya));
  });
  byId('mute-all').addEventListener('click', () => {
    const room = client();
    if (room) void attempt(room.muteAll());
  });
  byId('unmute-all').addEventListener('click', () => {
    const room = client();
    if (room) void attempt(room.unmuteAll());
  });
}

export function renderTeacherControls(state: RoomSnapshot): void {
  byId('teacher-controls').classList.toggle('hidden', !isMaster(state));
  byId('aya-hint').textContent =
    state.sura === null ? 'No sura yet: the class moves to one first' : `Sura ${state.sura} has ${ayatIn(state.sura)} ayat`;
}
