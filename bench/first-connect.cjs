// Preloaded by bench/startup.ts (BENCH_PLATFORM=bundled) into the run command: writes the time (epoch ms)
// the process first opens a TCP connection (net.connect: the engine's first request) to
// BENCH_FIRST_CONNECT_FILE. The file is created exclusively, so a later connection (or a worker thread
// that preloads this too) never overwrites the first time.
'use strict';
const net = require('node:net');
const { writeFileSync } = require('node:fs');

const file = process.env.BENCH_FIRST_CONNECT_FILE;
if (file !== undefined && file !== '') {
  const connect = net.connect;
  let seen = false;
  net.connect = function firstConnect(...args) {
    if (!seen) {
      seen = true;
      try {
        writeFileSync(file, String(performance.timeOrigin + performance.now()), { flag: 'wx' });
      } catch {
        // written first by another thread
      }
    }
    return connect.apply(this, args);
  };
}
