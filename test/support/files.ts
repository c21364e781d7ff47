import { createHash } from "node:crypto";
import { readFile, readdir, stat } from "node:fs/promises";
import path from "node:path";

/** Content hash and mtime of every file under a folder: proof that an operation changed nothing. */
export async function fingerprintTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const [buf, st] = await Promise.all([readFile(p), stat(p)]);
        out[path.relative(dir, p)] = `${createHash("sha256").update(buf).digest("hex")}@${st.mtimeMs}`;
      }
    }
  };
  await walk(dir);
  return out;
}

/** Content hash, mtime and size of one file: proof that nothing wrote to it. */
export async function fingerprintFile(file: string): Promise<string> {
  const [buf, st] = await Promise.all([readFile(file), stat(file)]);
  return `${createHash("sha256").update(buf).digest("hex")}@${st.mtimeMs}@${st.size}`;
}
