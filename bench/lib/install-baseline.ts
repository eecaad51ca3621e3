/**
 * The install benchmark's baseline: a shell loop that downloads each egg with curl and unzips it
 * into the prefix, one after another - what fetching plus unpacking the same eggs costs without a
 * package manager (no resolving, no verification, no transaction, no fsync).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Write the script and its URL list into `dir`; returns the script's path. Run: bash SCRIPT PREFIX. */
export function writeBaseline(dir: string, caFile: string, urls: readonly string[]): string {
  const list = join(dir, 'urls.txt');
  writeFileSync(list, `${urls.join('\n')}\n`);
  const script = join(dir, 'baseline.sh');
  writeFileSync(
    script,
    `#!/usr/bin/env bash
# for each egg: curl -s --cacert CA -o f URL && unzip -q -o f -d PREFIX, one after another
set -euo pipefail
prefix="$1"
mkdir -p "$prefix"
f=${JSON.stringify(join(dir, 'f.egg'))}
while read -r url; do
  curl -s --fail --cacert ${JSON.stringify(caFile)} -o "$f" "$url" && unzip -q -o "$f" -d "$prefix"
done < ${JSON.stringify(list)}
`,
  );
  return script;
}
