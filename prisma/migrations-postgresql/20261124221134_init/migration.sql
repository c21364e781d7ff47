-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Disk" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "folder" TEXT NOT NULL,
    "activeLayer" TEXT,
    "status" TEXT NOT NULL DEFAULT 'stopped',
    "problems" TEXT NOT NULL DEFAULT '[]',
    "scannedAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Disk_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Layer" (
    "id" TEXT NOT NULL,
    "diskId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "file" TEXT NOT NULL,
    "parent" TEXT,
    "backingFile" TEXT,
    "template" BOOLEAN NOT NULL,
    "version" INTEGER NOT NULL,
    "virtualSize" BIGINT NOT NULL,
    "clusterSize" INTEGER NOT NULL,
    "fileSize" BIGINT NOT NULL,
    "dirty" BOOLEAN NOT NULL,
    "corrupt" BOOLEAN NOT NULL,
    "bitmaps" TEXT NOT NULL DEFAULT '[]',
    "modifiedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "protected" BOOLEAN NOT NULL DEFAULT false,
    "description" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "seenAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Layer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Job" (
    "id" TEXT NOT NULL,
    "diskId" TEXT,
    "kind" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "params" TEXT NOT NULL,
    "plan" TEXT,
    "progressDone" BIGINT NOT NULL DEFAULT 0,
    "progressTotal" BIGINT NOT NULL DEFAULT 0,
    "stage" TEXT,
    "error" TEXT,
    "requestedBy" TEXT NOT NULL DEFAULT 'cli',
    "cancelRequested" BOOLEAN NOT NULL DEFAULT false,
    "workerPid" INTEGER,
    "heartbeatAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "endedAt" TIMESTAMP(3),

    CONSTRAINT "Job_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DiskLock" (
    "diskId" TEXT NOT NULL,
    "jobId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "DiskLock_pkey" PRIMARY KEY ("diskId")
);

-- CreateTable
CREATE TABLE "JobStep" (
    "id" TEXT NOT NULL,
    "jobId" TEXT NOT NULL,
    "index" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "detail" TEXT,
    "startedAt" TIMESTAMP(3),
    "endedAt" TIMESTAMP(3),

    CONSTRAINT "JobStep_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditEvent" (
    "id" TEXT NOT NULL,
    "diskId" TEXT,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "detail" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AuditEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Setting" (
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,

    CONSTRAINT "Setting_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE UNIQUE INDEX "Disk_name_key" ON "Disk"("name");

-- CreateIndex
CREATE UNIQUE INDEX "Layer_diskId_name_key" ON "Layer"("diskId", "name");

-- CreateIndex
CREATE INDEX "Job_diskId_state_idx" ON "Job"("diskId", "state");

-- CreateIndex
CREATE UNIQUE INDEX "DiskLock_jobId_key" ON "DiskLock"("jobId");

-- CreateIndex
CREATE UNIQUE INDEX "JobStep_jobId_index_key" ON "JobStep"("jobId", "index");

-- AddForeignKey
ALTER TABLE "Layer" ADD CONSTRAINT "Layer_diskId_fkey" FOREIGN KEY ("diskId") REFERENCES "Disk"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Job" ADD CONSTRAINT "Job_diskId_fkey" FOREIGN KEY ("diskId") REFERENCES "Disk"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DiskLock" ADD CONSTRAINT "DiskLock_diskId_fkey" FOREIGN KEY ("diskId") REFERENCES "Disk"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DiskLock" ADD CONSTRAINT "DiskLock_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "JobStep" ADD CONSTRAINT "JobStep_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AuditEvent" ADD CONSTRAINT "AuditEvent_diskId_fkey" FOREIGN KEY ("diskId") REFERENCES "Disk"("id") ON DELETE SET NULL ON UPDATE CASCADE;
