/**
 * Audio devices: the microphone (getUserMedia, an input chosen by deviceId), the device list, and
 * the output device where the browser can choose one (`HTMLMediaElement.setSinkId`: Chrome, Edge,
 * Firefox; not Safari).
 */
import type { AudioElementLike, MediaDevicesLike, TrackLike } from './rtc.js';

export interface AudioDevice {
  deviceId: string;
  /** Empty until the page has the microphone permission (the browser hides the labels before). */
  label: string;
  groupId?: string;
}

export interface AudioDevices {
  inputs: AudioDevice[];
  /** Empty where the output cannot be chosen (no setSinkId, or the browser lists none). */
  outputs: AudioDevice[];
}

/** What the microphone is asked for: echo cancellation, noise suppression, auto gain (a class, voices). */
export const DEFAULT_MICROPHONE_CONSTRAINTS: Readonly<Record<string, unknown>> = Object.freeze({
  echoCancellation: true,
  noiseSuppression: true,
  autoGainControl: true,
});

/** Opens the microphone (`deviceId`: that input exactly; otherwise the default one). Rejects as getUserMedia does. */
export async function openMicrophone(
  devices: MediaDevicesLike,
  deviceId: string | undefined,
  constraints: Readonly<Record<string, unknown>> = DEFAULT_MICROPHONE_CONSTRAINTS,
): Promise<TrackLike> {
  const audio = deviceId === undefined ? { ...constraints } : { ...constraints, deviceId: { exact: deviceId } };
  const stream = await devices.getUserMedia({ audio, video: false });
  const [track, ...others] = stream.getAudioTracks();
  for (const other of others) other.stop();
  if (!track) throw new Error('getUserMedia gave no audio track');
  return track;
}

/** The inputs and outputs `enumerateDevices()` lists (none where it is missing). */
export async function listAudioDevices(devices: MediaDevicesLike | undefined, canChooseOutput: boolean): Promise<AudioDevices> {
  const all = (await devices?.enumerateDevices?.()) ?? [];
  const pick = (kind: string): AudioDevice[] =>
    all
      .filter((device) => device.kind === kind)
      .map((device) => ({ deviceId: device.deviceId, label: device.label, ...(device.groupId ? { groupId: device.groupId } : {}) }));
  return { inputs: pick('audioinput'), outputs: canChooseOutput ? pick('audiooutput') : [] };
}

/** The device id a track was opened on, when the stack says. */
export const deviceIdOf = (track: TrackLike | null): string | undefined => track?.getSettings?.().deviceId || undefined;

/** Whether this element can play to a chosen output device. */
export const canSetSink = (element: AudioElementLike | undefined): boolean => typeof element?.setSinkId === 'function';
