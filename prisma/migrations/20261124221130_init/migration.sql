-- CreateTable
CREATE TABLE "Disk" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "folder" TEXT NOT NULL,
    "activeLayer" TEXT,
    "status" TEXT NOT NULL DEFAULT 'stopped',
    "problems" TEXT NOT NULL DEFAULT '[]',
    "scannedAt" DATETIME NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "Layer" (
    "id" TEXT NOT NULL PRIMARY KEY,
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
    "modifiedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "protected" BOOLEAN NOT NULL DEFAULT false,
    "description" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "seenAt" DATETIME NOT NULL,
    CONSTRAINT "Layer_diskId_fkey" FOREIGN KEY ("diskId") REFERENCES "Disk" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Job" (
    "id" TEXT NOT NULL PRIMARY KEY,
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
    "heartbeatAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" DATETIME,
    "endedAt" DATETIME,
    CONSTRAINT "Job_diskId_fkey" FOREIGN KEY ("diskId") REFERENCES "Disk" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "DiskLock" (
    "diskId" TEXT NOT NULL PRIMARY KEY,
    "jobId" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "DiskLock_diskId_fkey" FOREIGN KEY ("diskId") REFERENCES "Disk" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "DiskLock_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "JobStep" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "jobId" TEXT NOT NULL,
    "index" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "detail" TEXT,
    "startedAt" DATETIME,
    "endedAt" DATETIME,
    CONSTRAINT "JobStep_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "AuditEvent" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "diskId" TEXT,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "detail" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "AuditEvent_diskId_fkey" FOREIGN KEY ("diskId") REFERENCES "Disk" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Setting" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "value" TEXT NOT NULL
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
