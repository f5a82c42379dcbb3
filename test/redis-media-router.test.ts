/**
 * The parts RedisMediaRouter is made of, against a real Redis: MediaPlacement (claims with a lease,
 * least loaded node), MediaRelay (signaling over a node's channel) and MediaFailover (MediaReconnect
 * when a room's media node changed). Each group has a key prefix of its own.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import type { NodeInfo, NodeRegistry } from '../src/cluster/node-registry.js';
import { MediaFailover } from '../src/cluster/redis/media-failover.js';
import { MediaPlacement } from '../src/cluster/redis/media-placement.js';
import { MediaRelay, type Relayed } from '../src/cluster/redis/media-relay.js';
import { RedisConnection } from '../src/cluster/redis/redis-connection.js';
import { RedisKeys } from '../src/cluster/redis/redis-keys.js';
import type { ConnectionRef } from '../src/protocol/connection.js';
import { RedisServer } from './support/redis.js';

const silent = pino({ level: 'silent' });
const LEASE_MS = 500;

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A registry whose live nodes are what the test says. */
function registry(node: string, live: NodeInfo[]): NodeRegistry {
  return {
    node,
    liveNodes: async () => live,
    onDeadNode: () => undefined,
    start: async () => undefined,
    close: async () => undefined,
  };
}

const ref = (uuid: string, node = 'b'): ConnectionRef => ({ uuid, conn: `${uuid}-conn`, node });

