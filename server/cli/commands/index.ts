import type { Command } from "./define-command";
import { scan } from "./scan";
import { tree } from "./tree";
import { snapshot, revert, mergeDown, mergeUp, remove, flatten, protect, unprotect, makeActive } from "./operations";
import { jobs } from "./jobs";
import { cancel } from "./cancel";
import { attach, start, stop } from "./liveness";
import { backup, backups, verify, restoreCommand, backupDelete, policy } from "./backups";
import { worker } from "./worker";

/** Every subcommand, in the order `canopy --help` lists them. */
export const commands = [scan, tree, snapshot, revert, mergeDown, mergeUp, remove, flatten, protect, unprotect, makeActive, jobs, cancel, worker, attach, start, stop, backup, backups, verify, restoreCommand, backupDelete, policy] as unknown as Command<
  unknown
>[];
