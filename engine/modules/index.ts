/** The module table: what `require('k6/...')` returns inside a script, one instance per VU. */
import type { EngineModuleContext } from './context.ts';
import { createCryptoModule } from './crypto.ts';
import { createCsvModule } from './csv.ts';
import { createDataModule } from './data.ts';
import { createEncodingModule } from './encoding.ts';
import { createExecutionModule } from './execution.ts';
import { createFsModule } from './fs.ts';
import { createHtmlModule } from './html/index.ts';
import { createHttpModule } from './http.ts';
import { createK6Module } from './k6.ts';
import { createMetricsModule } from './metrics.ts';
import { createRedisModule } from './redis.ts';
import { createSqlDriverModule, createSqlModule } from './sql.ts';
import { createTimersModule } from './timers.ts';
import { createWebSocketsModule } from './websockets.ts';
import { createWsModule } from './ws.ts';

export type EngineModuleFactory = (ctx: EngineModuleContext) => Record<string, unknown>;

export const MODULES: Readonly<Record<string, EngineModuleFactory>> = {
  k6: createK6Module,
  'k6/http': createHttpModule,
  'k6/html': createHtmlModule,
  'k6/metrics': createMetricsModule,
  'k6/execution': createExecutionModule,
  'k6/data': createDataModule,
  'k6/crypto': createCryptoModule,
  'k6/encoding': createEncodingModule,
  'k6/timers': createTimersModule,
  'k6/websockets': createWebSocketsModule,
  'k6/experimental/websockets': createWebSocketsModule,
  'k6/ws': createWsModule,
  'k6/experimental/fs': createFsModule,
  'k6/experimental/csv': createCsvModule,
  'k6/experimental/redis': createRedisModule,
  'k6/x/redis': createRedisModule,
  'k6/x/sql': createSqlModule,
  'k6/x/sql/driver/postgres': createSqlDriverModule('postgres'),
  'k6/x/sql/driver/sqlite3': createSqlDriverModule('sqlite3'),
};

export type { EngineModuleContext, InstanceStats, AwaitCheck } from './context.ts';
