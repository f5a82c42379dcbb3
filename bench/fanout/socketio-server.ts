/*
 * The Socket.IO anchor of the cluster fan-out benchmark (bench/cluster-fanout.ts starts it as
 * `node --import tsx bench/fanout/socketio-server.ts`; not run by hand): the same classroom fan-out
 * as Wigglypuff's, done the way a Socket.IO application would, rooms and "broadcast to the room
 * except the sender".
 *
 * WebSocket transport only (no HTTP long-polling), no per-message deflate, no client bundle. A
 * client connects to namespace "/" with auth {room, uuid}; it is put in the room, gets `RoomState`
 * {room, uuid} (local, nothing looked up), and the room's others get `NewUser` {uuid}. A `ClickAya`
 * {aya} goes to the room except its sender.
 *
 * Environment: HOST (default 127.0.0.1), PORT (default 0: a free port), REDIS_URL (empty: one node;
 * set: @socket.io/redis-adapter on it, so several such servers share their rooms). Prints
 * `{"listening":PORT}` on stdout once it accepts connections, and nothing else; SIGTERM/SIGINT stop it.
 */
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT || 0);
const redisUrl = process.env.REDIS_URL || '';

const http = createServer();
const io = new Server(http, { transports: ['websocket'], serveClient: false });

const redisClients: Redis[] = [];
if (redisUrl) {
  const pub = new Redis(redisUrl, { lazyConnect: true });
  const sub = pub.duplicate();
  redisClients.push(pub, sub);
  for (const client of redisClients) client.on('error', (error) => console.error(`redis: ${error.message}`));
  await Promise.all(redisClients.map((client) => client.connect()));
  io.adapter(createAdapter(pub, sub));
  // The adapter subscribes in its constructor; a PING queued behind those commands answers once they are done.
  await sub.ping();
}

io.on('connection', (socket) => {
  const { room, uuid } = socket.handshake.auth as { room?: unknown; uuid?: unknown };
  if (typeof room !== 'string' || typeof uuid !== 'string') {
    socket.disconnect(true);
    return;
  }
  socket.join(room);
  socket.emit('RoomState', { room, uuid });
  socket.to(room).emit('NewUser', { uuid });
  socket.on('ClickAya', (message: { aya?: unknown }) => {
    socket.to(room).emit('ClickAya', { aya: message?.aya });
  });
});

http.listen(port, host, () => {
  const address = http.address();
  console.log(JSON.stringify({ listening: typeof address === 'object' && address ? address.port : port }));
});

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    io.close(() => {
      for (const client of redisClients) client.disconnect();
      process.exit(0);
    });
    setTimeout(() => process.exit(1), 2000).unref();
  });
}
