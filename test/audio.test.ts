import { mediaContract } from './support/media-contract.js';
import { startServer } from './support/server.js';

/** The media contract on the embedded default: one node, its SFU in this process. */
mediaContract('one node', async () => {
  const server = await startServer({ AUDIO_SLOTS: '2' });
  return { nodes: [server], close: () => server.close() };
});
