/**
 * A memo with a hard cap: two generations of Map. New keys go into the young one; when it
 * is full it becomes the old one and the previous old one is dropped. A hit in the old
 * generation is promoted. At most 2 × capacity keys are ever held — an LRU
 * approximation that costs one extra Map.get on a young miss.
 */
export class BoundedMemo<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private readonly capacity: number;
  /** How many times the young generation filled up and the old one was dropped. */
  evictions = 0;

  constructor(capacity: number) {
    this.capacity = Math.max(1, Math.floor(capacity));
  }

  get(key: K): V | undefined {
    const v = this.young.get(key);
    if (v !== undefined) return v;
    const o = this.old.get(key);
    if (o !== undefined) this.set(key, o);
    return o;
  }

  set(key: K, value: V): void {
    if (this.young.size >= this.capacity) {
      this.old = this.young;
      this.young = new Map();
      this.evictions++;
    }
    this.young.set(key, value);
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  clear(): void {
    this.young = new Map();
    this.old = new Map();
  }
}
