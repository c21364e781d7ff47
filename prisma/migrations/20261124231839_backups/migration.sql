-- CreateTable
CREATE TABLE "BackupPolicy" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "diskName" TEXT NOT NULL,
    "maxIncrementals" INTEGER,
    "schedule" TEXT,
    "keepChains" INTEGER,
    "compress" BOOLEAN,
    "lastScheduledAt" DATETIME,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "Backup" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "disk" TEXT NOT NULL,
    "chainId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "reasonDetail" TEXT NOT NULL,
    "pointInTime" DATETIME NOT NULL,
    "completedAt" DATETIME NOT NULL,
    "fileSize" BIGINT NOT NULL,
    "virtualSize" BIGINT NOT NULL,
    "sha256" TEXT NOT NULL,
    "sourceLayer" TEXT NOT NULL,
    "verifyStatus" TEXT NOT NULL,
    "verifyProblems" TEXT NOT NULL DEFAULT '[]',
    "verifiedAt" DATETIME,
    "jobId" TEXT,
    "seenAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "BackupPolicy_diskName_key" ON "BackupPolicy"("diskName");

-- CreateIndex
CREATE INDEX "Backup_disk_chainId_seq_idx" ON "Backup"("disk", "chainId", "seq");
