/**
 * A full garbage collection now and then while staging a large export (issue #11). V8 lets its
 * heap grow far past what is live when a program allocates fast (a million rows: ~35 MB live,
 * ~250 MB of heap waiting for a collection); a collection every 5,000 rows of a large export
 * (once the engine's store is on disk) keeps the process nearer what it really holds, at a few
 * tens of ms each (measured: 30,000 rows peaked at 197 MB instead of 232 MB), without a hard heap limit (which
 * would turn a larger-than-expected export into a crash). The `gc` function is made available
 * at run time (node's --expose-gc, set through v8.setFlagsFromString); where that is refused,
 * nothing happens.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

let gc: (() => void) | null | undefined;

export function collectGarbage(): void {
  if (gc === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc') as () => void;
    } catch {
      gc = null;
    }
  }
  gc?.();
}

/**
 * Node flags the bridge's processes (CLI, server) are started with (issue #11): V8's young
 * generation capped at 4 MB a semi-space (V8 grows it to 16 MB while a program allocates fast).
 * Staging the million-record export into Odoo: peak RSS 256.6 → 244.3 MiB, the same time. A
 * heap flag only takes effect on the command line (set at run time it changed nothing), so the
 * launchers give it: the CLI's `#!` line, scripts/*.sh, docker-compose.yml, the benches and tests.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

/** rows between two collections */
export const COLLECT_EVERY = 5_000;
