import "server-only";
import { previewBackup } from "@/lib/backup";
import { connectLive } from "../ops/connect-live";
import { engineInput, inspectInput } from "./engine-input";

/** What the next backup would be and why, without making it. */
export async function previewNextBackup(disk: string, full = false): Promise<{ kind: string; reason: string; detail: string }> {
  const input = await engineInput(disk);
  const live = await connectLive(disk);
  try {
    const p = await previewBackup(inspectInput(disk, input, live?.qmp, full));
    return { kind: p.decision.kind, reason: p.decision.reason, detail: p.decision.detail };
  } finally {
    live?.close();
  }
}
