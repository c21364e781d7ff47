import { defineCommand } from "./define-command";
import { attachDisk, startDisk, stopDisk } from "../../live/disk-liveness";
import { cliActor } from "./actor";

export const start = defineCommand({
  name: "start",
  usage: "<disk> [--json]",
  summary: "Run a qemu-storage-daemon holding the disk (a stand-in VM, served over NBD)",
  positionals: [1, 1],
  run: ({ positionals }) => startDisk(positionals[0]!, cliActor()),
  human: (r) => `${r.disk}: running (daemon pid ${r.pid}); guest I/O at ${r.nbdUri}`,
});

export const stop = defineCommand({
  name: "stop",
  usage: "<disk> [--json]",
  summary: "Stop Canopy's daemon for the disk, or forget an attached VM's socket",
  positionals: [1, 1],
  run: ({ positionals }) => stopDisk(positionals[0]!, cliActor()),
  human: (r) => `${r.disk}: stopped (${r.how})`,
});

export const attach = defineCommand({
  name: "attach",
  usage: "<disk> --qmp <socket> [--json]",
  summary: "Record the QMP socket of a VM that holds the disk's active layer",
  positionals: [1, 1],
  options: { qmp: { type: "string", description: "the VM's QMP unix socket" } },
  run: ({ positionals, options }) => attachDisk(positionals[0]!, String(options.qmp ?? ""), cliActor()),
  human: (r) => `${r.disk}: running, attached to ${r.qmpSocket}`,
});
