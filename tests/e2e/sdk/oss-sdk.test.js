#!/usr/bin/env node
'use strict';
/*
 * e2e_oss_sdk: the official, unmodified OSS Node client (ali-oss 6.23.0) against a real
 * mediaconvertd: buckets are folders of the object store, objects their plain files.
 *
 * Two clients, as sdk-wire.md 3.1 captured them:
 *   - V1 (default), virtual host: endpoint http://127.0.0.1:<port>, so ali-oss sends
 *     Host: media-bucket.oss-cn-hangzhou.aliyuncs.com and the key as the whole path;
 *   - V4 (authorizationV4), path style (sldEnable): /media-bucket/<key>, same Host.
 * Checked: PutBucket, put of a real file, head (size, ETag = MD5, Content-Type), get with
 * Range (bytes compared), list / listV2 with prefix, delimiter, max-keys and continuation,
 * delete then NoSuchKey, a wrong secret (SignatureDoesNotMatch), a bad Content-MD5
 * (InvalidDigest, nothing stored), an upload over [oss] max_object_size (EntityTooLarge,
 * nothing left in the bucket folder, not even a temporary file), unsigned requests
 * (AccessDenied), x-oss-process with an unknown action (InvalidArgument; e2e_oss_media
 * covers processing), and that IMM still answers beside OSS.
 *
 * Environment (set by ctest): MC_DAEMON, MC_TEST_TMP, MC_MEDIA_DIR. Exit 0 pass, 1 fail,
 * 77 skip (ali-oss not installed: run scripts/install-node-deps.sh).
 */

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { spawn } = require('node:child_process');

let OSS;
try {
  OSS = require('ali-oss');
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND') {
    console.log('SKIP: ali-oss is not installed. Run scripts/install-node-deps.sh (npm ci in tests/e2e/sdk).');
    process.exit(77);
  }
  throw e;
}

const DAEMON = process.env.MC_DAEMON;
const MEDIA = process.env.MC_MEDIA_DIR || path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'media');
const TMP = process.env.MC_TEST_TMP || '/tmp';
if (!DAEMON) {
  console.log('SKIP: MC_DAEMON is not set (run through ctest)');
  process.exit(77);
}
const FRIDAY = path.join(MEDIA, 'friday.mp4');
const BIG = path.join(MEDIA, 'bbb_2500ms.ts'); /* 1.9 MB: over the 1 MB limit below */
if (!fs.existsSync(FRIDAY) || !fs.existsSync(BIG)) {
  console.log(`SKIP: media not found in ${MEDIA}`);
  process.exit(77);
}
const LIMIT = 1000000;
const AK = 'LTAI5tOssE2eAccessKey01';
const SK = 'OssE2eSecret0123456789abcdefABCD';
const BUCKET = 'media-bucket';
const DIR = fs.mkdtempSync(path.join(fs.mkdirSync(TMP, { recursive: true }) || TMP, 'e2e-oss-sdk-'));
const BUCKET_DIR = path.join(DIR, 'buckets', BUCKET);
const LOG = path.join(DIR, 'daemon.log');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const md5hex = (b) => crypto.createHash('md5').update(b).digest('hex');

