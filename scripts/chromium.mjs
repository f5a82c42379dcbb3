// Headless Chromium as everything in this repository starts it (the browser tests, the screenshots,
// bench:page): the Debian package (scripts/install-deps.sh installs it), with no network of its own
// (this machine reaches nothing outside, and Chromium's background requests would only be refused)
// and a fake microphone and camera that need no permission prompt (the fake microphone beeps).
export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection',
];
