import "dotenv/config";
import { exitOnStopSignals, runWorkerLoop } from "./loop";

// The worker as its own process, as `npm start` runs it (scripts/lib.sh start_worker); `canopy worker` runs the
// same loop from the CLI.
exitOnStopSignals();
await runWorkerLoop((line) => console.log(`canopy worker: ${line}`));
