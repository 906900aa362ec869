/**
 * Reads the active pointer's version from If-Match. Accepts `"3"`, `W/"3"`, `3` and lists of
 * them. Returns null when the header is absent; NaN when present but naming no version (it can
 * never match, so the caller answers 412).
 */
export function ifMatchVersions(header: string | undefined): number[] | null {
  if (header === undefined || header.trim() === '') return null;
  const versions = header.split(',').map((part) => {
    const tag = part.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
    return /^\d{1,15}$/.test(tag) ? Number(tag) : Number.NaN;
  });
  return versions;
}

/** The one version to compare-and-swap against: the first listed (lists are unusual here). */
export function ifMatchVersion(header: string | undefined): number | null {
  const versions = ifMatchVersions(header);
  if (versions === null) return null;
  return versions[0] ?? Number.NaN;
}
