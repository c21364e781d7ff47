import "dotenv/config";
import { getDb } from "@/server/db";
import { startDisk } from "@/server/live/disk-liveness";
import { findDaemonForDisk } from "@/lib/live";
import { startInteractive } from "@/lib/qemu/io";

/**
 * The demo's running disk: the disk named by the setting `demo.liveDisk` (vm-2, set when the demo root was
 * created) is held by a qemu-storage-daemon, and a small writer stands in for its guest, writing a 64 KiB block
 * every two seconds through the NBD export. Runs until it is stopped (npm start stops it on exit); the daemon
 * itself stays up, like a VM, and is found again next time.
 */
const setting = await getDb().setting.findUnique({ where: { key: "demo.liveDisk" } });
const disk = setting?.value;
if (!disk) process.exit(0);
const row = await getDb().disk.findUnique({ where: { name: disk } });
if (!row) process.exit(0);

let nbdUri: string;
const running = row.runDir ? await findDaemonForDisk(row.runDir) : null;
if (running && row.qmpSocket) nbdUri = running.nbdUri;
else {
  if (row.qmpSocket) await getDb().disk.update({ where: { id: row.id }, data: { status: "stopped", qmpSocket: null, runDir: null } });
  nbdUri = (await startDisk(disk, "demo")).nbdUri;
}
console.log(`canopy: demo disk ${disk} is running; a writer stands in for its guest (${nbdUri})`);

// Interactive qemu-io: one process, one command a line on stdin.
const io = startInteractive(nbdUri, "raw");
let n = 0;
const REGION = 32 * 1024 * 1024;
const timer = setInterval(() => {
  const offset = REGION + (n % 256) * 65536;
  io.stdin.write(`write -P 0x${((n % 250) + 1).toString(16)} ${offset} 64k\n`);
  n++;
}, 2000);
const stop = () => {
  clearInterval(timer);
  io.stdin.end("quit\n");
  setTimeout(() => process.exit(0), 500).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
io.on("exit", () => {
  clearInterval(timer);
  process.exit(0);
});
