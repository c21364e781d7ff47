import type { Command } from "../command";
import { scan } from "./scan";
import { tree } from "./tree";

/** Every subcommand, in the order `canopy --help` lists them. */
export const commands: Command<never>[] = [scan, tree] as unknown as Command<never>[];
