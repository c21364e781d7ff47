-- CreateTable
CREATE TABLE "BackupPolicy" (
    "id" TEXT NOT NULL,
    "diskName" TEXT NOT NULL,
    "maxIncrementals" INTEGER,
    "schedule" TEXT,
    "keepChains" INTEGER,
    "compress" BOOLEAN,
    "lastScheduledAt" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "BackupPolicy_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Backup" (
    "id" TEXT NOT NULL,
    "disk" TEXT NOT NULL,
    "chainId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "reasonDetail" TEXT NOT NULL,
    "pointInTime" TIMESTAMP(3) NOT NULL,
    "completedAt" TIMESTAMP(3) NOT NULL,
    "fileSize" BIGINT NOT NULL,
    "virtualSize" BIGINT NOT NULL,
    "sha256" TEXT NOT NULL,
    "sourceLayer" TEXT NOT NULL,
    "verifyStatus" TEXT NOT NULL,
    "verifyProblems" TEXT NOT NULL DEFAULT '[]',
    "verifiedAt" TIMESTAMP(3),
    "jobId" TEXT,
    "seenAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Backup_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "BackupPolicy_diskName_key" ON "BackupPolicy"("diskName");

-- CreateIndex
CREATE INDEX "Backup_disk_chainId_seq_idx" ON "Backup"("disk", "chainId", "seq");
