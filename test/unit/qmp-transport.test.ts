import net from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { JsonLineTransport, LineDecoder, LineTooLongError, MessageParseError } from "../../lib/qmp/transport";
import { makeTempDir } from "../support/tmp";

// Recorded from qemu-storage-daemon 7.2 (lines end in \r\n). The last line carries a non-ASCII file name so
// that a chunk boundary can fall inside a multi-byte character.
const RECORDED = [
  '{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7+deb12u18+b3"}, "capabilities": ["oob"]}}',
  '{"return": {}, "id": 1}',
  '{"timestamp": {"seconds": 1795556948, "microseconds": 794190}, "event": "JOB_STATUS_CHANGE", "data": {"status": "created", "id": "j"}}',
  '{"timestamp": {"seconds": 1795556948, "microseconds": 794249}, "event": "JOB_STATUS_CHANGE", "data": {"status": "running", "id": "j"}}',
  '{"return": {}, "id": 5}',
  '{"id": 6, "error": {"class": "CommandNotFound", "desc": "The command nope has not been found"}}',
  '{"return": [{"node-name": "s1", "file": "/tmp/d\u00e9j\u00e0-vu/\u5c64.qcow2"}], "id": 7}',
];
const STREAM = Buffer.from(RECORDED.map((l) => `${l}\r\n`).join(""), "utf8");
const EXPECTED = RECORDED.map((l) => JSON.parse(l) as unknown);

function decodeAll(chunks: Buffer[]): unknown[] {
  const decoder = new LineDecoder();
  const out = chunks.flatMap((c) => decoder.push(c));
  expect(decoder.end()).toBe("");
  return out.map((l) => JSON.parse(l) as unknown);
}

describe("LineDecoder", () => {
  it("gives the same messages wherever a single split falls (every byte position)", () => {
    for (let cut = 0; cut <= STREAM.length; cut++) {
      expect(decodeAll([STREAM.subarray(0, cut), STREAM.subarray(cut)])).toEqual(EXPECTED);
    }
  });

  it("handles one byte at a time, including inside multi-byte characters and between \\r and \\n", () => {
    const bytes = [...STREAM].map((b) => Buffer.from([b]));
    expect(decodeAll(bytes)).toEqual(EXPECTED);
  });

  it("handles random chunk sizes", () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 50; round++) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < STREAM.length; ) {
        const size = 1 + Math.floor(rand() * 80);
        chunks.push(STREAM.subarray(at, at + size));
        at += size;
      }
      expect(decodeAll(chunks)).toEqual(EXPECTED);
    }
  });

  it("accepts bare \\n, skips empty lines and keeps an unterminated tail for end()", () => {
    const decoder = new LineDecoder();
    expect(decoder.push('{"a":1}\n\r\n\n{"b"')).toEqual(['{"a":1}']);
    expect(decoder.push(":2}")).toEqual([]);
    expect(decoder.end()).toBe('{"b":2}');
    expect(decoder.end()).toBe("");
  });

  it("refuses a line that grows past the limit", () => {
    const decoder = new LineDecoder(10);
    expect(decoder.push("12345")).toEqual([]);
    expect(() => decoder.push("678901")).toThrow(LineTooLongError);
  });
});

describe("JsonLineTransport over a unix socket", () => {
  const servers: net.Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  async function serve(onConnection: (socket: net.Socket) => void): Promise<string> {
    const socketPath = path.join(await makeTempDir("canopy-qmp-unit-"), "s.sock");
    const server = net.createServer(onConnection);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    return socketPath;
  }

  it("delivers recorded messages sent in awkward chunks, in order, then reports the peer's close", async () => {
    const socketPath = await serve((socket) => {
      // Cut inside the CJK character of the last line and between \r and \n of the first.
      const cuts = [RECORDED[0]!.length + 1, 200, STREAM.length - 20, STREAM.length - 15];
      let at = 0;
      for (const cut of cuts) {
        socket.write(STREAM.subarray(at, cut));
        at = cut;
      }
      socket.end(STREAM.subarray(at));
    });
    const transport = await JsonLineTransport.connect(socketPath, { timeoutMs: 2_000 });
    const received: unknown[] = [];
    transport.onMessage((m) => received.push(m));
    const closed = new Promise((resolve) => transport.onClose(resolve));
    await expect(closed).resolves.toEqual({ byUs: false, error: undefined });
    expect(received).toEqual(EXPECTED);
    expect(transport.closed).toBe(true);
    expect(() => transport.send({ execute: "quit" })).toThrow(/closed/);
  }, 5_000);

  it("reports a non-JSON line and keeps reading; sends one JSON value per line", async () => {
    let serverSocket: net.Socket | undefined;
    let resolveLine!: (line: string) => void;
    const gotLine = new Promise<string>((resolve) => (resolveLine = resolve));
    const socketPath = await serve((socket) => {
      serverSocket = socket;
      socket.setEncoding("utf8");
      socket.once("data", (d: string) => resolveLine(d));
      socket.write('not json\r\n{"return": {}, "id": 2}\r\n');
    });
    const transport = await JsonLineTransport.connect(socketPath, { timeoutMs: 2_000 });
    const errors: MessageParseError[] = [];
    const messages: unknown[] = [];
    transport.onParseError((e) => errors.push(e));
    const second = new Promise((resolve) => transport.onMessage(resolve));
    transport.onMessage((m) => messages.push(m));
    transport.send({ execute: "query-jobs", id: 2 });
    await expect(second).resolves.toEqual({ return: {}, id: 2 });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.line).toBe("not json");
    await expect(gotLine).resolves.toBe('{"execute":"query-jobs","id":2}\n');
    const closed = new Promise<unknown>((resolve) => transport.onClose(resolve));
    transport.close();
    await expect(closed).resolves.toEqual({ byUs: true });
    serverSocket?.destroy();
  }, 5_000);

  it("rejects a connect to a missing socket with the system error", async () => {
    const missing = path.join(await makeTempDir("canopy-qmp-unit-"), "none.sock");
    await expect(JsonLineTransport.connect(missing, { timeoutMs: 2_000 })).rejects.toMatchObject({ code: "ENOENT" });
  }, 5_000);

  it("reports a fragment left when the peer dies mid-line", async () => {
    const socketPath = await serve((socket) => socket.end('{"return": {}, "id": 1}\r\n{"retu'));
    const transport = await JsonLineTransport.connect(socketPath, { timeoutMs: 2_000 });
    const errors: MessageParseError[] = [];
    transport.onParseError((e) => errors.push(e));
    await new Promise((resolve) => transport.onClose(resolve));
    expect(errors.map((e) => e.line)).toEqual(['{"retu']);
  }, 5_000);
});
