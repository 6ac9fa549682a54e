/** Starting and stopping the test servers of test/support on loopback: an HTTP server with its WebSocket server. */
import type { Server } from 'node:http';
import type { WebSocketServer } from 'ws';

/** Listens on 127.0.0.1, a free port: the port. */
export async function listenOnLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  return typeof addr === 'object' && addr !== null ? addr.port : 0;
}

/** Ends every WebSocket client, then the WebSocket server, every HTTP connection and the HTTP server. */
export async function closeHttpAndWs(server: Server, wss: WebSocketServer): Promise<void> {
  for (const c of wss.clients) c.terminate();
  await new Promise<void>((r) => {
    wss.close(() => {
      r();
    });
  });
  server.closeAllConnections();
  await new Promise<void>((r) => {
    server.close(() => {
      r();
    });
  });
}
