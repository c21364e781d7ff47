-- AlterTable
ALTER TABLE "Disk" ADD COLUMN     "qmpSocket" TEXT,
ADD COLUMN     "runDir" TEXT;