let daemon = null;
async function startDaemon() {
  fs.writeFileSync(path.join(DIR, 'config.ini'), [
    '[keys]', `${AK} = ${SK}`,
    '[oss]', `max_object_size = ${LIMIT}`,
    '',
  ].join('\n'));
  const portFile = path.join(DIR, 'port');
  const logFd = fs.openSync(LOG, 'w');
  const child = spawn(DAEMON, ['--config', path.join(DIR, 'config.ini'), '--listen', '127.0.0.1:0',
    '--data-dir', DIR, '--port-file', portFile], { env: process.env, stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  daemon = { child, exited, done: false };
  exited.then(() => { daemon && (daemon.done = true); });
  for (let i = 0; i < 600; i++) {
    if (daemon.done) throw new Error(`mediaconvertd exited during start-up: ${JSON.stringify(await exited)}`);
    try {
      const port = parseInt(fs.readFileSync(portFile, 'utf8'), 10);
      if (port > 0) return port;
    } catch (e) { /* not yet */ }
    await sleep(50);
  }
  throw new Error('mediaconvertd did not write its port file within 30 s');
}

async function stopDaemon() {
  if (!daemon) return null;
  const d = daemon;
  if (!d.done) d.child.kill('SIGTERM');
  const t = setTimeout(() => { if (!d.done) d.child.kill('SIGKILL'); }, 60000);
  const r = await d.exited;
  clearTimeout(t);
  daemon = null;
  return r;
}

function client(port, opts = {}) {
  return new OSS({
    accessKeyId: AK,
    accessKeySecret: SK,
    bucket: BUCKET,
    region: 'oss-cn-hangzhou',
    endpoint: `http://127.0.0.1:${port}`,
    secure: false,
    timeout: 60000,
    ...opts,
  });
}

async function expectOssError(what, promise, status, code) {
  try {
    const r = await promise;
    assert.fail(`${what}: expected ${status} ${code}, got success ${r && r.res && r.res.status}`);
  } catch (e) {
    if (e.code === 'ERR_ASSERTION') throw e;
    assert.equal(e.status, status, `${what}: status ${e.status} (${e.code}: ${e.message})`);
    assert.equal(e.code, code, `${what}: code ${e.code} (${e.message})`);
    assert.ok(e.requestId && e.requestId.length > 0, `${what}: RequestId`);
    return e;
  }
}

/* Every regular file below dir, relative. */
function filesBelow(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p); else out.push(path.relative(dir, p));
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out.sort();
}

/* A raw HTTP request (for unsigned and hand-made requests). */
function raw(port, method, target, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: target, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

async function main() {
  const port = await startDaemon();
  const v1 = client(port);
  const v4 = client(port, { authorizationV4: true, sldEnable: true });
  const friday = fs.readFileSync(FRIDAY);
  const key = 'in/friday clip ü.mp4';

  // PutBucket makes the folder; a missing bucket is NoSuchBucket first.
  await expectOssError('put into a missing bucket', v1.put('x.txt', Buffer.from('x')), 404, 'NoSuchBucket');
  const pb = await v1.putBucket(BUCKET);
  assert.equal(pb.res.status, 200);
  assert.ok(fs.statSync(BUCKET_DIR).isDirectory(), 'the bucket is a folder of the store');

  // V1, virtual host: upload a real file from disk.
  let r = await v1.put(key, FRIDAY);
  assert.equal(r.res.status, 200);
  assert.equal(r.res.headers.etag.toLowerCase(), `"${md5hex(friday)}"`);
  assert.ok(/^[0-9A-F]{24}$/.test(r.res.headers['x-oss-request-id']), 'x-oss-request-id');
  const onDisk = path.join(BUCKET_DIR, 'in', 'friday clip ü.mp4');
  assert.ok(fs.readFileSync(onDisk).equals(friday), 'the object is the plain file, byte for byte');

  // head: size, ETag = MD5 of the file, Content-Type (ali-oss sends video/mp4 for .mp4), meta.
  await v1.put('in/meta.jpg', Buffer.from([0xff, 0xd8, 0xff, 0xd9]), { meta: { origin: 'probe' }, mime: 'image/jpeg' });
  for (const c of [v1, v4]) {
    r = await c.head(key);
    assert.equal(r.status, 200);
    assert.equal(Number(r.res.headers['content-length']), friday.length);
    assert.equal(r.res.headers.etag.toLowerCase(), `"${md5hex(friday)}"`);
    assert.equal(r.res.headers['content-type'], 'video/mp4');
    assert.ok(r.res.headers['last-modified'].endsWith(' GMT'));
  }
  r = await v1.head('in/meta.jpg');
  assert.equal(r.meta.origin, 'probe');
  assert.equal(r.res.headers['content-type'], 'image/jpeg');

  // get: whole, and ranges (206 + Content-Range), compared with the file.
  r = await v1.get(key);
  assert.equal(r.res.status, 200);
  assert.ok(r.content.equals(friday));
  for (const [range, start, end] of [['bytes=100-1099', 100, 1099], [`bytes=${friday.length - 10}-`, friday.length - 10, friday.length - 1], ['bytes=-500', friday.length - 500, friday.length - 1]]) {
    for (const c of [v1, v4]) {
      r = await c.get(key, { headers: { Range: range } });
      assert.equal(r.res.status, 206, range);
      assert.equal(r.res.headers['content-range'], `bytes ${start}-${end}/${friday.length}`);
      assert.ok(r.content.equals(friday.subarray(start, end + 1)), `${range}: bytes`);
    }
  }
  await expectOssError('unsatisfiable range', v1.get(key, { headers: { Range: `bytes=${friday.length}-` } }), 416, 'InvalidRange');

  // V4, path style: more objects for the listings.
  const small = { 'in/sub/a.txt': 'a', 'in/sub/b.txt': 'bb', 'in/c.txt': 'ccc', 'top.txt': 'top' };
  for (const [k, v] of Object.entries(small)) {
    r = await v4.put(k, Buffer.from(v));
    assert.equal(r.res.status, 200);
    assert.equal(fs.readFileSync(path.join(BUCKET_DIR, k), 'utf8'), v);
  }
  r = await v4.get('in/sub/b.txt');
  assert.equal(r.content.toString(), 'bb');
  assert.equal(r.res.headers['content-type'], 'text/plain');

  const allKeys = ['in/c.txt', key, 'in/meta.jpg', 'in/sub/a.txt', 'in/sub/b.txt', 'top.txt'].sort(
    (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  // list (V1): everything, then pages of 2 through NextMarker.
  r = await v1.list({ 'max-keys': 100 });
  assert.deepEqual(r.objects.map((o) => o.name), allKeys);
  const fo = r.objects.find((o) => o.name === key);
  assert.equal(fo.size, friday.length);
  assert.equal(fo.etag.toLowerCase(), `"${md5hex(friday)}"`);
  assert.equal(r.isTruncated, false);
  let seen = [];
  let marker = null;
  for (let pages = 0; pages < 10; pages++) {
    r = await v4.list({ 'max-keys': 2, ...(marker ? { marker } : {}) });
    seen.push(...r.objects.map((o) => o.name));
    assert.ok(r.objects.length <= 2);
    if (!r.isTruncated) break;
    marker = r.nextMarker;
  }
  assert.deepEqual(seen, allKeys);
  // prefix + delimiter: keys and common prefixes, paginated at max-keys 1.
  seen = [];
  const prefixes = [];
  marker = null;
  for (let pages = 0; pages < 10; pages++) {
    r = await v1.list({ prefix: 'in/', delimiter: '/', 'max-keys': 1, ...(marker ? { marker } : {}) });
    seen.push(...r.objects.map((o) => o.name));
    prefixes.push(...(r.prefixes || []));
    if (!r.isTruncated) break;
    marker = r.nextMarker;
  }
  assert.deepEqual(seen, ['in/c.txt', key, 'in/meta.jpg']);
  assert.deepEqual(prefixes, ['in/sub/']);

  // listV2: pages of 2 through the continuation token, then start-after.
  seen = [];
  let token = null;
  for (let pages = 0; pages < 10; pages++) {
    r = await v1.listV2({ 'max-keys': 2, ...(token ? { 'continuation-token': token } : {}) });
    seen.push(...r.objects.map((o) => o.name));
    if (!r.isTruncated) break;
    token = r.nextContinuationToken;
    assert.ok(token, 'NextContinuationToken');
  }
  assert.deepEqual(seen, allKeys);
  r = await v4.listV2({ prefix: 'in/', delimiter: '/', 'start-after': 'in/d', 'max-keys': 10 });
  assert.deepEqual(r.objects.map((o) => o.name), [key, 'in/meta.jpg']);
  assert.deepEqual(r.prefixes, ['in/sub/']);
  assert.equal(r.keyCount, 3);
  await expectOssError('list of a missing bucket', client(port, { bucket: 'no-such-bucket' }).list(), 404, 'NoSuchBucket');

  // delete: 204, then the key is gone (NoSuchKey), and deleting again is 204.
  r = await v1.delete('in/sub/a.txt');
  assert.equal(r.res.status, 204);
  let e = await expectOssError('get after delete', v1.get('in/sub/a.txt'), 404, 'NoSuchKey');
  assert.ok(!fs.existsSync(path.join(BUCKET_DIR, 'in/sub/a.txt')));
  r = await v4.delete('in/sub/a.txt');
  assert.equal(r.res.status, 204);
  r = await v4.delete('in/sub/b.txt');
  assert.ok(!fs.existsSync(path.join(BUCKET_DIR, 'in/sub')), 'emptied folders go with their last object');

  // A wrong secret: SignatureDoesNotMatch, with the string to sign echoed; nothing stored.
  for (const opts of [{}, { authorizationV4: true, sldEnable: true }]) {
    const bad = client(port, { accessKeySecret: 'wrong-secret', ...opts });
    e = await expectOssError('wrong secret', bad.put('in/x.txt', Buffer.from('x')), 403, 'SignatureDoesNotMatch');
    assert.ok(!fs.existsSync(path.join(BUCKET_DIR, 'in/x.txt')));
    e = await expectOssError('wrong secret get', bad.get(key), 403, 'SignatureDoesNotMatch');
  }
  const unknown = client(port, { accessKeyId: 'LTAInobody' });
  await expectOssError('unknown key', unknown.get(key), 403, 'InvalidAccessKeyId');

  // A bad Content-MD5: InvalidDigest, no object.
  e = await expectOssError('bad Content-MD5', v1.put('in/digest.bin', Buffer.from('some bytes'),
    { headers: { 'Content-MD5': crypto.createHash('md5').update('other bytes').digest('base64') } }), 400, 'InvalidDigest');
  assert.ok(!fs.existsSync(path.join(BUCKET_DIR, 'in/digest.bin')));

  // Over the size limit: EntityTooLarge, nothing left in the bucket folder.
  const before = filesBelow(BUCKET_DIR);
  for (const c of [v1, v4]) {
    await expectOssError('upload over the limit', c.put('big/over.ts', BIG), 400, 'EntityTooLarge');
    assert.deepEqual(filesBelow(BUCKET_DIR), before, 'no object and no temporary file');
    assert.ok(!fs.existsSync(path.join(BUCKET_DIR, 'big')));
  }
  // Streamed (chunked, no Content-Length): refused while streaming, nothing left either.
  await expectOssError('streamed upload over the limit',
    v4.putStream('big/stream.ts', fs.createReadStream(BIG)), 400, 'EntityTooLarge');
  assert.deepEqual(filesBelow(BUCKET_DIR), before);

  // Unsigned OSS requests: AccessDenied in OSS's XML, with x-oss-request-id.
  const host = `${BUCKET}.oss-cn-hangzhou.aliyuncs.com`;
  let h = await raw(port, 'GET', '/in/c.txt', { Host: host });
  assert.equal(h.status, 403);
  assert.equal(h.headers['content-type'], 'application/xml');
  assert.ok(h.headers['x-oss-request-id']);
  assert.match(h.body, /<Code>AccessDenied<\/Code>/);
  assert.match(h.body, new RegExp(`<RequestId>${h.headers['x-oss-request-id']}</RequestId>`));
  // Keys are confined to the bucket.
  // Keys are confined to the bucket (signed by hand: ali-oss itself normalises "..").
  for (const target of ['/in/%2E%2E/%2E%2E/x', '/in/../../x', '/a//b']) {
    const date = new Date().toUTCString();
    const resource = `/${BUCKET}/${decodeURIComponent(target.slice(1))}`;
    const sig = crypto.createHmac('sha1', SK).update(`GET\n\n\n${date}\n${resource}`).digest('base64');
    h = await raw(port, 'GET', target, { Host: host, Date: date, Authorization: `OSS ${AK}:${sig}` });
    assert.equal(h.status, 400, `${target}: ${h.body}`);
    assert.match(h.body, /<Code>InvalidObjectName<\/Code>/);
  }

  // x-oss-process with an action this server does not have: a clear OSS error.
  await expectOssError('x-oss-process', v1.get('in/meta.jpg', { process: 'image/resize,w_100' }), 400, 'InvalidArgument');
  r = await v1.processObjectSave('in/meta.jpg', 'out/t.jpg', 'image/resize,w_100');
  assert.equal(r.status, 400);

  // IMM beside OSS: health and the IMM 404 for unknown paths are unchanged.
  h = await raw(port, 'GET', '/healthz', {});
  assert.equal(h.status, 200);
  assert.equal(JSON.parse(h.body).Status, 'OK');
  h = await raw(port, 'GET', '/metrics', {});
  const m = /mediaconvertd_oss_requests_total (\d+)/.exec(h.body);
  assert.ok(m && Number(m[1]) > 30, 'OSS requests are counted');

  const st = await stopDaemon();
  assert.equal(st.code, 0, `daemon exit ${JSON.stringify(st)}`);
  const log = fs.readFileSync(LOG, 'utf8');
  assert.ok(!/AddressSanitizer|LeakSanitizer|runtime error/.test(log), `sanitizer report in the log:\n${log}`);
  fs.rmSync(DIR, { recursive: true, force: true });
  console.log('e2e_oss_sdk: all checks passed');
}

main().catch(async (err) => {
  console.error(err && err.stack ? err.stack : err);
  await stopDaemon().catch(() => {});
  try { console.error(`--- daemon log ---\n${fs.readFileSync(LOG, 'utf8').slice(-6000)}`); } catch (e) { /* none */ }
  process.exit(1);
});
