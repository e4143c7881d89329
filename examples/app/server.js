// The example service the demo pipeline ships: a tiny HTTP API with the endpoints a smoke test needs.
// No dependencies, so it starts anywhere Node does. Configuration comes from the environment, as on
// App Platform: PORT, APP_VERSION (the commit or image digest being served), BROKEN=1 to simulate a
// bad release (health stays green, the API answers 500: exactly what a status-only check misses).
'use strict';
const http = require('node:http');

const port = Number(process.env.PORT || 8080);
const version = process.env.APP_VERSION || 'dev';
const broken = process.env.BROKEN === '1';
const started = new Date().toISOString();

const server = http.createServer((req, res) => {
  const send = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json', 'x-app-version': version });
    res.end(JSON.stringify(body));
  };
  const url = new URL(req.url, 'http://localhost');
  switch (url.pathname) {
    case '/healthz':
      return send(200, { status: 'ok' });
    case '/version':
      return send(200, { version, started });
    case '/api/todos':
      if (broken) return send(500, { error: 'relation "todos" does not exist' });
      return send(200, { items: [{ id: 1, title: 'ship it', done: false }], count: 1 });
    default:
      return send(404, { error: 'not found' });
  }
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`example app ${version} listening on 127.0.0.1:${port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
