/**
 * The one place tests load `@roamhq/wrtc` (libwebrtc for Node), with the types its declarations
 * leave out.
 */
import wrtc from '@roamhq/wrtc';

export const RTCPeerConnection = wrtc.RTCPeerConnection;
export const RTCAudioSource = wrtc.nonstandard.RTCAudioSource;
export const RTCAudioSink = wrtc.nonstandard.RTCAudioSink;
export type RTCAudioSource = InstanceType<typeof RTCAudioSource>;
export type RTCAudioSink = InstanceType<typeof RTCAudioSink>;

/** What an RTCAudioSink's `ondata` receives (10 ms of audio; interleaved when channelCount > 1). */
export interface AudioSinkData {
  samples: Int16Array;
  sampleRate: number;
  bitsPerSample: number;
  channelCount: number;
  numberOfFrames: number;
}

/** Sets an RTCAudioSink's `ondata` with a typed handler (the declarations type it loosely). */
export function onSinkData(sink: RTCAudioSink, handler: (data: AudioSinkData) => void): void {
  (sink as unknown as { ondata: ((data: AudioSinkData) => void) | null }).ondata = handler;
}

/**
 * libwebrtc crashes Node at exit (SIGSEGV while Node runs its native-addon cleanup) once an
 * RTCAudioSource, an RTCAudioSink or a connected RTCPeerConnection has existed in the process, even
 * when everything was stopped and closed; the test runner then reports the file as failed. Ending
 * with process.exit() skips that cleanup: when the event loop has drained ('beforeExit', after the
 * test runner's own handlers were registered), this adds a last 'exit' listener that exits at once
 * with the code the process was going to exit with. A process that calls process.exit() itself,
 * or dies of an uncaught exception, does not need it.
 */
let exitGuardInstalled = false;
process.on('beforeExit', () => {
  if (exitGuardInstalled) return;
  exitGuardInstalled = true;
  process.on('exit', (code) => process.exit(code));
});
