/**
 * `npm run build:egg`: enpkg's own egg, `enpkg-<version>-<build>.egg`.
 *
 *   bundle     esbuild: enpkg and egginst (and egginst's worker thread entry) as ES modules, split
 *              into chunks so that a run loads only its command's code, as from source
 *   addons     better-sqlite3, zstd-napi and fs-ext (egginst's prefix lock) as compiled here (and
 *              yaml, which loads lazily), in node_modules/ beside the bundle
 *   egg        EGG-INFO/spec/depend (platform-specific, python None) and the tree under enpkg/,
 *              with enpkg/manifest.json; written deterministically (sorted, fixed times)
 *
 * It runs on the system's Node (>= 20, the same ABI as the Node that compiled the addons).
 * Usage: node packages/enpkg/dist/tools/build-egg.js [--out DIR] [--version V] [--build N]
 */
import {
  copyFileSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import esbuild from 'esbuild';
import semver from 'semver';
import yazl from 'yazl';
import { eggPlatform } from '../src/platform.js';
import { enpkgVersion, sourcePackageJson } from '../src/self/manifest.js';

const here = dirname(fileURLToPath(import.meta.url));
/** packages/enpkg (this file is packages/enpkg/dist/tools/build-egg.js). */
const packageDir = resolve(here, '..', '..');
export const repoRoot = resolve(packageDir, '..', '..');
const require = createRequire(import.meta.url);

/** What of each external package runs (the rest of it is sources, build intermediates, docs). */
const SHIPPED: Record<string, readonly string[]> = {
  'better-sqlite3': ['package.json', 'LICENSE', 'lib', 'build/Release/better_sqlite3.node'],
  bindings: ['package.json', 'LICENSE.md', 'bindings.js'],
  'file-uri-to-path': ['package.json', 'LICENSE', 'index.js'],
  // Loads its addon by a relative require: no bindings lookup. nan is only for building it.
  'fs-ext': ['package.json', 'LICENSE.txt', 'fs-ext.js', 'build/Release/fs_ext.node'],
  'zstd-napi': ['package.json', 'LICENSE', 'NOTICE', 'binding.js', 'dist', 'build/Release/binding.node'],
  yaml: ['package.json', 'LICENSE', 'dist'],
};

function packageRoot(name: string): string {
  return dirname(require.resolve(`${name}/package.json`, { paths: [packageDir] }));
}

function copyTree(from: string, to: string): void {
  const st = statSync(from);
  if (st.isDirectory()) {
    mkdirSync(to, { recursive: true });
    for (const name of readdirSync(from)) {
      if (name.endsWith('.d.ts') || name.endsWith('.map') || name.endsWith('.d.mts')) continue;
      copyTree(join(from, name), join(to, name));
    }
  } else {
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(from, to);
  }
}

/** Bundle enpkg and egginst into `dir` (replaced), with the addons in `dir/node_modules`. */
export async function buildBundle(dir: string): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const egginstDir = resolve(packageDir, '..', 'egginst');
  const result = await esbuild.build({
    entryPoints: {
      enpkg: join(packageDir, 'dist', 'src', 'self', 'entry.js'),
      egginst: join(packageDir, 'dist', 'src', 'self', 'entry-egginst.js'),
      worker: join(egginstDir, 'dist', 'src', 'worker.js'),
    },
    outdir: dir,
    bundle: true,
    splitting: true,
    // Chunks sit beside the entries: code finds manifest.json, the worker and node_modules beside itself.
    chunkNames: 'chunk-[hash]',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: Object.keys(SHIPPED).flatMap((n) => [n, `${n}/*`]),
    // Bundled CommonJS code calls require() for Node's own modules; ES modules have none of their own.
    banner: { js: "import { createRequire as __enpkgRequire } from 'node:module'; const require = __enpkgRequire(import.meta.url);" },
    minifySyntax: true,
    minifyWhitespace: true,
    legalComments: 'none',
    logLevel: 'silent',
    metafile: false,
  });
  if (result.errors.length) throw new Error(`esbuild: ${result.errors.map((e) => e.text).join('; ')}`);
  // The chunks are ES modules: said once here, Node neither guesses per file nor searches upwards.
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'enpkg-bundle', private: true, type: 'module' }, null, 2)}\n`);
  for (const [name, parts] of Object.entries(SHIPPED)) {
    const root = packageRoot(name);
    for (const part of parts) {
      const from = join(root, part);
      if (!existsSync(from)) {
        if (part.startsWith('LICENSE') || part === 'NOTICE') continue;
        throw new Error(`${name}: ${part} is missing (run npm ci, which compiles the native addons)`);
      }
      copyTree(from, join(dir, 'node_modules', name, part));
    }
  }
}

function filesOf(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesOf(p, base));
    else out.push(relative(base, p));
  }
  return out;
}

export interface SelfEggOptions {
  bundleDir: string;
  /** Default: packages/enpkg/package.json's version. */
  version?: string;
  build?: number;
  outDir: string;
  /** For tests: change files of the tree before they are written (e.g. a version that cannot start). */
  patch?: Record<string, (data: Buffer) => Buffer>;
}

export { enpkgVersion };

/** Write `enpkg-<version>-<build>.egg` from a bundle; returns its path. */
export async function writeSelfEgg(opts: SelfEggOptions): Promise<string> {
  const version = opts.version ?? enpkgVersion();
  const build = opts.build ?? 1;
  if (!semver.valid(version) || !/^[0-9A-Za-z.]+$/.test(version)) {
    throw new Error(
      `version ${JSON.stringify(version)} must be semver without a pre-release part (an egg name is <name>-<version>-<build>.egg)`,
    );
  }
  if (!Number.isInteger(build) || build < 0) throw new Error(`build ${build} must be a whole number`);
  const engines = sourcePackageJson()?.engines?.node ?? '>=20';
  const manifest = {
    name: 'enpkg',
    version,
    build,
    node: engines,
    platform: process.platform,
    arch: process.arch,
    modules: process.versions.modules,
    entries: { enpkg: 'enpkg.js', egginst: 'egginst.js' },
  };
  const depend = [
    "metadata_version = '1.3'",
    "name = 'enpkg'",
    `version = '${version}'`,
    `build = ${build}`,
    '',
    `arch = '${eggPlatform().arch}'`,
    `platform = '${eggPlatform().platform}'`,
    'osdist = None',
    'python = None',
    'packages = []',
    '',
  ].join('\n');
  const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? 1767225600);
  const mtime = new Date(epoch * 1000);
  const zip = new yazl.ZipFile();
  const add = (name: string, data: Buffer, mode: number): void =>
    zip.addBuffer(data, name, { mtime, mode: 0o100000 | mode, compress: true });
  add('EGG-INFO/spec/depend', Buffer.from(depend), 0o644);
  add('EGG-INFO/spec/summary', Buffer.from('enpkg and egginst: the package manager for .egg archives, as enpkg installs itself\n'), 0o644);
  add('enpkg/manifest.json', Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), 0o644);
  for (const rel of filesOf(opts.bundleDir)) {
    const name = rel.split('\\').join('/');
    let data: Buffer = readFileSync(join(opts.bundleDir, rel));
    const patch = opts.patch?.[name];
    if (patch) data = patch(data);
    add(`enpkg/${name}`, data, name.endsWith('.node') ? 0o755 : 0o644);
  }
  mkdirSync(opts.outDir, { recursive: true });
  const out = join(opts.outDir, `enpkg-${version}-${build}.egg`);
  const tmp = `${out}.partial`;
  await new Promise<void>((done, fail) => {
    const stream = createWriteStream(tmp);
    stream.on('error', fail).on('close', done);
    zip.outputStream.pipe(stream);
    zip.end();
  });
  renameSync(tmp, out);
  return out;
}

async function cli(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: join(repoRoot, 'dist') },
      version: { type: 'string' },
      build: { type: 'string', default: '1' },
      bundle: { type: 'string' },
    },
  });
  const bundleDir = values.bundle ?? join(packageDir, 'dist', 'bundle');
  await buildBundle(bundleDir);
  const egg = await writeSelfEgg({
    bundleDir,
    outDir: resolve(values.out!),
    build: Number(values.build),
    ...(values.version ? { version: values.version } : {}),
  });
  process.stdout.write(`${egg}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli().catch((e: unknown) => {
    process.stderr.write(`build-egg: error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