describe('media placement, relay and fail-over over one Redis', () => {
  let redis: RedisServer;
  /** Two nodes' connections, as each node has its own. */
  let connections: RedisConnection[];
  let keys: RedisKeys;

  before(async () => {
    redis = await RedisServer.start();
    connections = [0, 1].map(() => new RedisConnection({ urls: [redis.url], cluster: false }, silent));
    await Promise.all(connections.map((connection) => connection.waitReady(5000)));
  });
  after(async () => {
    await Promise.all(connections.map((connection) => connection.close()));
    await redis.stop();
  });

  const fresh = () => {
    keys = new RedisKeys(`t${randomBytes(4).toString('hex')}:`);
  };
  const claimOf = (room: string) => connections[0]!.commands.get(keys.mediaClaim(room));

  function placement(node: string, load: number, live: NodeInfo[], connection = connections[0]!): MediaPlacement {
    return new MediaPlacement(connection, keys, registry(node, live), { node, leaseMs: LEASE_MS, load: () => load }, silent);
  }

  describe('MediaPlacement', () => {
    before(fresh);

    test('ownerOf claims the least loaded live node, with the lease, and then keeps answering the claim', async () => {
      const live = [
        { node: 'a', load: 5 },
        { node: 'b', load: 1 },
        { node: 'c', load: 3 },
      ];
      const a = placement('a', 5, live);
      assert.equal(await a.ownerOf('lighter'), 'b');
      assert.equal(await claimOf('lighter'), 'b');
      const ttl = await connections[0]!.commands.pttl(keys.mediaClaim('lighter'));
      assert.ok(ttl > 0 && ttl <= LEASE_MS, `the claim's lease is ${ttl} ms`);
      assert.equal(await a.currentOwner('lighter'), 'b');

      // This node's own load counts over what the registry last heard of it.
      const self = placement('a', 0, live);
      assert.equal(await self.ownerOf('self'), 'a');
      assert.equal(await claimOf('self'), 'a');

      assert.equal(await self.ownerOf('lighter'), 'b', 'an existing claim is the owner, whatever the loads');
      assert.equal(await self.currentOwner('unclaimed'), null);
    });

    test('two placements on two connections racing for the same rooms agree on one owner each', async () => {
      const live = [
        { node: 'a', load: 0 },
        { node: 'b', load: 0 },
      ];
      // Each would pick itself: a tie keeps this node.
      const a = placement('a', 0, live, connections[0]);
      const b = placement('b', 0, live, connections[1]);
      const rooms = Array.from({ length: 20 }, (_, i) => `race-${i}`);
      const owners = await Promise.all(rooms.map((room) => Promise.all([a.ownerOf(room), b.ownerOf(room)])));
      for (const [i, [fromA, fromB]] of owners.entries()) {
        assert.equal(fromA, fromB, `${rooms[i]}: a says ${fromA}, b says ${fromB}`);
        assert.equal(await claimOf(rooms[i]!), fromA);
      }
    });

    test('renew keeps the hosted rooms claimed past the lease, while a claim not renewed lapses', async () => {
      const a = placement('a', 0, [{ node: 'a', load: 0 }]);
      assert.equal(await a.ownerOf('kept'), 'a');
      assert.equal(await a.ownerOf('lapsing'), 'a');
      const claimedAt = Date.now();
      await until('the claim not renewed to lapse', async () => {
        assert.deepEqual(await a.renew(['kept']), []);
        return (await claimOf('lapsing')) === null && Date.now() - claimedAt > LEASE_MS;
      });
      assert.equal(await claimOf('kept'), 'a');
    });

    test('renew gives up the claims of rooms no longer hosted, and only its own', async () => {
      const a = placement('a', 0, [{ node: 'a', load: 0 }]);
      await a.ownerOf('emptied');
      await a.ownerOf('taken');
      assert.deepEqual(await a.renew(['emptied', 'taken']), []);
      await connections[1]!.commands.set(keys.mediaClaim('taken'), 'b', 'PX', 10_000);

      assert.deepEqual(await a.renew([]), []);
      assert.equal(await claimOf('emptied'), null);
      assert.equal(await claimOf('taken'), 'b', "another node's claim was given up");
    });

    test('renew returns the hosted rooms whose claim another node holds now, and leaves that claim alone', async () => {
      const a = placement('a', 0, [{ node: 'a', load: 0 }]);
      await a.ownerOf('moved');
      await a.ownerOf('stays');
      assert.deepEqual(await a.renew(['moved', 'stays']), []);
      await connections[1]!.commands.set(keys.mediaClaim('moved'), 'b', 'PX', 10_000);

      assert.deepEqual(await a.renew(['moved', 'stays']), ['moved']);
      assert.equal(await claimOf('moved'), 'b');
      assert.equal(await claimOf('stays'), 'a');
    });

    test('releaseAll gives up every claim this node holds at once, and no other', async () => {
      const a = placement('a', 0, [{ node: 'a', load: 0 }]);
      for (const room of ['all-1', 'all-2', 'all-3']) await a.ownerOf(room);
      assert.deepEqual(await a.renew(['all-1', 'all-2', 'all-3']), []);
      await connections[1]!.commands.set(keys.mediaClaim('all-3'), 'b', 'PX', 10_000);

      await a.releaseAll();
      assert.equal(await claimOf('all-1'), null);
      assert.equal(await claimOf('all-2'), null);
      assert.equal(await claimOf('all-3'), 'b');
      // Nothing is owned any more: renewing nothing gives up nothing else.
      await connections[1]!.commands.set(keys.mediaClaim('all-1'), 'a', 'PX', 10_000);
      assert.deepEqual(await a.renew([]), []);
      assert.equal(await claimOf('all-1'), 'a');
    });

    test('avoidNode keeps a node out of new claims, not out of existing ones', async () => {
      const live = [
        { node: 'a', load: 5 },
        { node: 'b', load: 0 },
        { node: 'c', load: 2 },
      ];
      const a = placement('a', 5, live);
      assert.equal(await a.ownerOf('before'), 'b');
      a.avoidNode('b');
      assert.equal(await a.ownerOf('after'), 'c');
      assert.equal(await a.ownerOf('before'), 'b');
      a.avoidNode('c');
      assert.equal(await a.ownerOf('last'), 'a');
    });
  });

  describe('MediaRelay', () => {
    before(fresh);

    test("what a node sends to another node's relay arrives there, in order", async () => {
      const received: Relayed[] = [];
      const onB = new MediaRelay(connections[1]!, keys, 'b', async (relayed) => void received.push(relayed), silent);
      const onA = new MediaRelay(connections[0]!, keys, 'a', async () => assert.fail('a received its own message'), silent);
      await onB.listen();
      try {
        const sent: Relayed[] = [
          { kind: 'offer', room: 'r', from: ref('u1', 'a'), sdp: 'v=0\r\n' },
          ...Array.from(
            { length: 10 },
            (_, i): Relayed => ({ kind: 'candidate', room: 'r', from: ref('u1', 'a'), candidate: `c${i}`, mid: '0' }),
          ),
          { kind: 'deliver', to: ref('u2'), message: { action: 'MediaClosed' } },
          { kind: 'connectionClosed', room: 'r', from: ref('u1', 'a') },
        ];
        // All at once, as the router relays what its media says, without waiting for each to go out.
        await Promise.all(sent.map((relayed) => onA.send('b', relayed)));
        await until('every message on b', () => received.length >= sent.length);
        assert.deepEqual(received, sent);
      } finally {
        onB.close();
        onA.close();
      }
    });

    test('what a node sends itself is received at once, without Redis', async () => {
      const received: Relayed[] = [];
      // Not listening: only the direct path can deliver it.
      const relay = new MediaRelay(connections[0]!, keys, 'a', async (relayed) => void received.push(relayed), silent);
      const message: Relayed = { kind: 'connectionClosed', room: 'r', from: ref('u1', 'a') };
      await relay.send('a', message);
      assert.deepEqual(received, [message]);
    });

    test('a closed relay receives nothing more; another relay of the node on the same connection still does', async () => {
      const closed: Relayed[] = [];
      const open: Relayed[] = [];
      const first = new MediaRelay(connections[1]!, keys, 'c', async (relayed) => void closed.push(relayed), silent);
      const second = new MediaRelay(connections[1]!, keys, 'c', async (relayed) => void open.push(relayed), silent);
      const sender = new MediaRelay(connections[0]!, keys, 'a', async () => undefined, silent);
      await first.listen();
      await second.listen();
      try {
        await sender.send('c', { kind: 'deliver', to: ref('u1', 'c'), message: { action: 'MediaClosed' } });
        await until('the first message on both', () => closed.length === 1 && open.length === 1);
        first.close();
        await sender.send('c', { kind: 'deliver', to: ref('u2', 'c'), message: { action: 'MediaReconnect' } });
        await until('the second message on the open relay', () => open.length === 2);
        // Both handlers hang off one subscription, called together: the closed one's was not.
        assert.equal(closed.length, 1);
      } finally {
        second.close();
      }
    });
  });

  describe('MediaFailover', () => {
    before(fresh);

    test("when a room's media node changes, each watched connection is told once; a lapsed claim names its node", async () => {
      const told: string[] = [];
      const lapsed: string[] = [];
      const failover = new MediaFailover((to) => told.push(to.uuid), silent);
      failover.watch('moved', 'b', ref('u1'));
      failover.watch('moved', 'b', ref('u2'));
      failover.watch('moved', 'b', ref('u2'));
      failover.watch('lapsed', 'c', ref('u3'));
      failover.watch('same', 'd', ref('u4'));
      const owners: Record<string, string | null> = { moved: 'e', lapsed: null, same: 'd' };

      await failover.check(
        async (room) => owners[room]!,
        (node) => lapsed.push(node),
      );
      assert.deepEqual(told.sort(), ['u1', 'u2', 'u3']);
      assert.deepEqual(lapsed, ['c']);
      assert.equal(failover.ownerFor('moved', ref('u1')), undefined);
      assert.equal(failover.ownerFor('same', ref('u4')), 'd');

      await failover.check(
        async () => 'f',
        (node) => lapsed.push(node),
      );
      assert.deepEqual(told.sort(), ['u1', 'u2', 'u3', 'u4']);
      assert.deepEqual(lapsed, ['c']);
    });

    test("a media node's claim lapsing in Redis makes the check tell its connections and name the node", async () => {
      const a = placement('a', 0, [{ node: 'a', load: 0 }]);
      const claim = keys.mediaClaim('dying');
      await connections[1]!.commands.set(claim, 'b');
      const owner = await a.ownerOf('dying');
      assert.equal(owner, 'b');
      const told: string[] = [];
      const lapsed: string[] = [];
      const failover = new MediaFailover((to) => told.push(to.uuid), silent);
      failover.watch('dying', owner, ref('u1', 'a'));
      const check = () =>
        failover.check(
          (room) => a.currentOwner(room),
          (node) => lapsed.push(node),
        );

      await check();
      assert.deepEqual(told, [], 'told while the claim held');
      // b stops renewing: its lease runs out.
      await connections[1]!.commands.pexpire(claim, LEASE_MS);
      await until('the claim to lapse', async () => (await a.currentOwner('dying')) === null);
      await check();
      assert.deepEqual(told, ['u1']);
      assert.deepEqual(lapsed, ['b']);
    });

    test('an offer that finds a new media node moves the room there: the others, whose media was on the old one, are told at once', async () => {
      const told: string[] = [];
      const failover = new MediaFailover((to) => told.push(to.uuid), silent);
      failover.watch('r', 'b', ref('u1'));
      failover.watch('r', 'b', ref('u2'));
      failover.watch('r', 'c', ref('u2'));
      assert.deepEqual(told, ['u1'], 'u2 offered again itself; u1 must offer again');
      assert.equal(failover.ownerFor('r', ref('u1')), undefined);
      assert.equal(failover.ownerFor('r', ref('u2')), 'c');
    });

    test('a check that overlaps an offer finding the new node tells nobody twice', async () => {
      const told: string[] = [];
      const failover = new MediaFailover((to) => told.push(to.uuid), silent);
      failover.watch('r', 'b', ref('u1'));
      await failover.check(
        async () => {
          failover.watch('r', 'c', ref('u2'));
          return 'c';
        },
        () => undefined,
      );
      assert.deepEqual(told, ['u1']);
      assert.equal(failover.ownerFor('r', ref('u2')), 'c', 'the new offer stays watched');
    });

    test('unwatch returns where the offer went and stops watching that connection', async () => {
      const told: string[] = [];
      const failover = new MediaFailover((to) => told.push(to.uuid), silent);
      failover.watch('r', 'b', ref('u1'));
      failover.watch('r', 'b', ref('u2'));

      assert.equal(failover.unwatch('r', ref('u1')), 'b');
      assert.equal(failover.unwatch('r', ref('u1')), undefined);
      assert.equal(failover.unwatch('elsewhere', ref('u2')), undefined);
      assert.equal(failover.ownerFor('r', ref('u1')), undefined);
      assert.equal(failover.ownerFor('r', ref('u2')), 'b');

      await failover.check(
        async () => 'c',
        () => undefined,
      );
      assert.deepEqual(told, ['u2']);

      failover.watch('r', 'c', ref('u3'));
      assert.equal(failover.unwatch('r', ref('u3')), 'c');
      await failover.check(
        async () => 'd',
        () => undefined,
      );
      assert.deepEqual(told, ['u2'], 'a room nobody is watched in any more was checked');
    });
  });
});
