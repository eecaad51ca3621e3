/**
 * enpkg's contract types: package ids, versions, requirements, resolver requests and their results,
 * and the plan. Types only: this module imports no implementation.
 */

/** A package as the repositories (or the installed state) describe it. */
export interface PackageInfo {
  /** The name as spelled by the package (display). */
  readonly name: string;
  /** The canonical key: the lower-cased name. Names compare case-insensitively. */
  readonly key: string;
  /** The upstream version, e.g. `1.8.1`. Never contains `-`. */
  readonly version: string;
  /** The build number (>= 0). */
  readonly build: number;
  /** Requirement strings (FORMATS section 5), e.g. `numpy 1.8.1-1` or `MKL >= 10.3`. */
  readonly depends: readonly string[];
  /** `2.7` style; null or absent: not Python-specific. */
  readonly python?: string | null;
  /** e.g. `linux2`, `darwin`, `win32`; null or absent: any. */
  readonly platform?: string | null;
  /** `x86`, `amd64`; null or absent: any. */
  readonly arch?: string | null;
  /**
   * The repository it comes from (absent: installed, or described). A candidate is identified by
   * repository, name, version, build and metadata: the same name-version-build from two repositories,
   * or with other dependencies, are two candidates; on equal versions the earlier repository wins.
   */
  readonly repository?: string;
}

/** A parsed version: upstream (`1.8.1`) plus build (`-1`). */
export interface EggVersion {
  /** Exactly as written (`1.3.0-1`, or `1.3` when no build was given). */
  readonly text: string;
  readonly upstream: string;
  /** 0 when the text had no build. */
  readonly build: number;
  readonly hasBuild: boolean;
  /**
   * Comparison key of the upstream part, compared element-wise; null when the upstream does not
   * parse (then `parts` are compared, and any parseable version is greater).
   */
  readonly key: readonly number[] | null;
  /** The `.`-separated strings of the upstream (used when `key` is null). */
  readonly parts: readonly string[];
}

export type ConstraintOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | '^=';

export interface Constraint {
  readonly op: ConstraintOp;
  readonly version: EggVersion;
}

/** A parsed requirement: a name and constraints that must all hold (none: any version). */
export interface Requirement {
  /** Normalized text, e.g. `numpy >= 1.8, < 2.0` or `numpy 1.8.0-1` (legacy forms kept). */
  readonly text: string;
  readonly name: string;
  readonly key: string;
  readonly constraints: readonly Constraint[];
}

/** Where packages are to be installed: candidates for another python/platform/arch are skipped. */
export interface Environment {
  readonly python?: string | null;
  readonly platform?: string | null;
  readonly arch?: string | null;
}

export type Job =
  | { readonly kind: 'install'; readonly requirement: Requirement }
  | { readonly kind: 'remove'; readonly requirement: Requirement }
  | { readonly kind: 'update'; readonly requirement: Requirement }
  | { readonly kind: 'update_all' };

export type JobKind = Job['kind'];

/**
 * What the resolver needs: the packages the repositories offer, what is installed, which installed
 * packages the user asked for (marked; the others were pulled in as dependencies) and the jobs.
 */
export interface ResolveRequest {
  /** Packages available from the repositories (installed packages need not be listed here). */
  readonly available: readonly PackageInfo[];
  readonly installed: readonly PackageInfo[];
  /** Keys (or names) of the installed packages the user asked for; absent: every installed package. */
  readonly marked?: readonly string[];
  readonly jobs: readonly Job[];
  readonly environment?: Environment;
  /** Fail (with the reasons) when an update target cannot reach its newest version, instead of holding it back. */
  readonly strict?: boolean;
}

/** An update target that did not reach its newest version, and why (one line). */
export interface HeldBack {
  /** Its version after the request (null: not installed after it). */
  readonly package: PackageInfo;
  readonly newest: PackageInfo;
  /** "libgeo stays at 2.3-1: mapper 4.0-1 requires libgeo == 2.3-1". */
  readonly line: string;
}

export type RemoveReason =
  /** A remove job named it; with `--no-deps --force`, `breaks` names the packages left without it. */
  | { readonly kind: 'requested'; readonly breaks?: readonly string[] }
  /** It depends (directly or not) on `on`, which is being removed. */
  | { readonly kind: 'dependent'; readonly on: string }
  /** It was installed as a dependency and nothing that stays needs it any more. */
  | { readonly kind: 'unneeded' }
  /** A marked package no version of which can stay with the request: `why` is the explanation's first line. */
  | { readonly kind: 'conflict'; readonly why: string };

/** The resolver's answer: the complete installed set after the request. */
export interface Solution {
  /** Every package installed after the request, sorted by key. */
  readonly packages: readonly PackageInfo[];
  /** Keys of the packages the user asked for, after the request. */
  readonly marked: readonly string[];
  /** Why each installed package that disappears is removed, by key. */
  readonly removeReasons: ReadonlyMap<string, RemoveReason>;
  /** Update targets that stay behind their newest version (update jobs and update all). */
  readonly heldBack?: readonly HeldBack[];
}

export type Action =
  | { readonly kind: 'install'; readonly package: PackageInfo }
  | { readonly kind: 'update'; readonly from: PackageInfo; readonly to: PackageInfo }
  | { readonly kind: 'remove'; readonly package: PackageInfo; readonly reason: RemoveReason };

/** Ordered operations: dependents removed before their dependencies, dependencies installed first. */
export interface ChangePlan {
  readonly actions: readonly Action[];
  /** Packages installed before and after, untouched (sorted by key). */
  readonly unchanged: readonly PackageInfo[];
  /** Update targets the plan leaves behind their newest version, with the reason. */
  readonly heldBack?: readonly HeldBack[];
}

/** The `--json` shape of one action (`enpkg solve`, and `--dry-run --json` of install/remove/update). */
/** A plan's action as JSON; `repository`: where the package installed comes from, when known. */
export type ActionJson =
  | { kind: 'install'; package: string; repository?: string }
  | { kind: 'remove'; package: string }
  | { kind: 'update'; from: string; to: string; repository?: string };
