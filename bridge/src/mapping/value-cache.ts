/**
 * Per-column caches of normalized values (issue #11): exports repeat most values (countries,
 * dates, tags, states, owners) and a normalizer is a pure function of the cell (and of the
 * rule, fixed per column). A cache that finds few repeats after a while (emails, ids) stops
 * taking values, so unique columns cost nothing and hold no memory.
 */
export class ValueCache<V> {
  private readonly map = new Map<string, V>();
  private lookups = 0;
  private hits = 0;
  private open = true;

  constructor(private readonly max = 20_000) {}

  get(key: string): V | undefined {
    if (!this.open) return undefined;
    this.lookups += 1;
    const v = this.map.get(key);
    if (v !== undefined) this.hits += 1;
    else if (this.lookups === 4096 && this.hits < 1024) {
      // under a quarter of the first values repeated: not worth keeping
      this.open = false;
      this.map.clear();
    }
    return v;
  }

  set(key: string, value: V): void {
    if (this.open && this.map.size < this.max) this.map.set(key, value);
  }
}
