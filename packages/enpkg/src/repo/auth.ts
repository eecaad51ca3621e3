/**
 * A repository's credentials, read from the environment or a file when they are needed, turned into
 * an `Authorization` header value. Errors name the variable or file, never the secret.
 */
import { PkgError } from '../errors.js';
import { RepoErrorCodes } from './errors.js';
import type { AuthConfig, RepositoryConfig, SecretSource } from './types.js';
import { readFailure, readRegularFileSync } from '../readfile.js';

/** The secret of a source (trimmed); a missing or empty one is an error naming the variable or file. */
export function readSecret(s: SecretSource, what: string, repo: { name: string; origin: string }, env: NodeJS.ProcessEnv): string {
  if ('value' in s) return s.value.trim();
  if ('env' in s) {
    const v = env[s.env];
    if (v === undefined || v === '') {
      throw new PkgError(
        RepoErrorCodes.REPO_AUTH_MISSING,
        `the ${what} of repository ${repo.name} comes from $${s.env}, which is not set`,
        {
          hint: `set ${s.env} in the environment, or change auth in ${repo.origin}`,
          details: { repository: repo.name, variable: s.env },
        },
      );
    }
    return v.trim();
  }
  let text: string;
  try {
    text = readRegularFileSync(s.file).toString('utf8');
  } catch (e) {
    throw new PkgError(
      RepoErrorCodes.REPO_AUTH_MISSING,
      `the ${what} of repository ${repo.name} comes from ${s.file}, which cannot be read (${readFailure(e)})`,
      {
        hint: `create the file (readable only by you), or change auth in ${repo.origin}`,
        details: { repository: repo.name, file: s.file },
      },
    );
  }
  const v = text.trim();
  if (v === '') {
    throw new PkgError(RepoErrorCodes.REPO_AUTH_MISSING, `the ${what} of repository ${repo.name} comes from ${s.file}, which is empty`, {
      hint: `write the ${what} in the file`,
      details: { repository: repo.name, file: s.file },
    });
  }
  return v;
}

/** The `Authorization` header for a repository, or null when it has no auth configured. */
export function authorizationHeader(repo: RepositoryConfig, env: NodeJS.ProcessEnv = process.env): string | null {
  const auth: AuthConfig | null = repo.auth;
  if (auth === null) return null;
  if (auth.kind === 'token') {
    const token = readSecret(auth.token, 'token', repo, env);
    if (/[\r\n]/.test(token))
      throw new PkgError(RepoErrorCodes.REPO_AUTH_MISSING, `the token of repository ${repo.name} spans several lines`, {
        hint: 'keep the token on one line',
      });
    return `Bearer ${token}`;
  }
  let user: string;
  let password: string;
  if (auth.kind === 'credentials') {
    const both = readSecret(auth.credentials, 'user name and password', repo, env);
    const colon = both.indexOf(':');
    if (colon <= 0 || /[\r\n]/.test(both))
      throw new PkgError(RepoErrorCodes.REPO_AUTH_MISSING, `the credentials of repository ${repo.name} are not one "user:password" line`, {
        hint: `write them as user:password (enpkg --userpass does), or change auth in ${repo.origin}`,
      });
    [user, password] = [both.slice(0, colon), both.slice(colon + 1)];
  } else {
    user = typeof auth.user === 'string' ? auth.user : readSecret(auth.user, 'user name', repo, env);
    password = readSecret(auth.password, 'password', repo, env);
  }
  if (user.includes(':'))
    throw new PkgError(RepoErrorCodes.REPO_AUTH_MISSING, `the user name of repository ${repo.name} contains ":"`, {
      hint: 'HTTP basic authentication cannot carry a user name with ":"',
    });
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}
