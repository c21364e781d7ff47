import net from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { QmpClient } from "../../lib/qmp/client";
import { QmpAbortError, QmpClosedError, QmpConnectError, QmpError, QmpTimeoutError } from "../../lib/qmp/errors";
import type { QmpEvent, RawQmpEvent } from "../../lib/qmp/types";
import { makeTempDir } from "../support/tmp";

/**
 * Protocol behaviour the real daemon cannot be made to show on demand (replies out of order, a reply with no
 * id, a silent peer), against a scripted peer that speaks recorded QMP. The integration tests cover the rest
 * against qemu-storage-daemon itself.
 */

const GREETING =
  '{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian"}, "capabilities": ["oob"]}}\r\n';
const TS = '"timestamp": {"seconds": 1795556948, "microseconds": 794190}';

interface Request {
  execute: string;
  id?: unknown;
  arguments?: Record<string, unknown>;
}
type Script = (request: Request, reply: (line: string) => void, socket: net.Socket) => void;

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
const clients: QmpClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A peer that greets (unless told not to), accepts qmp_capabilities and hands other requests to `script`. */
async function fakeQmp(script: Script, options: { greet?: boolean } = {}): Promise<string> {
  const socketPath = path.join(await makeTempDir("canopy-qmp-unit-"), "qmp.sock");
  const server = net.createServer((socket) => {
    sockets.push(socket);
    if (options.greet !== false) socket.write(GREETING);
    let buffered = "";
    socket.setEncoding("utf8");
    socket.on("data", (data: string) => {
      buffered += data;
      let nl: number;
      while ((nl = buffered.indexOf("\n")) !== -1) {
        const request = JSON.parse(buffered.slice(0, nl)) as Request;
        buffered = buffered.slice(nl + 1);
        const reply = (line: string) => socket.write(`${line}\r\n`);
        if (request.execute === "qmp_capabilities") reply(JSON.stringify({ return: {}, id: request.id }));
        else script(request, reply, socket);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return socketPath;
}

async function connect(socketPath: string, timeoutMs = 2_000): Promise<QmpClient> {
  const client = await QmpClient.connect(socketPath, { timeoutMs, defaultTimeoutMs: 2_000 });
  clients.push(client);
  return client;
}

describe("QmpClient protocol handling", () => {
  it("matches replies to calls by id when QEMU answers out of order", async () => {
    const held: Request[] = [];
    const socketPath = await fakeQmp((request, reply) => {
      held.push(request);
      if (held.length < 3) return;
      // Answer the three held requests in reverse order, each with its own name as the value.
      for (const r of held.reverse()) reply(JSON.stringify({ return: `answer to ${r.execute}`, id: r.id }));
    });
    const client = await connect(socketPath);
    expect(client.greeting.QMP.version.qemu.major).toBe(7);
    const answers = await Promise.all([
      client.executeRaw("a"),
      client.executeRaw("b"),
      client.executeRaw("c", { x: 1 }),
    ]);
    expect(answers).toEqual(["answer to a", "answer to b", "answer to c"]);
    expect(held.map((r) => r.arguments)).toEqual([{ x: 1 }, undefined, undefined]);
  }, 5_000);

  it("turns an error reply into QmpError and gives a reply without id to the oldest call", async () => {
    const socketPath = await fakeQmp((request, reply) => {
      if (request.execute === "bad") {
        reply(JSON.stringify({ id: request.id, error: { class: "CommandNotFound", desc: "The command bad has not been found" } }));
      } else {
        reply('{"error": {"class": "GenericError", "desc": "JSON parse error, invalid literal"}}');
      }
    });
    const client = await connect(socketPath);
    const bad = await client.executeRaw("bad").catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(QmpError);
    expect(bad).toMatchObject({ class: "CommandNotFound", desc: "The command bad has not been found", command: "bad" });
    await expect(client.executeRaw("garbled")).rejects.toMatchObject({ desc: "JSON parse error, invalid literal" });
  }, 5_000);

  it("times out and aborts calls, and drops their late replies", async () => {
    const late: Array<() => void> = [];
    const socketPath = await fakeQmp((request, reply) => {
      if (request.execute === "slow") late.push(() => reply(JSON.stringify({ return: "late", id: request.id })));
      else reply(JSON.stringify({ return: "fast", id: request.id }));
    });
    const client = await connect(socketPath);
    await expect(client.executeRaw("slow", undefined, { timeoutMs: 50 })).rejects.toBeInstanceOf(QmpTimeoutError);
    const controller = new AbortController();
    const aborted = client.executeRaw("slow", undefined, { signal: controller.signal });
    controller.abort();
    await expect(aborted).rejects.toBeInstanceOf(QmpAbortError);
    await expect(aborted).rejects.toMatchObject({ name: "AbortError" });
    for (const send of late) send();
    await expect(client.executeRaw("quick")).resolves.toBe("fast");
  }, 5_000);

  it("dispatches typed events, unknown events, and an async iterator", async () => {
    const socketPath = await fakeQmp((request, reply) => {
      reply(`{${TS}, "event": "JOB_STATUS_CHANGE", "data": {"status": "created", "id": "j1"}}`);
      reply(`{${TS}, "event": "SOMETHING_NEW", "data": {"x": 1}}`);
      reply(JSON.stringify({ return: {}, id: request.id }));
      reply(`{${TS}, "event": "BLOCK_JOB_READY", "data": {"device": "j1", "len": 5, "offset": 5, "speed": 0, "type": "commit"}}`);
    });
    const client = await connect(socketPath);
    const statuses: string[] = [];
    const any: RawQmpEvent[] = [];
    const sub = client.on("JOB_STATUS_CHANGE", (e) => statuses.push(`${e.data.id}:${e.data.status}`));
    client.onAnyEvent((e) => any.push(e));
    const stream = client.events({ names: ["BLOCK_JOB_READY", "JOB_STATUS_CHANGE"] });
    const ready = client.waitForEvent("BLOCK_JOB_READY", (e) => e.data.device === "j1", { timeoutMs: 1_000 });
    await client.executeRaw("go");
    await expect(ready).resolves.toMatchObject({ data: { len: 5 } });
    expect(statuses).toEqual(["j1:created"]);
    expect(any.map((e) => e.event)).toEqual(["JOB_STATUS_CHANGE", "SOMETHING_NEW", "BLOCK_JOB_READY"]);
    const seen: QmpEvent[] = [];
    for await (const event of stream) {
      seen.push(event);
      if (seen.length === 2) break;
    }
    expect(seen.map((e) => e.event)).toEqual(["JOB_STATUS_CHANGE", "BLOCK_JOB_READY"]);
    sub.dispose();
    await client.executeRaw("go");
    expect(statuses).toEqual(["j1:created"]);
  }, 5_000);

  it("rejects pending calls, waits and iterators when the peer goes away", async () => {
    const socketPath = await fakeQmp((_request, _reply, socket) => socket.destroy());
    const client = await connect(socketPath);
    const closes: QmpClosedError[] = [];
    client.onClose((e) => closes.push(e));
    const wait = client.waitForEvent("SHUTDOWN", undefined, { timeoutMs: 1_000 });
    const iterator = client.events();
    const next = iterator.next();
    await expect(client.executeRaw("query-jobs")).rejects.toBeInstanceOf(QmpClosedError);
    await expect(wait).rejects.toBeInstanceOf(QmpClosedError);
    await expect(next).rejects.toBeInstanceOf(QmpClosedError);
    expect(client.closed).toBe(true);
    expect(closes).toHaveLength(1);
    await expect(client.executeRaw("query-jobs")).rejects.toThrow(/not connected/);
  }, 5_000);

  it("gives a clear error when the socket accepts but never greets (another client holds it)", async () => {
    const socketPath = await fakeQmp(() => undefined, { greet: false });
    const error = await QmpClient.connect(socketPath, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QmpConnectError);
    expect((error as Error).message).toMatch(/no greeting within .*one client at a time/);
  }, 5_000);

  it("times out and aborts event waits and iterators", async () => {
    const socketPath = await fakeQmp(() => undefined);
    const client = await connect(socketPath);
    await expect(client.waitForEvent("SHUTDOWN", undefined, { timeoutMs: 50 })).rejects.toBeInstanceOf(QmpTimeoutError);
    const controller = new AbortController();
    const waiting = client.waitForEvent("SHUTDOWN", undefined, { signal: controller.signal });
    const next = client.events({ signal: controller.signal }).next();
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(QmpAbortError);
    await expect(next).rejects.toBeInstanceOf(QmpAbortError);
  }, 5_000);

  it("ends an iterator quietly on the client's own close()", async () => {
    const socketPath = await fakeQmp(() => undefined);
    const client = await connect(socketPath);
    const iterator = client.events();
    const next = iterator.next();
    client.close();
    await expect(next).resolves.toEqual({ value: undefined, done: true });
  }, 5_000);
});
