// The dashboard's web server: `next start`, plus the one thing `next start` cannot do, telling the app the
// TCP peer's address. Next only fills X-Forwarded-For with the peer when the request has none, so a client that
// sends its own hides its real address from the login limits. Here every request gets the peer's address in
// x-canopy-peer-address (overwriting whatever the client sent), and the app believes that header only because
// this process sets CANOPY_PEER_ADDRESS_HEADER=1 (see server/auth/client-address-rules.ts, which names both). The
// connection's own protocol goes the same way, in x-canopy-peer-protocol (for the session cookie's Secure).
// It also refuses a router-state header Next cannot parse (Next answers that with a 500, and strips the header
// from what proxy.ts sees, so the proxy cannot refuse it), using Next's own parser.
//
//   NODE_ENV=production PORT=3000 HOST=127.0.0.1 node server/web/main.mjs   (after next build)
import http from "node:http";
import next from "next";
import { parseAndValidateFlightRouterState } from "next/dist/server/app-render/parse-and-validate-flight-router-state.js";
import nextConfig from "../../next.config.js";

const PEER_ADDRESS_HEADER = "x-canopy-peer-address";
const PEER_PROTOCOL_HEADER = "x-canopy-peer-protocol";
process.env.CANOPY_PEER_ADDRESS_HEADER = "1";

const port = Number(process.env.PORT ?? 3000);
const hostname = process.env.HOST ?? "127.0.0.1";

const app = next({ dev: false, hostname, port });
const handle = app.getRequestHandler();
await app.prepare();

/** The security headers next.config.js sends with every response, for the one answer given here. */
const securityHeaders = Object.fromEntries((await nextConfig.headers())[0].headers.map((h) => [h.key, h.value]));

function routerStateIsMalformed(request) {
  const value = request.headers["next-router-state-tree"];
  if (value === undefined) return false;
  try {
    parseAndValidateFlightRouterState(value);
    return false;
  } catch {
    return true;
  }
}

const server = http.createServer((request, response) => {
  request.headers[PEER_ADDRESS_HEADER] = request.socket.remoteAddress ?? "";
  request.headers[PEER_PROTOCOL_HEADER] = request.socket.encrypted ? "https" : "http";
  if (routerStateIsMalformed(request)) {
    response.writeHead(400, { ...securityHeaders, "content-type": "application/json", "cache-control": "no-store" });
    response.end(JSON.stringify({ error: { code: "invalid-input", message: "The router state header is malformed." } }));
    return;
  }
  handle(request, response).catch((err) => {
    console.error(err);
    if (!response.headersSent) response.statusCode = 500;
    response.end();
  });
});
server.listen(port, hostname, () => console.log(`Canopy dashboard on http://${hostname}:${port}`));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.close(() => process.exit(0)));
