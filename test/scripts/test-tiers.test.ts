import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  filesOfTier,
  globToRegExp,
  listTestFiles,
  PYTHON_TESTS,
  pytestCommandOf,
  ruleFor,
  TIER_EXCEPTIONS,
  TIER_FOLDERS,
  TIERS,
  testPython,
  tierProblems,
} from '../../scripts/test-tiers.js';

describe('the test tiers', () => {
  const files = listTestFiles();

  it('find the test files under test/, this one among them', () => {
    assert.ok(files.includes('test/scripts/test-tiers.test.ts'), files.join('\n'));
    assert.ok(files.length > 50, `${files.length} test files`);
    assert.ok(files.every((file) => file.startsWith('test/') && file.endsWith('.test.ts')));
  });

  it('put every test file in exactly one tier, and every exception still names a test file', () => {
    const { unclassified, unused } = tierProblems(files);
    assert.deepEqual(unclassified, [], 'test files in no tier: add a rule in scripts/test-tiers.ts');
    assert.deepEqual(
      unused.map((rule) => rule.pattern),
      [],
      'tier exceptions that match no test file: update them in scripts/test-tiers.ts',
    );
    const tiers = TIERS.map((tier) => filesOfTier(tier, files));
    assert.deepEqual(tiers.flat().sort(), files, 'the tiers together are the whole suite, each file once');
    for (const tier of tiers) assert.ok(tier.length > 0);
  });

  it('report a file outside every folder, and an exception whose file moved away', () => {
    const moved = { pattern: '**/gone.test.ts', tier: 'integration', why: 'moved' } as const;
    const problems = tierProblems(
      ['test/server/a.test.ts', 'test/elsewhere/b.test.ts'],
      [moved],
      TIER_FOLDERS,
    );
    assert.deepEqual(problems.unclassified, ['test/elsewhere/b.test.ts']);
    assert.deepEqual(problems.unused, [moved]);
  });

  it('let an exception take a file out of its folder wherever the file moves under test/', () => {
    const exception = TIER_EXCEPTIONS.find((rule) => rule.pattern === '**/nrrd-reader.test.ts');
    assert.equal(exception?.tier, 'integration');
    assert.equal(ruleFor('test/server/dataset/nrrd/nrrd-reader.test.ts'), exception);
    assert.equal(ruleFor('test/server/dataset/nrrd/nrrd-header.test.ts')?.tier, 'unit');
  });

  it('read * as one path segment and ** as any number of them', () => {
    assert.ok(globToRegExp('test/client/*.test.ts').test('test/client/a.test.ts'));
    assert.ok(!globToRegExp('test/client/*.test.ts').test('test/client/x/a.test.ts'));
    assert.ok(globToRegExp('test/client/**').test('test/client/x/y/a.test.ts'));
    assert.ok(globToRegExp('**/a.test.ts').test('a.test.ts'));
    assert.ok(globToRegExp('**/a.test.ts').test('test/x/a.test.ts'));
    assert.ok(!globToRegExp('**/a.test.ts').test('test/x/ba.test.ts'));
    assert.ok(!globToRegExp('test/a.test.ts').test('test/aXtest.ts'), 'a dot is a dot');
  });
});

describe('the Python tests of each tier', () => {
  it('run with Debian python3 and pytest over the tier folder, when it holds a test file', () => {
    for (const tier of TIERS) {
      const command = pytestCommandOf(tier);
      assert.deepEqual(command?.slice(1, 3), ['-m', 'pytest'], tier);
      assert.equal(command?.at(-1), `${PYTHON_TESTS}/${tier}`);
    }
    assert.equal(pytestCommandOf('unit', '/nonexistent'), null);
  });

  it('take VOXELFEED_TEST_PYTHON over Debian python3', () => {
    assert.equal(testPython({ VOXELFEED_TEST_PYTHON: '/opt/py/bin/python3' }), '/opt/py/bin/python3');
    assert.match(testPython({}), /python3$/);
  });
});
