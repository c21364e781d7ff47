-- AlterTable
ALTER TABLE "Layer" ADD COLUMN     "backingFormat" TEXT;
