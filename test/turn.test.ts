import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { mintTurnCredential } from '../src/turn/turn-credentials.js';
import { Coturn } from './support/coturn.js';
import { request, startServer, type TestServer } from './support/server.js';
import { RTCPeerConnection } from './support/wrtc.js';

/*
 * The TURN credentials of GET /network_transversal against a real coturn (`turnserver`, Debian package
 * coturn) on 127.0.0.1: libwebrtc (@roamhq/wrtc) gathers ICE candidates with only the TURN server and
 * `iceTransportPolicy: 'relay'`, so a `typ relay` candidate appears only if coturn accepted the
 * credentials and made an allocation. Every rejection is checked next to a fresh accepted allocation
 * on the same coturn, so a rejection can't come from a coturn that is down or unreachable.
 */

const SECRET = 'same-secret';
const GATHER_TIMEOUT_MS = 10000;

interface TurnEntry {
  address: string;
  username: string;
  credential: string;
}

interface Gathered {
  /** Every candidate line libwebrtc gathered (only relay ones can appear with the relay policy). */
  candidates: string[];
  /** `icecandidateerror` events: the TURN server's error code (401) and text. */
  errors: { errorCode: number; errorText: string; url: string }[];
  /** Whether gathering finished before the timeout. */
  complete: boolean;
  ms: number;
}

/** Gathers ICE candidates with only `turn` as ICE server and the relay policy; bounded by GATHER_TIMEOUT_MS. */
async function gather(turn: TurnEntry): Promise<Gathered> {
  const started = performance.now();
  const pc = new RTCPeerConnection({
    iceServers: [{ urls: turn.address, username: turn.username, credential: turn.credential }],
    iceTransportPolicy: 'relay',
  });
  const candidates: string[] = [];
  const errors: Gathered['errors'] = [];
  try {
    const complete = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), GATHER_TIMEOUT_MS);
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      pc.onicecandidate = (event) => {
        if (event.candidate?.candidate) candidates.push(event.candidate.candidate);
        else done(); // null (or empty): gathering is over
      };
      pc.onicegatheringstatechange = () => {
        if (pc.iceGatheringState === 'complete') done();
      };
      pc.onicecandidateerror = (event) => {
        const error = event as RTCPeerConnectionIceErrorEvent;
        errors.push({ errorCode: error.errorCode, errorText: error.errorText, url: error.url });
      };
    });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    await pc.setLocalDescription(await pc.createOffer());
    return { candidates, errors, complete: await complete, ms: Math.round(performance.now() - started) };
  } finally {
    pc.close();
  }
}

/** The relay candidates' addresses and ports (`candidate:F C udp PRIO ADDRESS PORT typ relay ...`). */
function relays(gathered: Gathered): { address: string; port: number }[] {
  return gathered.candidates.flatMap((line) => {
    const match = /^candidate:\S+ \d+ \S+ \d+ (\S+) (\d+) typ relay\b/.exec(line);
    return match ? [{ address: match[1]!, port: Number(match[2]) }] : [];
  });
}

function describeGathered(gathered: Gathered): string {
  return JSON.stringify({ candidates: gathered.candidates, errors: gathered.errors, complete: gathered.complete });
}

async function networkTransversal(s: TestServer, uuid: string): Promise<{ turn: TurnEntry[]; ttl?: number }> {
  const response = await request(s.http, 'GET', `/network_transversal?uuid=${uuid}`);
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return response.body.data;
}

/** Asserts `gathered` made at least one allocation on coturn: relay candidates on 127.0.0.1, in its relay ports. */
function assertRelayed(gathered: Gathered, coturn: Coturn): void {
  assert.ok(gathered.complete, `gathering did not finish in ${GATHER_TIMEOUT_MS} ms: ${describeGathered(gathered)}`);
  const found = relays(gathered);
  assert.ok(found.length > 0, `no relay candidate: ${describeGathered(gathered)}`);
  for (const relay of found) {
    assert.equal(relay.address, '127.0.0.1');
    assert.ok(relay.port >= coturn.relayPorts.min && relay.port <= coturn.relayPorts.max, `relay port ${relay.port}`);
  }
  assert.ok(!gathered.errors.some((error) => error.errorCode === 401), describeGathered(gathered));
}

/**
 * Asserts coturn refused `rejected` (no relay candidate, 401 to the client and in coturn's log for that
 * user name), while `control`, gathered at the same time on the same coturn, got a relay.
 */
async function assertRefused(coturn: Coturn, rejected: TurnEntry, control: TurnEntry): Promise<void> {
  const [bad, good] = await Promise.all([gather(rejected), gather(control)]);
  assertRelayed(good, coturn);
  assert.ok(bad.complete, `gathering did not finish in ${GATHER_TIMEOUT_MS} ms: ${describeGathered(bad)}`);
  assert.deepEqual(relays(bad), [], `coturn accepted ${rejected.username}: ${describeGathered(bad)}`);
  assert.ok(
    bad.errors.some((error) => error.errorCode === 401),
    `the client was not told 401 Unauthorized: ${describeGathered(bad)}`,
  );
  const user = rejected.username.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  await coturn.waitForLog(new RegExp(`user <${user}>: incoming packet message processed, error 401`));
  // (In static mode the control has the same user name: then only the 401 is checked in the log.)
  if (rejected.username !== control.username) {
    assert.deepEqual(
      coturn.linesOf(rejected.username).filter((line) => /ALLOCATE processed, success/.test(line)),
      [],
      'coturn allocated nothing for the refused user',
    );
  }
}

