import { t, uiLanguage } from './strings.js';

/**
 * The app's markup: the landmarks (header, the banners, the end notice's main, the join form's main,
 * the class's nav, main and aside, the footer; one main shown at a time) and the ids the views fill.
 * Built here rather than in index.html so that every word comes from strings.ts. In class the page
 * is an app shell (style.css): the header and the nav stay, the text (main) scrolls by itself, and
 * the aside is a column beside it on a desktop and a sheet over it on a phone (side-sheet.ts). The
 * attribution then ends the text.
 */

/** Escapes a string for the markup (our own strings, but some have quotes). */
const x = (text: string): string =>
  text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] ?? char);

export function buildLayout(): void {
  document.documentElement.lang = uiLanguage;
  document.title = t.documentTitle(null);
  document.body.dataset.view = 'join';
  document.body.innerHTML = `
<header id="top">
  <h1 class="brand">${x(t.appName)}</h1>
  <span id="room-name" class="room-name"></span>
  <span id="status" class="status" data-state="idle"></span>
  <span id="quality" class="quality" data-level="unknown" title="${x(t.qualityTitle)}" hidden></span>
  <button id="leave" type="button" class="secondary small" hidden>${x(t.leave)}</button>
</header>

<div id="banner" class="banner" role="status" aria-live="polite" hidden></div>

<main id="ended-view" hidden>
  <section id="ended" class="ended" role="alert" aria-labelledby="ended-title" hidden>
    <h2 id="ended-title">${x(t.endedTitle)}</h2>
    <p id="ended-why"></p>
    <p class="actions">
      <button id="join-again" type="button">${x(t.joinAgain)}</button>
      <button id="back-to-form" type="button" class="secondary">${x(t.backToForm)}</button>
    </p>
  </section>
</main>

<main id="join-view" class="join-view">
  <form id="join-form" class="card" aria-labelledby="join-title" novalidate>
    <h2 id="join-title">${x(t.joinTitle)}</h2>
    <p class="hint">${x(t.joinIntro)}</p>
    <label for="room">${x(t.roomLabel)}</label>
    <input id="room" name="room" required pattern="[A-Za-z0-9._-]{1,64}" autocomplete="off" autocapitalize="off" spellcheck="false" aria-describedby="room-hint">
    <small id="room-hint" class="hint">${x(t.roomHint)}</small>
    <label for="display-name">${x(t.nameLabel)}</label>
    <input id="display-name" name="name" required maxlength="64" autocomplete="nickname">
    <fieldset class="roles">
      <legend>${x(t.roleLabel)}</legend>
      <label><input type="radio" name="role" value="student" checked> <span>${x(t.roleStudent)}</span></label>
      <label><input type="radio" name="role" value="teacher"> <span>${x(t.roleTeacher)}</span></label>
    </fieldset>
    <label class="check"><input id="listen-only" type="checkbox" name="listen-only"> <span>${x(t.listenOnlyLabel)}</span></label>
    <button id="join" type="submit">${x(t.joinButton)}</button>
    <p id="join-error" class="error-text" role="alert"></p>
  </form>
</main>

<div id="class-view" class="class-view" hidden>
  <nav id="toolbar" class="toolbar" aria-label="${x(t.navLabel)}">
    <div id="teacher-nav" class="teacher-nav" data-picker="closed" hidden>
      <div class="row stepper">
        <button id="previous-aya" type="button" class="secondary icon" aria-label="${x(t.previousAya)}" title="${x(t.previousAya)}">▲</button>
        <button id="sura-button" type="button" class="secondary sura-button" aria-expanded="false" aria-controls="sura-picker"><span class="visually-hidden">${x(t.suraPickerLabel)}: </span><span id="sura-button-text"></span></button>
        <button id="next-aya" type="button" class="secondary icon" aria-label="${x(t.nextAya)}" title="${x(t.nextAya)}">▼</button>
      </div>
      <div id="sura-picker" class="row sura-picker">
        <label for="sura-search" class="visually-hidden">${x(t.suraSearchLabel)}</label>
        <input id="sura-search" type="search" autocomplete="off" placeholder="${x(t.suraSearchPlaceholder)}" aria-controls="sura-select">
        <label for="sura-select" class="visually-hidden">${x(t.suraSelectLabel)}</label>
        <select id="sura-select"></select>
        <form id="aya-jump" class="aya-jump">
          <label for="aya-input">${x(t.ayaJumpLabel)}</label>
          <input id="aya-input" type="number" min="1" inputmode="numeric" aria-describedby="aya-range">
          <small id="aya-range" class="hint"></small>
          <button id="go-aya" type="submit" class="secondary">${x(t.ayaJumpButton)}</button>
        </form>
      </div>
      <div class="row mute-row">
        <button id="mute-all" type="button" class="secondary">${x(t.muteAll)}</button>
        <button id="unmute-all" type="button" class="secondary">${x(t.unmuteAll)}</button>
        <small class="hint keys-hint">${x(t.keysHint)}</small>
      </div>
    </div>
    <div id="student-bar" class="student-bar" hidden>
      <p id="now" class="now"></p>
      <div class="row">
        <button id="ask-correction" type="button" aria-describedby="queue-place"></button>
        <span id="queue-place" class="queue-place"></span>
        <button id="mute-self" type="button" class="secondary" aria-pressed="false"></button>
        <span id="listening-only" class="tag" hidden>${x(t.listeningOnly)}</span>
      </div>
    </div>
    <button id="to-side" type="button" class="to-side" aria-controls="side" aria-expanded="false"></button>
    <button id="start-audio" type="button" class="attention" title="${x(t.playAudioHint)}" hidden>${x(t.playAudio)}</button>
  </nav>

  <main id="text" class="text" aria-labelledby="sura-title" tabindex="0">
    <header class="sura-header">
      <h2 id="sura-title"></h2>
      <p id="sura-arabic" class="sura-arabic" lang="ar" dir="rtl"></p>
      <p id="bismillah" class="bismillah" lang="ar" dir="rtl" hidden></p>
    </header>
    <p id="text-status" class="text-status"></p>
    <button id="text-retry" type="button" class="secondary" hidden>${x(t.retry)}</button>
    <ol id="ayat" class="ayat" role="list" lang="ar" dir="rtl"></ol>
    <p class="attribution"><small>${x(t.attribution)}</small></p>
  </main>

  <aside id="side" class="side" aria-label="${x(t.rosterTitle)}">
    <button id="close-side" type="button" class="secondary close-side">${x(t.backToText)}</button>
    <section class="card" aria-labelledby="roster-title">
      <h2 id="roster-title"><span>${x(t.rosterTitle)}</span> <small id="roster-count" class="hint"></small></h2>
      <ul id="members" class="members" role="list"></ul>
    </section>
    <section class="card" aria-labelledby="queue-title">
      <h2 id="queue-title">${x(t.queueTitle)}</h2>
      <ol id="corrections" class="corrections" role="list" data-testid="corrections"></ol>
      <p id="queue-empty" class="hint">${x(t.queueEmpty)}</p>
    </section>
    <section class="card" aria-labelledby="voices-title">
      <h2 id="voices-title">${x(t.voicesTitle)}</h2>
      <p id="media-status" class="hint" data-state="idle"></p>
      <ol id="slots" class="slots" role="list"></ol>
    </section>
  </aside>
</div>

<div id="announcer" class="visually-hidden" aria-live="polite" aria-atomic="true"></div>
<ul id="messages" class="messages" role="list" aria-live="polite" aria-label="${x(t.messagesLabel)}"></ul>

<footer id="page-footer" class="attribution"><small>${x(t.attribution)}</small></footer>`;
}

/** Whether the screen is laid out for a phone: style.css's one breakpoint (60rem), for the views that act on it. */
export const phoneLayout: MediaQueryList = window.matchMedia('(max-width: 59.99rem)');
