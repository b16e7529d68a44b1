// Start a real Carefront server for a browser test: the debug binary built by the test
// command, on 127.0.0.1:0, over a fresh data folder. Returns its base URL and a stop function.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const root = resolve(import.meta.dirname, '../..');
export const binary = process.env.CAREFRONT_BIN ?? join(root, 'target/debug/carefront');

export async function startServer(command = 'serve') {
  const dataDir = mkdtempSync(join(tmpdir(), 'carefront-browser-'));
  const child = spawn(binary, [command, '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logs = '';
  child.stderr.on('data', (d) => { logs += d; });
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start:\n${logs}`)), 90_000);
    lines.on('line', (line) => {
      const m = line.match(/listening on (http:\/\/\S+)/);
      if (m) { clearTimeout(timer); ok(m[1]); }
    });
    child.on('exit', (code) => fail(new Error(`server exited with ${code}:\n${logs}`)));
  });
  return {
    url,
    command,
    dataDir,
    logs: () => logs,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((ok) => child.once('exit', ok));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
