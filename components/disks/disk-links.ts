/** The dashboard's addresses of a disk, built one way (a disk's name may hold characters a URL must escape). */

export function diskHref(name: string): string {
  return `/disks/${encodeURIComponent(name)}`;
}

export function diskBackupsHref(name: string): string {
  return `${diskHref(name)}/backups`;
}
