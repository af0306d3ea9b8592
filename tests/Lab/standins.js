#!/usr/bin/env node
// Test-only stand-ins for what this machine cannot run for real, in one small process:
//   - "minio": s3rver (the real S3 API used by the Minio SDK) behind MinIO's unauthenticated
//     health routes /minio/health/live|ready|cluster (200, or 503 when switched), on one port
//     like a real MinIO;
//   - "grafana": Grafana's /api/health (200 {"database":"ok",...} or 503 {"database":"failing",...});
//   - "hung": accepts TCP connections and never answers (client timeouts);
//   - "control": POST /grafana/ok|failing, POST /minio/ok|busy switch the answers.
// Every listener binds --address (loopback or an address inside the caller's network namespace)
// on a port the system picks; one JSON line on stdout gives the ports once everything listens.
// Objects under --seed (<seed>/<bucket>/<key...>) are uploaded to s3rver before that line.
// The process exits when its stdin closes, so it never outlives the test that started it.
'use strict';
const fs = require('fs');
const http = require('http');
const net = require('net');
const path = require('path');
const S3rver = require('s3rver');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const address = arg('address', '127.0.0.1');
const directory = arg('dir');
const seed = arg('seed');
const buckets = (arg('buckets', 'tfstate') || '').split(',').filter(Boolean);
if (!directory) {
  console.error('usage: standins.js --dir <s3rver data dir> [--address 127.0.0.1] [--seed <dir>] [--buckets a,b]');
  process.exit(2);
}

const state = { grafana: 'ok', minio: 'ok' };
const sockets = new Set();

function listen(server, port = 0) {
  server.on('connection', s => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve(server.address().port));
  });
}

function json(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

// Grafana 10.x /api/health: 200 with database "ok", 503 with database "failing".
const grafana = http.createServer((req, res) => {
  if (req.url.split('?')[0] !== '/api/health') return json(res, 404, { message: 'Not found' });
  if (state.grafana === 'ok') return json(res, 200, { commit: '701c851be7', database: 'ok', version: '10.4.2' });
  return json(res, 503, { commit: '701c851be7', database: 'failing', version: '10.4.2' });
});

async function main() {
  fs.mkdirSync(directory, { recursive: true });
  const s3 = new S3rver({ directory, silent: true, configureBuckets: buckets.map(name => ({ name })) });
  await s3.configureBuckets();
  // s3rver 3.7.1 writes list answers in the namespace "http://doc.s3.amazonaws.com/2006-03-01/"; S3 and MinIO
  // use "http://s3.amazonaws.com/doc/2006-03-01/", and SDKs that bind XML by namespace (the .NET Minio SDK)
  // read an empty listing from the former. Outermost middleware: fix the namespace like the real servers.
  s3.middleware.unshift(async (ctx, next) => {
    await next();
    if (typeof ctx.body === 'string' && ctx.body.includes('http://doc.s3.amazonaws.com/2006-03-01/')) {
      ctx.body = ctx.body.split('http://doc.s3.amazonaws.com/2006-03-01/').join('http://s3.amazonaws.com/doc/2006-03-01/');
    }
  });
  const s3handler = s3.callback();

  // MinIO: health routes answered here (MinIO serves them unauthenticated), everything else is S3.
  const minio = http.createServer((req, res) => {
    const route = req.url.split('?')[0];
    if (route.startsWith('/minio/health/')) {
      const known = ['/minio/health/live', '/minio/health/ready', '/minio/health/cluster'];
      if (!known.includes(route)) { res.writeHead(404); return res.end(); }
      const busy = state.minio !== 'ok';
      res.writeHead(busy ? 503 : 200, { 'Content-Length': 0, Server: 'MinIO' });
      return res.end();
    }
    return s3handler(req, res);
  });

  const hung = net.createServer(socket => { socket.on('error', () => {}); /* never answer */ });

  const control = http.createServer((req, res) => {
    const m = /^\/(grafana|minio)\/(ok|failing|busy)$/.exec(req.url);
    if (req.method !== 'POST' || !m) return json(res, 404, { error: 'POST /grafana/ok|failing or /minio/ok|busy' });
    state[m[1]] = m[2];
    return json(res, 200, state);
  });

  const ports = {
    address,
    minio: await listen(minio),
    grafana: await listen(grafana),
    hung: await listen(hung),
    control: await listen(control),
  };

  if (seed) await upload(ports.minio, seed);
  process.stdout.write(JSON.stringify(ports) + '\n');
}

// Anonymous PUTs: s3rver accepts unsigned requests, so seeding needs no signer.
async function upload(port, root) {
  for (const bucket of fs.readdirSync(root)) {
    const base = path.join(root, bucket);
    if (!fs.statSync(base).isDirectory()) continue;
    for (const file of walk(base)) {
      const key = path.relative(base, file).split(path.sep).join('/');
      const body = fs.readFileSync(file);
      await new Promise((resolve, reject) => {
        const req = http.request({ host: address, port, method: 'PUT', path: `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`,
          headers: { 'Content-Length': body.length, 'Content-Type': 'application/json' } }, res => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`seeding ${bucket}/${key}: HTTP ${res.statusCode}`))));
        });
        req.on('error', reject);
        req.setTimeout(10000, () => req.destroy(new Error(`seeding ${bucket}/${key}: no answer within 10 s`)));
        req.end(body);
      });
    }
  }
}

function* walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else yield full;
  }
}

function exit(code) {
  for (const s of sockets) s.destroy();
  process.exit(code);
}

process.stdin.on('end', () => exit(0));
process.stdin.on('close', () => exit(0));
process.stdin.resume();
process.on('SIGTERM', () => exit(0));
process.on('SIGINT', () => exit(0));
main().catch(err => { console.error(`standins: ${err.message}`); exit(1); });
