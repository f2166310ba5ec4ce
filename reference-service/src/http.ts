import * as http from "http";

export interface Reply {
  status: number;
  /** Sent as JSON unless `contentType` says otherwise (then it must be a string). */
  body: unknown;
  contentType?: string;
}

export type Handler = (req: http.IncomingMessage, url: URL) => Promise<Reply>;

/** Bodies above this are refused: the service records them, and nobody sends it megabytes. */
const MAX_BODY_BYTES = 1024 * 1024;

export class BodyTooLargeError extends Error {}

export async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError(`request body above ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(res: http.ServerResponse, reply: Reply): void {
  const text = reply.contentType ? String(reply.body) : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    "content-type": reply.contentType ?? "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** An HTTP server on every interface (the container's address is not known in advance). */
export function listen(port: number, handler: Handler): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    handler(req, url).then(
      (reply) => send(res, reply),
      // Handlers answer their own failures; this is the last resort for a bug.
      (err: Error) => send(res, { status: 500, body: { error: err.message } }),
    );
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

/**
 * Stops accepting and resolves once the requests in flight are answered; connections still
 * open at `deadline` are cut so that shutdown stays within the orchestrator's grace period.
 */
export function close(server: http.Server, deadline: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), Math.max(0, deadline - Date.now()));
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    // Idle keep-alive connections would otherwise hold close() open until they time out.
    server.closeIdleConnections();
  });
}
