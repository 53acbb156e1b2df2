/**
 * The last copies of records this process read or wrote, with their versions, bounded (the oldest is
 * forgotten first): the starting point of the next compare-and-set on a record, so a write does not re-read
 * what was just read or written. A copy made stale by another writer is harmless: its claim fails, and the
 * writer reads afresh and decides again (store/cas.ts compareAndSetFrom).
 */
export class Remembered<T> {
  private readonly copies = new Map<string, T>();

  constructor(private readonly limit = 20_000) {}

  get(key: string): T | undefined {
    return this.copies.get(key);
  }

  set(key: string, value: T): void {
    this.copies.delete(key);
    this.copies.set(key, value);
    if (this.copies.size > this.limit) this.copies.delete(this.copies.keys().next().value!);
  }

  delete(key: string): void {
    this.copies.delete(key);
  }

  get size(): number {
    return this.copies.size;
  }
}
