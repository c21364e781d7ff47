// React-query keys that more than one part of the dashboard uses, kept apart from the hooks that fetch them, so
// that invalidating a query does not make one component folder import another's hooks.

/** One disk's tree: invalidate it after anything that changes the disk. */
export const diskTreeKey = (disk: string) => ["disk-tree", disk] as const;

/** A disk's backup state: invalidated with the tree when a job on the disk ends. */
export const diskBackupStateKey = (disk: string) => ["disk-backup-state", disk] as const;
