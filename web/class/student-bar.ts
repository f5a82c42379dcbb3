import {
  isMaster,
  isMuted,
  isQueued,
  isSdkError,
  predictRefusal,
  type RoomAudio,
  type RoomClient,
  type RoomSnapshot,
} from '../../sdk/src/index.js';
import { byId } from '../shared/dom.js';
import { attempt, note } from './messages.js';
import { suraTitle } from './quran-text.js';
import { t } from './strings.js';

/**
 * The student's bar: where the class is ("Al-Baqarah · aya 255"), "Ask for a correction" (then
 * "Withdraw", and "You are 2nd in the queue"), and "Mute myself" (the room's mute: the server drops a
 * muted voice, and RoomAudio disables the microphone while the room has it muted). A listen-only
 * student has no microphone to mute.
 */
export function setUpStudentBar(client: () => RoomClient | null): void {
  byId('ask-correction').addEventListener('click', async () => {
    const room = client();
    const state = room?.state;
    if (!room || !state) return;
    if (isQueued(state)) {
      if (await attempt(room.withdrawCorrection())) note(t.withdrew);
    } else if (await attempt(room.offerCorrection())) {
      note(t.asked);
    }
  });
  byId('mute-self').addEventListener('click', () => {
    const room = client();
    if (!room?.state) return;
    if (!isMuted(room.state)) {
      void attempt(room.muteUser());
      return;
    }
    // Only the teacher may lift a mute the teacher (or MuteAll) set.
    void attempt(room.unmuteUser(), (error) => {
      if (!isSdkError(error) || error.code !== 'forbidden') return false;
      note(t.mutedByTeacher, 'error', error.code);
      return true;
    });
  });
}

export function renderStudentBar(state: RoomSnapshot, audio: RoomAudio | null, listenOnly: boolean): void {
  const student = !isMaster(state);
  byId('student-bar').hidden = !student;
  if (!student) return;
  const sura = state.sura === null ? null : suraTitle(state.sura, t.suraName);
  byId('now').textContent = sura === null ? t.noSuraYet : state.aya === null ? sura : t.place(sura, state.aya);

  const ask = byId<HTMLButtonElement>('ask-correction');
  const queued = isQueued(state);
  ask.textContent = queued ? t.withdraw : t.askCorrection;
  ask.setAttribute('aria-pressed', String(queued));
  const refusal = queued ? null : predictRefusal(state, { action: 'OfferCorrection' });
  ask.disabled = refusal?.code === 'master_offline';
  ask.title = ask.disabled ? t.teacherAway : '';
  const place = state.corrections.indexOf(state.self) + 1;
  byId('queue-place').textContent = place > 0 ? t.queuePlace(place) : ask.disabled ? t.teacherAway : '';

  const muteSelf = byId<HTMLButtonElement>('mute-self');
  const noMicrophone = listenOnly || (audio !== null && audio.status.status === 'connected' && !audio.microphone.published);
  muteSelf.hidden = noMicrophone;
  byId('listening-only').hidden = !noMicrophone;
  const muted = isMuted(state);
  muteSelf.textContent = muted ? t.unmuteSelf : t.muteSelf;
  muteSelf.setAttribute('aria-pressed', String(muted));
}
