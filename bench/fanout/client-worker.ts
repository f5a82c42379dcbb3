/*
 * A client process of the cluster fan-out benchmark (bench/cluster-fanout.ts starts it; not run by
 * hand). It owns whole rooms (each room's master and students) and obeys the commands of wire.ts:
 *
 *   setup  creates its rooms (Wigglypuff), joins every client (a room's master first, then its
 *          students; a bounded number of joins at once), waits until every master has seen all its
 *          students' NewUser, and reports the join timings;
 *   step   sends each master's ClickAyas on the schedule given, waits (bounded) for the last
 *          deliveries and reports counts and latency histograms;
 *   close  closes every client; stop: exits.
 *
 * It exits when its parent goes away.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { createRoom } from '../lib/processes.js';
import { ClientConnection } from './connection.js';
import { ProblemLog } from './problem-log.js';
import { RoomLoad, StepTally } from './room-load.js';
import {
  epochNow,
  type FromWorker,
  type SetupReport,
  type SetupRequest,
  type StepReport,
  type StepRequest,
  type ToWorker,
} from './wire.js';

const problems = new ProblemLog();
let rooms: RoomLoad[] = [];

function send(message: FromWorker): void {
  process.send?.(message);
}

/** Runs `tasks` with at most `limit` of them under way at once; rejects with the first failure. */
async function runLimited(tasks: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
}

async function setup(request: SetupRequest): Promise<SetupReport> {
  rooms = request.rooms.map((plan) => {
    const room = new RoomLoad(plan, problems, request.server === 'wigglypuff');
    room.master = new ClientConnection(request.server, plan.master, true, room, problems);
    room.students = plan.students.map((uuid) => new ClientConnection(request.server, uuid, false, room, problems));
    return room;
  });

  let createMs = 0;
  if (request.server === 'wigglypuff') {
    const start = performance.now();
    await runLimited(
      rooms.map(
        (room) => () => createRoom(room.plan.masterNode.http, room.plan.name, room.plan.master, ` on ${room.plan.masterNode.http}`),
      ),
      request.concurrency,
    );
    createMs = performance.now() - start;
  }

  const latencies: number[] = [];
  let firstRoomState = Number.NaN;
  let lastRoomState = Number.NaN;
  const joined = (ms: number): void => {
    latencies.push(ms);
    const now = epochNow();
    if (Number.isNaN(firstRoomState)) firstRoomState = now;
    lastRoomState = now;
  };
  // Room by room, the master first: its students' joins wait for its RoomState, so it sees every NewUser.
  const tasks: (() => Promise<void>)[] = [];
  for (const room of rooms) {
    let masterIn = (): void => undefined;
    const masterReady = new Promise<void>((resolve) => {
      masterIn = resolve;
    });
    tasks.push(async () => {
      joined(await room.master.join(room.plan.masterNode.ws, request.joinTimeoutMs));
      masterIn();
    });
    for (const student of room.students) {
      tasks.push(async () => {
        await masterReady;
        joined(await student.join(room.plan.studentNode.ws, request.joinTimeoutMs));
      });
    }
  }
  await runLimited(tasks, request.concurrency);

  const settleStart = performance.now();
  const settleDeadline = settleStart + request.settleTimeoutMs;
  while (rooms.some((room) => room.master.newUsersSeen < room.students.length)) {
    if (performance.now() > settleDeadline) {
      const behind = rooms
        .filter((room) => room.master.newUsersSeen < room.students.length)
        .map((room) => `${room.plan.name}: ${room.master.newUsersSeen}/${room.students.length}`);
      throw new Error(`masters did not see every NewUser in ${request.settleTimeoutMs} ms: ${behind.join(', ')}`);
    }
    await delay(20);
  }
  return {
    type: 'ready',
    createMs,
    firstRoomState,
    lastRoomState,
    joinLatencies: Float64Array.from(latencies),
    settleMs: performance.now() - settleStart,
    ...problems.take(),
  };
}

async function step(request: StepRequest): Promise<StepReport> {
  const { rate, roomsTotal, warmupSends, measuredSends } = request;
  const t0 = request.t0 - performance.timeOrigin;
  const periodMs = 1000 / rate;
  const total = warmupSends + measuredSends;
  const tally = new StepTally(
    t0 + warmupSends * periodMs,
    t0 + total * periodMs,
    Math.max(1, Math.ceil(measuredSends / request.intervalSends)),
  );
  const ordered = [...rooms].sort((a, b) => a.index - b.index);
  for (const room of ordered) room.startStep(request, tally);

  // Room r sends its k-th ClickAya at t0 + (k + r/R) / rate: the rooms spread evenly over each period.
  for (let k = 0; k < total; k++) {
    for (const room of ordered) {
      const due = t0 + (k + room.index / roomsTotal) * periodMs;
      // Timers are ms-grained and there is no spinning (it would steal CPU from the servers): latency
      // counts from the actual send, and how late it left is reported as send lag.
      const wait = due - performance.now();
      if (wait > 0) await delay(wait);
      tally.sendLag.record(Math.max(0, performance.now() - due));
      room.send();
    }
  }
  const tail = tally.windowEnd - performance.now();
  if (tail > 0) await delay(tail);
  const drainStart = performance.now();
  const drainDeadline = drainStart + request.drainTimeoutMs;
  while ((tally.receivedAll < tally.expectedAll || tally.acks < tally.acksExpected) && performance.now() < drainDeadline) {
    await delay(20);
  }
  return {
    type: 'stepDone',
    intervals: tally.intervalReports(),
    sent: total * ordered.length,
    receivedInWindow: tally.receivedInWindow,
    expectedAll: tally.expectedAll,
    receivedAll: tally.receivedAll,
    acksExpected: tally.acksExpected,
    acks: tally.acks,
    ack: tally.ack.data(),
    sendLag: tally.sendLag.data(),
    drainMs: performance.now() - drainStart,
    ...problems.take(),
  };
}

async function closeAll(): Promise<void> {
  await Promise.allSettled(rooms.flatMap((room) => [room.master, ...room.students]).map((client) => client?.close()));
}

let queue = Promise.resolve();
process.on('message', (message: ToWorker) => {
  // One command at a time, in the order they came.
  queue = queue.then(async () => {
    try {
      switch (message.type) {
        case 'setup':
          send(await setup(message));
          return;
        case 'step':
          send(await step(message));
          return;
        case 'close':
          await closeAll();
          send({ type: 'closed', ...problems.take() });
          return;
        case 'stop':
          await closeAll();
          process.exit(0);
      }
    } catch (error) {
      send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    }
  });
});
process.on('disconnect', () => process.exit(0));
send({ type: 'hello', pid: process.pid });
