import path from "node:path";
import { CanopyError } from "../errors";
import { slots } from "../slots";
import * as img from "../qemu/img";
import { Qcow2TablesError } from "./allocation";
import { layerDataBytes, readThroughBytes } from "./data-bytes";

/**
 * The figures plans show, from the qcow2 tables (lib/qcow2/data-bytes.ts) rather than a qemu-img process per
 * layer. An image the tables reader cannot read exactly (subclusters, an external data file, encryption, a
 * backing file that is not qcow2, ...) is measured by qemu-img map as before, with shared locks (-U): a running
 * disk's active layer is held by QEMU and may change while it is read, so either figure is an estimate for the
 * plan. Tables that point outside their file are reported, not measured around.
 */

/**
 * Files measured at once: a merge of 500 layers asks for 500 figures together, which must not open 500 files
 * or start 500 processes.
 */
const limited = slots(8);

async function fromTablesOr(file: string, tables: () => Promise<number>, qemuImg: () => Promise<number>): Promise<number> {
  try {
    return await tables();
  } catch (err) {
    if (!(err instanceof Qcow2TablesError)) throw err;
    if (err.kind === "unsupported") return qemuImg();
    throw new CanopyError("failed", `cannot measure ${path.basename(file)}: ${err.message}`);
  }
}

/** Guest data a layer itself holds (what `qemu-img map` of the layer alone reports as data). */
export function measureLayerData(file: string): Promise<number> {
  return limited(() =>
    fromTablesOr(file, () => layerDataBytes(file), () => img.layerDataBytes(file, { shareLocks: true })),
  );
}

/** Guest data an image reads from below through its backing chain (one `qemu-img map` of the chain's figure). */
export function measureReadThrough(file: string): Promise<number> {
  return limited(() =>
    fromTablesOr(file, () => readThroughBytes(file), () => img.backingDataBytes(file, { shareLocks: true })),
  );
}
