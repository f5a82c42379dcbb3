/**
 * Every word the class app shows, in one place. English only today; another language is another
 * object of the same shape (`const ar: Strings = {...}`) in `LANGUAGES`, chosen by the browser's
 * language. The Quran's text and the suras' Arabic names are not here: they come from the data.
 */

const en = {
  appName: 'Wigglypuff',
  documentTitle: (room: string | null) => (room ? `${room} · Wigglypuff class` : 'Wigglypuff class'),

  // The join form
  joinTitle: 'Join a class',
  joinIntro: 'A live Quran recitation class: the teacher points at the aya, everyone follows and recites.',
  roomLabel: 'Room',
  roomHint: 'Letters, digits, dot, dash or underscore',
  nameLabel: 'Your name',
  roleLabel: 'I am',
  roleStudent: 'A student',
  roleTeacher: 'The teacher (opens the room)',
  listenOnlyLabel: 'Listen only (no microphone)',
  joinButton: 'Join',
  joining: 'Joining…',
  joiningByLink: 'Joining the class from your link…',
  badLink: 'This class link cannot be read. Ask your teacher for a new one.',

  // The header and the banners
  roomHeading: (room: string) => `Room ${room}`,
  leave: 'Leave',
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnected: 'Reconnected',
  reconnectedMissed: 'Reconnected (view refreshed)',
  reconnecting: 'Reconnecting…',
  reconnectingWhy: (why: string) => `Reconnecting… (${why})`,
  notConnected: 'Not connected',
  causeLost: 'connection lost',
  causeRestart: 'the server is restarting',
  causeRefused: (code: string) => `the server refused the join: ${code}`,
  causeTimeout: 'the server did not answer',
  causeKeepalive: 'the connection went silent',
  causeCatchingUp: 'catching up with the class',
  causeToken: 'no join token',
  causeSimulated: 'test drop',
  quality: (level: string) => `Signal: ${level}`,
  qualityLevels: { good: 'good', fair: 'fair', poor: 'poor', unknown: '…' } as Record<string, string>,
  qualityTitle: 'How well your audio reaches the server and comes back',

  // The end of the class
  endedTitle: 'The class has ended for you',
  endedKicked: 'The teacher removed you from the class.',
  endedDeleted: 'The room was closed.',
  endedReplaced: 'You joined this class from another tab or device.',
  endedNotFound: (room: string) => `There is no room ${room}. Ask your teacher to open it.`,
  endedInvalid: 'The server could not accept this join.',
  joinAgain: 'Join again',
  backToForm: 'Change room or name',

  // The text
  textLabel: 'Quran text',
  loadingText: 'Loading the text…',
  textFailed: 'The text could not be loaded.',
  retry: 'Try again',
  noSuraYet: 'The teacher has not chosen a sura yet.',
  noSuraYetTeacher: 'Choose a sura to begin.',
  suraHeading: (number: number, transliteration: string, translation: string) => `${number} · ${transliteration} · ${translation}`,
  ayaLabel: (aya: number) => `Aya ${aya}`,
  nowAt: (sura: string, aya: number) => `Now: ${sura}, aya ${aya}`,
  nowSura: (sura: string) => `Now: ${sura}`,
  place: (sura: string, aya: number) => `${sura} · aya ${aya}`,
  suraName: (number: number) => `Sura ${number}`,

  // The teacher's navigation
  navLabel: 'Class controls',
  suraSearchLabel: 'Find a sura',
  suraSearchPlaceholder: 'Name or number',
  suraSelectLabel: 'Sura',
  suraOption: (number: number, transliteration: string, arabic: string) => `${number} · ${transliteration} · ${arabic}`,
  suraPlaceholder: 'Choose a sura…',
  noSuraMatches: 'No sura matches',
  ayaJumpLabel: 'Go to aya',
  ayaJumpButton: 'Go',
  ayaRange: (ayat: number) => `1–${ayat}`,
  previousAya: 'Previous aya',
  nextAya: 'Next aya',
  keysHint: '↓ / j: next aya · ↑ / k: previous',
  muteAll: 'Mute all',
  unmuteAll: 'Unmute all',
  suraPickerLabel: 'Choose the sura or the aya',
  studentsLink: (members: number, queued: number) => (queued > 0 ? `Class (${members}) · Queue (${queued})` : `Class (${members})`),

  // The student's controls
  askCorrection: 'Ask for a correction',
  withdraw: 'Withdraw',
  queuePlace: (place: number) => `You are ${ordinal(place)} in the queue`,
  teacherAway: 'The teacher is not connected',
  muteSelf: 'Mute myself',
  unmuteSelf: 'Unmute myself',
  listeningOnly: 'Listening only',
  playAudio: "Play the class's audio",
  playAudioHint: 'Your browser needs a click to play sound',

  // The roster and the queue
  rosterTitle: 'In the class',
  rosterCount: (count: number) => `${count} here`,
  backToText: 'Back to the text',
  badgeTeacher: 'teacher',
  badgeYou: 'you',
  badgeSpeaking: 'speaking',
  badgeMuted: 'muted',
  badgeFloor: 'has the floor',
  badgeQueued: (place: number) => `queue ${place}`,
  mute: 'Mute',
  unmute: 'Unmute',
  muteWho: (name: string) => `Mute ${name}`,
  unmuteWho: (name: string) => `Unmute ${name}`,
  giveFloor: 'Give the floor',
  giveFloorWho: (name: string) => `Give the floor to ${name}`,
  queueTitle: 'Correction queue',
  queueEmpty: 'Nobody is waiting',
  accept: 'Accept',
  decline: 'Decline',
  acceptWho: (name: string) => `Accept the correction request of ${name}`,
  declineWho: (name: string) => `Decline the correction request of ${name}`,
  badgeListenOnly: 'listening only',
  memberSignal: (level: string) => `${level} signal`,
  memberSignalWho: (name: string, level: string, loss: number | null) =>
    loss === null ? `${name}: ${level} signal` : `${name}: ${level} signal, ${Math.round(loss * 100)} % of audio lost`,

  // The audio
  voicesTitle: 'Voices',
  voice: (slot: number, who: string) => `Voice ${slot}: ${who}`,
  nobody: '—',
  audioStatus: (text: string) => `Audio: ${text}`,
  audioIdle: 'not started',
  audioWaiting: 'waiting for the class',
  audioConnecting: 'connecting',
  audioConnectingAttempt: (attempt: number) => `connecting (attempt ${attempt})`,
  audioConnected: 'connected',
  audioReconnecting: (seconds: number) => `reconnecting in ${seconds} s`,
  audioClosed: 'closed',
  audioError: (message: string) => `Audio: ${message}`,

  // Messages
  messagesLabel: 'Messages',
  asksCorrection: (name: string) => `${name} asks for a correction`,
  answeredAccepted: 'The teacher accepted your correction request',
  answeredDeclined: 'The teacher declined your correction request',
  withdrew: 'You withdrew your correction request',
  asked: 'You asked the teacher for a correction',
  notTeacher: (master: string) => `This room's teacher is ${master}; you joined as a student`,
  floorGiven: (name: string) => `${name} has the floor`,
  couldNotJoin: (message: string) => `Could not join: ${message}`,
  failure: (code: string, message: string) => `${message} (${code})`,
  errors: {
    not_connected: 'Not connected: try again in a moment',
    timeout: 'The server did not answer in time',
    forbidden: 'Not allowed',
    aya_out_of_range: 'That aya is not in this sura',
    master_offline: 'The teacher is not connected',
    rate_limited: 'Too fast: slow down a little',
    room_not_found: 'That room does not exist',
  } as Record<string, string>,
  mutedByTeacher: 'The teacher has muted you',

  // The footer
  attribution:
    "Quran text: quran-json (Risan Bagja Pradana), Uthmani text from The Noble Qur'an Encyclopedia, CC BY-SA 4.0 · Font: Scheherazade New (SIL), OFL 1.1",
};

export type Strings = typeof en;

/** English ordinals: 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st… */
function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${{ 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] ?? 'th'}`;
}

const LANGUAGES: Record<string, Strings> = { en };

/** The language of the UI: the first of the browser's languages we have, else English. */
function pick(): Strings {
  const wanted = typeof navigator === 'undefined' ? [] : navigator.languages;
  for (const language of wanted) {
    const found = LANGUAGES[language.toLowerCase().split('-')[0] ?? ''];
    if (found) return found;
  }
  return en;
}

export const t: Strings = pick();
/** The `lang` of the UI's words (the Quran's text is always `ar`). */
export const uiLanguage = Object.entries(LANGUAGES).find(([, strings]) => strings === t)?.[0] ?? 'en';
