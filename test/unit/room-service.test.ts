import { MemoryRoomStore } from '../../src/cluster/memory-room-store.js';
import { eventStreamContract } from '../support/event-stream-contract.js';
import { CONTRACT_HISTORY, roomServiceContract } from '../support/room-service-contract.js';

roomServiceContract('memory store', async () => {
  const store = new MemoryRoomStore(CONTRACT_HISTORY);
  // Two services over one store race each other like two nodes, exercising the commit-conflict retry.
  return { stores: [store, store], close: () => store.close() };
});

eventStreamContract('memory store', async () => {
  const store = new MemoryRoomStore(CONTRACT_HISTORY);
  return { store, close: () => store.close() };
});
