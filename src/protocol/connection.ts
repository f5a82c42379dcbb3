/**
 * One participant's WebSocket connection, wherever it is in the cluster: whose (`uuid`), which one
 * (`conn`, so a replaced connection can never act for its successor) and on which node. A room's
 * membership names its connection this way, and the SFU addresses its answers the same way.
 */
export interface ConnectionRef {
  uuid: string;
  conn: string;
  node: string;
}
