// The Node side of benchmarks/sse/run.mjs: a node:http server that streams each request's tokens
// as server-sent events through rill's `streaming.eventStreamResponse`. One token is one tiny op
// (`add(state, 1)` on a scalar) awaited with `asyncEval`, then read back with `item()`, as a
// token-by-token generator does. Prints `listening <port>` once it accepts connections.
import { createServer } from 'node:http';
import { array, add, asyncEval, streaming } from '../../node/index.js';

async function* tokens(n) {
  let state = array([0], [], 'float32');
  for (let i = 0; i < n; i++) {
    state = add(state, 1);
    await asyncEval(state);
    yield { i, value: state.item() };
  }
}

const server = createServer(async (req, res) => {
  const n = Number(new URL(req.url, 'http://x').searchParams.get('n') ?? 100);
  const response = streaming.eventStreamResponse(tokens(n));
  res.writeHead(response.status, Object.fromEntries(response.headers));
  for await (const chunk of response.body) res.write(chunk);
  res.end();
});
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
