/*
 * The baseline of the SFU forwarding benchmark (bench/sfu-forwarding.ts starts it; not run by hand):
 * a plain Node UDP relay. One socket on 127.0.0.1 receives every publisher's packets and sends each,
 * unchanged, to the listener sockets of that publisher's room (routes by the publisher's source
 * port, given over IPC). No encryption, no RTP rewriting, no selection: the floor of what forwarding
 * a packet costs in Node on this machine.
 */
import { createSocket } from 'node:dgram';
import type { FromRelay, ToRelay } from './wire.js';

const socket = createSocket('udp4');
const routes = new Map<number, number[]>();
let received = 0;
let forwarded = 0;
let unknownSource = 0;
let errors = 0;

const send = (message: FromRelay): void => {
  process.send?.(message);
};

socket.on('message', (packet, from) => {
  received++;
  const targets = routes.get(from.port);
  if (!targets) {
    unknownSource++;
    return;
  }
  for (const port of targets) socket.send(packet, port, '127.0.0.1');
  forwarded += targets.length;
});
socket.on('error', () => {
  errors++;
});

process.on('message', (raw) => {
  const message = raw as ToRelay;
  if (message.type === 'routes') {
    routes.clear();
    for (const [from, to] of message.routes) routes.set(from, to);
    send({ type: 'ready' });
  } else if (message.type === 'report') {
    send({ type: 'report', received, forwarded, unknownSource, errors });
  } else if (message.type === 'stop') {
    socket.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));

socket.bind(0, '127.0.0.1', () => send({ type: 'hello', pid: process.pid, port: socket.address().port }));
