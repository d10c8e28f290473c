// Tiny ops streamed as server-sent events under load: the same token server in Node
// (server.mjs, asyncEval) and in Python (server.py, mx.eval in a thread per connection), each in
// a process of its own, alternating rounds. The client (this process) opens `clients` concurrent
// requests of `tokens` events each, checks every event's value, and reports events per second.
// Prints one JSON line. Run after building the release addon and installing the wheel:
//
//     (cd node && npm install) && node benchmarks/sse/run.mjs [python]
//
// `python` is the interpreter with rill installed (default: .venv/bin/python).
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const python = process.argv[2] ?? join(here, '..', '..', '.venv', 'bin', 'python');
const clients = 100;
const tokens = 200;
const rounds = 3;

function start(cmd, args) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on('exit', (code) => reject(new Error(`${cmd} exited with ${code} before listening`)));
  });
}

// One request: resolves with the number of events received, after checking each one.
function stream(port) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `/stream?n=${tokens}`, agent: false }, (res) => {
      let buffered = '';
      let seen = 0;
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        buffered += chunk;
        let end;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const event = JSON.parse(buffered.slice('data: '.length, end));
          buffered = buffered.slice(end + 2);
          if (event.i !== seen || event.value !== seen + 1) {
            reject(new Error(`event ${seen}: got ${JSON.stringify(event)}`));
          }
          seen++;
        }
      });
      res.on('end', () => resolve(seen));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function measure(cmd, args) {
  const { child, port } = await start(cmd, args);
  try {
    await Promise.all(Array.from({ length: 4 }, () => stream(port))); // warm-up
    const t = performance.now();
    const counts = await Promise.all(Array.from({ length: clients }, () => stream(port)));
    const seconds = (performance.now() - t) / 1e3;
    const events = counts.reduce((x, y) => x + y, 0);
    if (events !== clients * tokens) throw new Error(`${cmd}: ${events} of ${clients * tokens} events`);
    return events / seconds;
  } finally {
    child.kill();
  }
}

const results = { node: [], python: [] };
for (let r = 0; r < rounds; r++) {
  results.node.push(await measure(process.execPath, [join(here, 'server.mjs')]));
  results.python.push(await measure(python, [join(here, 'server.py')]));
}
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const node = median(results.node);
const py = median(results.python);
console.log(JSON.stringify({
  clients, tokens, rounds,
  node_events_per_s: Math.round(node),
  python_events_per_s: Math.round(py),
  node_over_python: Number((node / py).toFixed(2)),
  all: results,
}));
