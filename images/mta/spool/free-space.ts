// Free space in the queue's file system, so that new mail is refused (452 4.3.1, RFC 3463 "mail
// system full") before the disk fills, not after — a full disk would also stop the state files and
// bounces of mail already accepted. Measured with statfs, at most once per FREE_SPACE_CACHE_MS.
import { statfs } from 'node:fs/promises';

export interface FreeSpace {
  /** Whether at least `floor` bytes are free; a failed measurement counts as enough (the write will tell). */
  enough(): Promise<boolean>;
}

export function freeSpaceOf(
  dir: string,
  floorBytes: number,
  cacheMs: number,
  now: () => number = Date.now,
): FreeSpace {
  let measured: { at: number; free: number } | undefined;
  let pending: Promise<number> | undefined;
  const measure = async (): Promise<number> => {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  };
  return {
    async enough() {
      if (floorBytes <= 0) return true;
      const t = now();
      if (!measured || t - measured.at >= cacheMs) {
        pending ??= measure().finally(() => (pending = undefined));
        try {
          measured = { at: t, free: await pending };
        } catch {
          return true;
        }
      }
      return measured.free >= floorBytes;
    },
  };
}
