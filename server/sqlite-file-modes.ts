// The SQLite file holds the admin's password hash and the session hashes: owner-only. Free of "server-only"
// (the migration scripts use it too).
import fs from "node:fs";
import path from "node:path";
import { OWNER_ONLY_DIR, OWNER_ONLY_FILE, tightenToOwnerSync } from "../lib/owner-only";

/**
 * Creates the database's folder (owner-only when made here) and an empty owner-only file, when there is none.
 * SQLite makes its -wal and -shm files with the mode of the database file, so they follow it.
 */
export function createSqliteFileOwnerOnly(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: OWNER_ONLY_DIR });
  try {
    fs.closeSync(fs.openSync(file, "wx", OWNER_ONLY_FILE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
}

/** A database made before modes were set: takes group and other access off the file and its -wal/-shm. */
export function tightenSqliteFiles(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) tightenToOwnerSync(f);
}
