/**
 * Trust checks on an index: the signature over the exact compressed bytes (required when the
 * repository lists keys), then, once parsed, rollback (a serial lower than the one already accepted)
 * and freeze (past `expires`). Enstaller's unsigned legacy index is refused where it would weaken
 * either.
 */
import { PkgError } from '../errors.js';
import { parsePublicKey, parseSignature, verifySignature } from '../repodata/sign.js';
import { RepoErrorCodes } from './errors.js';
import type { RepoIndex, RepositoryConfig } from './types.js';

/** Check the signature; returns true when a configured key verified it, false when none is configured. */
export function verifyIndexSignature(bytes: Buffer, signature: Buffer | null, repo: RepositoryConfig, source: string): boolean {
  if (repo.keys.length === 0) return false;
  const keys = repo.keys.map((k, i) => parsePublicKey(k, `${repo.origin}: keys[${i}]`));
  if (signature === null) {
    throw new PkgError(
      RepoErrorCodes.INDEX_SIGNATURE_MISSING,
      `${source}: no signature (index.json.zst.sig), but repository ${repo.name} has trusted keys configured`,
      {
        hint: 'the publisher should sign the index ("enpkg repo index --sign KEYFILE"); the cached index was kept',
        details: { source, repository: repo.name },
      },
    );
  }
  const sig = parseSignature(signature);
  if (sig === null || !verifySignature(bytes, sig, keys)) {
    throw new PkgError(
      RepoErrorCodes.INDEX_SIGNATURE_INVALID,
      `${source}: the signature ${sig === null ? 'is malformed (expected base64 of 64 bytes)' : 'does not verify with any trusted key'}`,
      {
        hint: "the index was altered, or signed with a key that is not listed under the repository's keys; the cached index was kept",
        details: { source, repository: repo.name },
      },
    );
  }
  return true;
}

/** A legacy index.json (md5 only, unsigned) is acceptable only where nothing stronger is expected. */
export function checkLegacyAllowed(repo: RepositoryConfig, acceptedSerial: number | null, source: string): void {
  if (repo.keys.length > 0) {
    throw new PkgError(
      RepoErrorCodes.INDEX_LEGACY_REFUSED,
      `${source}: only a legacy index.json (unsigned) was found, but repository ${repo.name} has trusted keys configured`,
      {
        hint: 'the publisher should run "enpkg repo index --sign KEYFILE"',
        details: { source, repository: repo.name },
      },
    );
  }
  if (acceptedSerial !== null && acceptedSerial > 0) {
    throw new PkgError(
      RepoErrorCodes.INDEX_LEGACY_REFUSED,
      `${source}: only a legacy index.json was found, ` +
        `but serial ${acceptedSerial} of index.json.zst was accepted from repository ${repo.name} before (a downgrade)`,
      {
        hint: 'the publisher should restore index.json.zst',
        details: { source, repository: repo.name, accepted: acceptedSerial },
      },
    );
  }
}

export interface FreshnessOptions {
  readonly acceptedSerial: number | null;
  readonly now: Date;
  readonly source: string;
  readonly repo: RepositoryConfig;
  /** Where the accepted serial is kept (named in the rollback hint). */
  readonly serialFile: string;
}

export function checkFreshness(index: Pick<RepoIndex, 'format' | 'serial' | 'expires'>, opts: FreshnessOptions): void {
  if (index.format === 'legacy') return;
  if (opts.acceptedSerial !== null && index.serial < opts.acceptedSerial) {
    throw new PkgError(
      RepoErrorCodes.INDEX_ROLLBACK,
      `${opts.source}: serial ${index.serial} is lower than serial ${opts.acceptedSerial} ` +
        `already accepted from repository ${opts.repo.name} (an old index replayed: rollback)`,
      {
        hint: `a mirror may be out of date; if the repository was really reset, delete ${opts.serialFile}; the cached index was kept`,
        details: { source: opts.source, repository: opts.repo.name, serial: index.serial, accepted: opts.acceptedSerial },
      },
    );
  }
  if (index.expires !== null && Date.parse(index.expires) <= opts.now.getTime()) {
    throw new PkgError(
      RepoErrorCodes.INDEX_EXPIRED,
      `${opts.source}: expired at ${index.expires} (serial ${index.serial}); an index past its expiry may be a frozen, outdated copy`,
      {
        hint: 'the publisher should run "enpkg repo index" again (with --expires); the cached index was kept',
        details: { source: opts.source, repository: opts.repo.name, expires: index.expires },
      },
    );
  }
}
