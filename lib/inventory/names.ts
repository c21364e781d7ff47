import path from "node:path";
import { CanopyError, shownInput } from "../errors";

/**
 * Disk and layer names arrive from URLs, forms and the command line. They are single path segments of a
 * safe alphabet, so no name can climb out of the storage root.
 */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The longest disk, layer or snapshot name (the NAME pattern's limit). */
export const MAX_NAME_LENGTH = 128;
/** The longest layer description. */
export const MAX_DESCRIPTION_LENGTH = 2000;

/** The shared templates' folder under the root: never a disk, and never written. */
export const TEMPLATES_FOLDER = "templates";

export function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}

export function assertName(kind: "disk" | "layer" | "snapshot", name: string): string {
  if (name.length > MAX_NAME_LENGTH) {
    throw new CanopyError(
      "invalid-input",
      `a ${kind} name is at most ${MAX_NAME_LENGTH} characters (${shownInput(name)} has ${name.length})`,
    );
  }
  if (!NAME.test(name) || name.includes("..")) {
    throw new CanopyError(
      "invalid-input",
      `"${name}" is not a valid ${kind} name (letters, digits, ".", "_" and "-"; no slashes)`,
    );
  }
  if (kind === "disk" && name === TEMPLATES_FOLDER) {
    throw new CanopyError("invalid-input", `"${TEMPLATES_FOLDER}" holds the shared templates and is not a disk; Canopy never writes into it`);
  }
  return name;
}

/** The folder of a disk, checked to be inside the root. */
export function diskFolder(root: string, disk: string): string {
  const folder = path.resolve(root, assertName("disk", disk));
  if (!isInside(root, folder)) throw new CanopyError("outside-root", `disk "${disk}" is outside the storage root`);
  return folder;
}
