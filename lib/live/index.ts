/**
 * The live side of Canopy's snapshot operations: the same plan steps as lib/ops/execute.ts, carried out on a
 * running disk through QMP (a VM, or a qemu-storage-daemon Canopy starts for the disk), plus the daemon
 * itself, the live view QEMU gives of the disk, and recovery after a worker restart mid-job.
 *
 *   const daemon = await startDaemonForDisk({ runDir, chain });           // or a VM's QMP socket
 *   const qmp = await QmpClient.connect(daemon.qmpSocket);
 *   for (const step of plan.steps) await executeLiveStep(step, { ...stepContext, qmp, target: { exportId: daemon.exportId } });
 *   // after a restart: await recoverLiveJob(plan, stepStates, ctx), then executeLiveStep for the steps left
 *   await stopDaemonForDisk(daemon);
 */

export { startDaemonForDisk, stopDaemonForDisk, findDaemonForDisk, daemonForDiskArgs, DISK_EXPORT_ID } from "./daemon-for-disk";
export type { ChainLayer, DaemonNode, DiskDaemon, StartDiskDaemonOptions, StopResult } from "./daemon-for-disk";
export { inspectLive, nodeNamed, nodeOfFile, chainOf, activeChain, childrenOf, usersOf, jobNamed } from "./inspect";
export type { LiveBitmap, LiveJob, LiveNode, LiveRoot, LiveTarget, LiveView } from "./inspect";
export { executeLiveStep } from "./execute-live";
export type { LiveStepContext, LiveStepResult } from "./context";
export { recoverLiveJob, decideLiveRecovery, interruptedStep } from "./recover";
export type { LiveRecovery, LiveRecoveryDecision, StepState } from "./recover";
export { LiveStepCancelled, LiveConnectionLost } from "./errors";
export { liveJobId } from "./job-id";
export { nodeNameFor, uniqueNodeName, isValidNodeName, MAX_NODE_NAME } from "./node-names";
export { prepareRunPaths, runPathsOf } from "./run-dir";
export type { RunPaths } from "./run-dir";
