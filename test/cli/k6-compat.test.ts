/**
 * What a k6 binary can run (src/k6/compat.ts), as pure functions: the version floor, module aliases by
 * version (one row per alias, both sides of its boundary), `k6 version`'s extension list, and the
 * extension pre-flight's one-line refusal with the xk6 build line.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentloadError } from '../../src/errors.ts';
import { parseK6Extensions, type K6Binary } from '../../src/k6/binary.ts';
import { checkExtensions, checkK6Floor, MIN_K6_VERSION, MODULE_ALIASES, moduleAliasesFor, xk6BuildCommand } from '../../src/k6/compat.ts';

function binary(version: string | undefined, versionOutput = ''): K6Binary {
  return { path: '/opt/k6', version, versionLine: `k6 v${version ?? '?'}`, extensions: parseK6Extensions(versionOutput) };
}

void test('the floor is v0.49.0: older binaries are refused in one line naming both fixes (exit 2); the floor itself and unknown versions pass', () => {
  assert.equal(MIN_K6_VERSION, '0.49.0');
  assert.throws(
    () => {
      checkK6Floor(binary('0.48.0'));
    },
    (err: unknown) => {
      assert.ok(err instanceof AgentloadError);
      assert.equal(err.code, 'k6-too-old');
      assert.equal(err.exitCode, 2);
      assert.equal(
        err.message,
        'k6 v0.48.0 (/opt/k6) is older than v0.49.0, the oldest k6 agentload supports: install a newer k6 (or point K6_BIN at one), or run on the embedded engine with --engine node',
      );
      return true;
    },
  );
  assert.doesNotThrow(() => {
    checkK6Floor(binary('0.49.0'));
  });
  assert.doesNotThrow(() => {
    checkK6Floor(binary('1.2.3'));
  });
  assert.doesNotThrow(() => {
    checkK6Floor(binary(undefined));
  });
});

void test('k6/timers → k6/experimental/timers below v0.50.0 only', () => {
  assert.equal(moduleAliasesFor('0.49.0')['k6/timers'], 'k6/experimental/timers');
  assert.equal(moduleAliasesFor('0.49.9')['k6/timers'], 'k6/experimental/timers');
  assert.equal(moduleAliasesFor('0.50.0')['k6/timers'], undefined);
  assert.equal(moduleAliasesFor('1.2.3')['k6/timers'], undefined);
});

void test('k6/websockets → k6/experimental/websockets below v1.6.0 only', () => {
  assert.equal(moduleAliasesFor('0.49.0')['k6/websockets'], 'k6/experimental/websockets');
  assert.equal(moduleAliasesFor('1.5.9')['k6/websockets'], 'k6/experimental/websockets');
  assert.equal(moduleAliasesFor('1.6.0')['k6/websockets'], undefined);
  assert.equal(moduleAliasesFor('2.0.0')['k6/websockets'], undefined);
});

void test('k6/experimental/redis → k6/x/redis from v2.0.0 on (and for an unrecognised version, taken as current)', () => {
  assert.equal(moduleAliasesFor('1.9.9')['k6/experimental/redis'], undefined);
  assert.equal(moduleAliasesFor('0.49.0')['k6/experimental/redis'], undefined);
  assert.equal(moduleAliasesFor('2.0.0')['k6/experimental/redis'], 'k6/x/redis');
  assert.equal(moduleAliasesFor('2.3.1')['k6/experimental/redis'], 'k6/x/redis');
});

void test('every alias row has its own test above; an unrecognised version gets only the rows for newer binaries', () => {
  assert.deepEqual(MODULE_ALIASES.map((a) => a.module).sort(), ['k6/experimental/redis', 'k6/timers', 'k6/websockets']);
  assert.deepEqual(moduleAliasesFor(undefined), { 'k6/experimental/redis': 'k6/x/redis' });
  assert.deepEqual(moduleAliasesFor('1.7.0'), {});
});

const XK6_OUTPUT = [
  'k6 v1.2.3 (commit/devel, go1.24.5, linux/amd64)',
  'Extensions:',
  '  github.com/grafana/xk6-sql v1.0.4, k6/x/sql [js]',
  '  github.com/grafana/xk6-sql-driver-postgres v0.1.1, k6/x/sql/driver/postgres [js]',
  '  github.com/grafana/xk6-output-x v0.1.0, xoutput [output]',
  '',
].join('\n');

void test('`k6 version` extension lines are parsed (none for a stock k6)', () => {
  assert.deepEqual(parseK6Extensions('k6 v1.2.3 (commit/devel, go1.24.5, linux/amd64)\n'), []);
  assert.deepEqual(parseK6Extensions(XK6_OUTPUT), [
    { path: 'github.com/grafana/xk6-sql', version: 'v1.0.4', name: 'k6/x/sql', type: 'js' },
    { path: 'github.com/grafana/xk6-sql-driver-postgres', version: 'v0.1.1', name: 'k6/x/sql/driver/postgres', type: 'js' },
    { path: 'github.com/grafana/xk6-output-x', version: 'v0.1.0', name: 'xoutput', type: 'output' },
  ]);
});

void test('extension pre-flight: a missing k6/x module is refused in one line with the xk6 line and --engine node; present ones pass', () => {
  const imports = ['k6', 'k6/x/sql', 'k6/x/sql/driver/postgres', 'k6/x/sql/driver/sqlite3'];
  assert.throws(
    () => {
      checkExtensions(imports, binary('1.2.3', XK6_OUTPUT), 'scenarios/db.ts');
    },
    (err: unknown) => {
      assert.ok(err instanceof AgentloadError);
      assert.equal(err.code, 'k6-extension-missing');
      assert.equal(err.exitCode, 2);
      assert.equal(
        err.message,
        'scenarios/db.ts imports k6/x/sql/driver/sqlite3, which /opt/k6 (k6 v1.2.3) was not built with (it has k6/x/sql, k6/x/sql/driver/postgres): build a k6 with `xk6 build v1.2.3 --with github.com/grafana/xk6-sql --with github.com/grafana/xk6-sql-driver-postgres --with github.com/grafana/xk6-sql-driver-sqlite3` and set K6_BIN to it, or run on the embedded engine with --engine node',
      );
      assert.ok(!err.message.includes('\n'));
      return true;
    },
  );
  assert.throws(() => {
    checkExtensions(['k6/x/sql'], binary('1.2.3'), 'db.js');
  }, /db\.js imports k6\/x\/sql, which \/opt\/k6 \(k6 v1\.2\.3\) was not built with \(it lists no JavaScript extensions\)/);
  assert.doesNotThrow(() => {
    checkExtensions(['k6', 'k6/x/sql', 'k6/x/sql/driver/postgres'], binary('1.2.3', XK6_OUTPUT), 'db.js');
  });
  assert.doesNotThrow(() => {
    checkExtensions(['k6', 'k6/http'], binary('1.2.3'), 'api.js');
  });
  // K6_AUTO_EXTENSION_RESOLUTION=true: k6 may fetch them; the missing ones come back for a notice.
  assert.deepEqual(checkExtensions(['k6/x/redis'], binary('2.0.0'), 'cache.js', { K6_AUTO_EXTENSION_RESOLUTION: 'true' }), ['k6/x/redis']);
  assert.throws(() => {
    checkExtensions(['k6/x/redis'], binary('2.0.0'), 'cache.js', { K6_AUTO_EXTENSION_RESOLUTION: 'false' });
  }, /xk6 build v2\.0\.0 --with github\.com\/grafana\/xk6-redis/);
});

void test('xk6 build line: known modules by their Go module, an unknown one named as a placeholder', () => {
  assert.equal(xk6BuildCommand(undefined, ['k6/x/sql']), 'xk6 build --with github.com/grafana/xk6-sql');
  assert.equal(xk6BuildCommand('0.49.0', ['k6/x/kafka']), 'xk6 build v0.49.0 --with <Go module providing k6/x/kafka>');
});