describe('TURN credentials against a real coturn (secret mode)', () => {
  let coturn: Coturn;
  let s: TestServer;

  before(async () => {
    coturn = await Coturn.start({ secret: SECRET });
    s = await startServer({ TURN_SERVERS: coturn.url, TURN_SECRET: SECRET, TURN_TTL: '600' });
  });
  after(async () => {
    await s?.close();
    await coturn?.stop();
  });

  test('credentials from GET /network_transversal get a relay allocation on 127.0.0.1', async () => {
    const issuedAt = Math.floor(Date.now() / 1000);
    const data = await networkTransversal(s, 'student-1');
    assert.equal(data.ttl, 600);
    assert.equal(data.turn.length, 1);
    const turn = data.turn[0]!;
    assert.equal(turn.address, coturn.url);
    const [expiry, id] = turn.username.split(':');
    assert.equal(id, 'student-1');
    assert.ok(Number(expiry) >= issuedAt + 600 && Number(expiry) <= issuedAt + 602, turn.username);

    const gathered = await gather(turn);
    assertRelayed(gathered, coturn);
    const user = turn.username.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    await coturn.waitForLog(new RegExp(`user <${user}>: incoming packet ALLOCATE processed, success`));
    console.log(
      `minted credentials: relay in ${gathered.ms} ms: ${relays(gathered)
        .map((r) => `${r.address}:${r.port}`)
        .join(', ')}`,
    );
  });

  test('a forged credential (wrong HMAC) gets no relay', async () => {
    const turn = (await networkTransversal(s, 'student-forged')).turn[0]!;
    const control = (await networkTransversal(s, 'student-2')).turn[0]!;
    // The right user name with the HMAC of another one.
    const forged = { ...turn, credential: createHmac('sha1', SECRET).update(`${turn.username}x`).digest('base64') };
    assert.notEqual(forged.credential, turn.credential);
    await assertRefused(coturn, forged, control);
  });

  test('a user name with a later expiry than its credential was minted for gets no relay', async () => {
    const turn = (await networkTransversal(s, 'student-3')).turn[0]!;
    const control = (await networkTransversal(s, 'student-4')).turn[0]!;
    const [expiry, id] = turn.username.split(':');
    const extended = { ...turn, username: `${Number(expiry) + 86400}:${id}` };
    await assertRefused(coturn, extended, control);
  });

  test('expired credentials (minted by the server with its own function, expiry in the past) get no relay', async () => {
    // 600 s of life, minted 700 s ago: expired 100 s ago. The HMAC itself is right.
    const { username, credential } = mintTurnCredential(SECRET, 'student-5', 600, Date.now() - 700_000);
    assert.ok(Number(username.split(':')[0]) < Date.now() / 1000 - 60);
    // The control differs only in its time: the same function, minted now.
    const control = { address: coturn.url, ...mintTurnCredential(SECRET, 'student-5-now', 600, Date.now()) };
    await assertRefused(coturn, { address: coturn.url, username, credential }, control);
  });

  test('credentials minted with another secret get no relay', async () => {
    const control = (await networkTransversal(s, 'student-6')).turn[0]!;
    const { username, credential } = mintTurnCredential('another-secret', 'student-other-secret', 600);
    await assertRefused(coturn, { address: coturn.url, username, credential }, control);
  });
});

describe('TURN credentials against a real coturn (static mode)', () => {
  let coturn: Coturn;
  let s: TestServer;

  before(async () => {
    coturn = await Coturn.start({ user: ['class', 'pw'] });
    s = await startServer({ TURN_SERVERS: coturn.url, TURN_USERNAME: 'class', TURN_CREDENTIAL: 'pw' });
  });
  after(async () => {
    await s?.close();
    await coturn?.stop();
  });

  test('the static user and password from GET /network_transversal get a relay allocation', async () => {
    const data = await networkTransversal(s, 'student-1');
    assert.deepEqual(data, {
      stun: { address: 'stun:127.0.0.1:3478' },
      turn: [{ address: coturn.url, username: 'class', credential: 'pw' }],
    });
    const gathered = await gather(data.turn[0]!);
    assertRelayed(gathered, coturn);
    await coturn.waitForLog(/user <class>: incoming packet ALLOCATE processed, success/);
    console.log(`static credentials: relay in ${gathered.ms} ms`);
  });

  test('a wrong static password gets no relay', async () => {
    const turn = (await networkTransversal(s, 'student-2')).turn[0]!;
    await assertRefused(coturn, { ...turn, credential: 'not-pw' }, turn);
  });
});
