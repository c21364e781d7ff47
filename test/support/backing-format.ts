import { open } from "node:fs/promises";

const EXT_END = 0x00000000;
const EXT_BACKING_FORMAT = 0xe2792aca;
/** Header extensions of images qemu-img makes end well within this. */
const HEADER_READ = 4096;

/**
 * Removes the backing-format header extension from a qcow2 file, leaving the backing file name: an image as old
 * tools made them, whose backing format QEMU has to probe. qemu-img 7.2 no longer makes one (create and rebase
 * both refuse -b without -F), so tests edit the header: the extensions after it move up, and the bytes freed
 * before the old end marker become zeros (so the end marker moves up too).
 */
export async function dropBackingFormat(file: string): Promise<void> {
  const fh = await open(file, "r+");
  try {
    const head = Buffer.alloc(HEADER_READ);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const start = head.readUInt32BE(4) === 3 ? head.readUInt32BE(100) : 72; // v3 header_length; v2 is fixed
    const kept: Buffer[] = [];
    let found = false;
    let pos = start;
    for (;;) {
      if (pos + 8 > bytesRead) throw new Error(`${file}: no end of the header extensions in the first ${bytesRead} bytes`);
      const type = head.readUInt32BE(pos);
      if (type === EXT_END) break;
      const size = 8 + Math.ceil(head.readUInt32BE(pos + 4) / 8) * 8;
      if (type === EXT_BACKING_FORMAT) found = true;
      else kept.push(head.subarray(pos, pos + size));
      pos += size;
    }
    if (!found) throw new Error(`${file} records no backing format`);
    const rewritten = Buffer.alloc(pos - start); // zero-filled: the new end marker sits after the kept extensions
    Buffer.concat(kept).copy(rewritten);
    await fh.write(rewritten, 0, rewritten.length, start);
  } finally {
    await fh.close();
  }
}
