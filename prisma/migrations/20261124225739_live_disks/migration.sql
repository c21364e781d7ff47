-- AlterTable
ALTER TABLE "Disk" ADD COLUMN "qmpSocket" TEXT;
ALTER TABLE "Disk" ADD COLUMN "runDir" TEXT;
