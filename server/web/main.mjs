// The dashboard's web server: `next start`, plus the one thing `next start` cannot do, telling the app the
// TCP peer's address. Next only fills X-Forwarded-For with the peer when the request has none, so a client that
// sends its own hides its real address from the login limits. Here every request gets the peer's address in
// x-canopy-peer-address (overwriting whatever the client sent), and the app believes that header only because
// this process sets CANOPY_PEER_ADDRESS_HEADER=1 (see server/auth/client-address-rules.ts, which names both).
//
//   NODE_ENV=production PORT=3000 HOST=127.0.0.1 node server/web/main.mjs   (after next build)
import http from "node:http";
import next from "next";

const PEER_ADDRESS_HEADER = "x-canopy-peer-address";
process.env.CANOPY_PEER_ADDRESS_HEADER = "1";

const port = Number(process.env.PORT ?? 3000);
const hostname = process.env.HOST ?? "127.0.0.1";

const app = next({ dev: false, hostname, port });
const handle = app.getRequestHandler();
await app.prepare();

const server = http.createServer((request, response) => {
  request.headers[PEER_ADDRESS_HEADER] = request.socket.remoteAddress ?? "";
  handle(request, response).catch((err) => {
    console.error(err);
    if (!response.headersSent) response.statusCode = 500;
    response.end();
  });
});
server.listen(port, hostname, () => console.log(`Canopy dashboard on http://${hostname}:${port}`));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.close(() => process.exit(0)));
