import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The Markdown files whose links must resolve: the landing page and the docs it links to. */
const DOC_FILES = [
  'README.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];

/** The text outside fenced code blocks and inline code, where a `[text](target)` is a link. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** The anchors GitHub gives a file's headings: lower case, punctuation dropped, spaces as hyphens, -1, -2 for repeats. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const withoutFences = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, '');
  for (const [, heading] of withoutFences.matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const text = heading!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/`/g, '');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/**
 * The relative links of `file` (a path under `root`) that do not resolve, each as `target: why`: a missing file
 * or folder, a path outside the repository, or an anchor that no heading of the target Markdown file has.
 * Links with a scheme (https:, mailto:) are not checked.
 */
export function brokenLinks(root: string, file: string): string[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  const targets = [
    ...[...prose(text).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => match[1]!),
    ...[...prose(text).matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)].map(
      (match) => match[1]!,
    ),
  ];
  const problems: string[] = [];
  for (const target of targets) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
    const [linkPath = '', anchor] = target.split('#', 2);
    const resolved =
      linkPath === '' ? path.join(root, file) : path.resolve(root, path.dirname(file), linkPath);
    const relative = path.relative(root, resolved);
    if (relative.startsWith('..') || path.isAbsolute(relative)) {
      problems.push(`${target}: points outside the repository`);
      continue;
    }
    if (!existsSync(resolved)) {
      problems.push(`${target}: ${relative} does not exist`);
      continue;
    }
    if (anchor !== undefined && resolved.endsWith('.md')) {
      if (!headingAnchors(readFileSync(resolved, 'utf8')).has(decodeURIComponent(anchor))) {
        problems.push(`${target}: ${relative} has no heading with the anchor #${anchor}`);
      }
    }
  }
  return problems;
}

describe('the links of README.md and docs/', () => {
  it('finds the docs and their links to check', () => {
    assert.ok(
      DOC_FILES.includes('docs/design.md') && DOC_FILES.includes('docs/determinism.md'),
      DOC_FILES.join(),
    );
  });

  for (const file of DOC_FILES) {
    it(`resolve in ${file}: every relative link names a file of the repository, every anchor a heading`, () => {
      assert.deepEqual(brokenLinks(ROOT, file), []);
    });
  }

  it('reach every page of docs/ from README.md', () => {
    const readme = prose(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
    const unlinked = DOC_FILES.filter((file) => file.startsWith('docs/') && !readme.includes(`](${file}`));
    assert.deepEqual(unlinked, []);
  });

  it('are reported when a file, a heading or the repository is missed, so the checks above can fail', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'voxelfeed-links-'));
    try {
      writeFileSync(
        path.join(dir, 'target.md'),
        '# A `code` heading\n\n## Limits, and why\n\n## Limits, and why\n',
      );
      writeFileSync(
        path.join(dir, 'page.md'),
        [
          '[ok](target.md#a-code-heading) [ok](target.md#limits-and-why-1) [ok](#page) [ok](https://x.org/y)',
          '[missing](nothere.md) [bad anchor](target.md#limits) [outside](../../etc/passwd)',
          '```sh\n[in code](ignored.md)\n```',
          '# Page',
          '[ref]: target.md#nope',
        ].join('\n'),
      );
      assert.deepEqual(brokenLinks(dir, 'page.md'), [
        'nothere.md: nothere.md does not exist',
        'target.md#limits: target.md has no heading with the anchor #limits',
        '../../etc/passwd: points outside the repository',
        'target.md#nope: target.md has no heading with the anchor #nope',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('README.md', () => {
  it('stays a landing page: at most 150 lines, no table row wider than 120 columns', () => {
    const lines = readFileSync(path.join(ROOT, 'README.md'), 'utf8').split('\n');
    assert.ok(lines.length <= 150, `README.md has ${lines.length} lines; move details into docs/`);
    const wide = lines.filter((line) => line.startsWith('|') && line.length > 120);
    assert.deepEqual(wide, []);
  });
});
