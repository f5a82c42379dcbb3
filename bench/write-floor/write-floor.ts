/*
 * The write floor (not a test): `npm run bench:write-floor [-- N B P T]`, issue 10.
 *
 * What one WebSocket-sized write costs Node on this machine, with nothing around it: N loopback TCP
 * sockets (default 1000) to a reader process that drains them; every P µs (default 2500) the writer
 * writes one 60-byte buffer to each of the next B sockets (default 49: a room's students), T writes
 * in all (default 300,000). That is the fan-out's pattern at the classroom load (20 rooms x 49
 * students at 20 ClickAya/s: each socket gets one frame per 50 ms, so no two share a write).
 * Prints the writer's CPU (user + system) per write. `write-floor.c` beside it does the same in C.
 */
import { fork } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

const [sockets = 1000, burst = 49, periodMicros = 2500, writes = 300_000] = process.argv
  .slice(2)
  .filter((arg) => /^\d+$/.test(arg))
  .map(Number);
const FRAME = Buffer.alloc(60, 0x78);

function read(port: number): void {
  let received = 0;
  for (let i = 0; i < sockets; i++) {
    connect(port, '127.0.0.1').on('data', (data) => {
      received += data.length;
      if (received >= writes * FRAME.length) process.exit(0);
    });
  }
}

function write(all: Socket[]): void {
  const start = process.cpuUsage();
  const startedAt = performance.now();
  let written = 0;
  let next = 0;
  const tick = () => {
    for (let b = 0; b < burst && written < writes; b++, written++) {
      all[next]!.write(FRAME);
      next = (next + 1) % all.length;
    }
    if (written < writes) {
      setTimeout(tick, periodMicros / 1000);
      return;
    }
    const cpu = process.cpuUsage(start);
    const perWrite = (micros: number) => (micros / writes).toFixed(2);
    console.log(
      `node: ${sockets} sockets, ${burst} writes every ${periodMicros} µs, ${writes} writes: ${perWrite(cpu.user + cpu.system)} µs/write ` +
        `(user ${perWrite(cpu.user)}, system ${perWrite(cpu.system)}), ${((performance.now() - startedAt) / 1000).toFixed(1)} s`,
    );
    process.exit(0);
  };
  tick();
}

if (process.argv.includes('--reader')) {
  read(Number(process.argv.at(-1)));
} else {
  const accepted: Socket[] = [];
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    accepted.push(socket);
    if (accepted.length === sockets) write(accepted);
  });
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    fork(fileURLToPath(import.meta.url), [...process.argv.slice(2), '--reader', String(port)], { execArgv: process.execArgv });
  });
}
