/**
 * Sorted, disjoint guest byte ranges [start, end): the part of a disk not yet settled by the layers above while
 * a chain is read top-down. Its size follows the number of runs the layers make, never the number of clusters
 * of the disk: a fresh 1 TiB disk is one range.
 */
export class GuestRanges {
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  static of(start: number, end: number): GuestRanges {
    const r = new GuestRanges();
    r.add(start, end);
    return r;
  }

  /** Adds a range that starts at or after the end of the last one (merged with it when they touch). */
  add(start: number, end: number): void {
    if (end <= start) return;
    const last = this.ends.length - 1;
    if (last >= 0 && this.ends[last]! >= start) {
      this.ends[last] = Math.max(this.ends[last]!, end);
      return;
    }
    this.starts.push(start);
    this.ends.push(end);
  }

  /** The ranges cut at `size`: what lies beyond a shorter backing file reads as zeros. */
  clip(size: number): GuestRanges {
    if (this.ends.length === 0 || this.ends[this.ends.length - 1]! <= size) return this;
    const r = new GuestRanges();
    for (let i = 0; i < this.starts.length && this.starts[i]! < size; i++) r.add(this.starts[i]!, Math.min(this.ends[i]!, size));
    return r;
  }

  get isEmpty(): boolean {
    return this.starts.length === 0;
  }

  get count(): number {
    return this.starts.length;
  }

  start(i: number): number {
    return this.starts[i]!;
  }

  end(i: number): number {
    return this.ends[i]!;
  }
}
